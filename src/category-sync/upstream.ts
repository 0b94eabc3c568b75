import { PluggyError } from "../pluggy/pluggy.errors.ts";
import { AppError } from "../platform/errors.ts";

/**
 * A failed Pluggy call made while answering an HTTP request → the contract's 502/503 (transient
 * failures are `upstream_unavailable`, others `upstream_error`), quoting Pluggy's reason but nothing else.
 */
export function upstreamFailure(error: unknown): AppError {
  if (error instanceof PluggyError) {
    return new AppError(error.transient ? "upstream_unavailable" : "upstream_error", `Pluggy: ${error.reason}`, { cause: error });
  }
  return new AppError("upstream_error", "Pluggy call failed", { cause: error });
}
