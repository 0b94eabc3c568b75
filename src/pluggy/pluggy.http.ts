import { AppError } from "../platform/errors.ts";
import type { Logger } from "../platform/logger.ts";
import { PluggyError } from "./pluggy.errors.ts";

/** Pluggy's refusals to start an item update now: answered to our caller as 409 with Pluggy's reason. */
export const PLUGGY_UPDATE_REFUSALS = new Set(["CLIENT_IS_UPDATING_BEFORE_ALLOWED_FREQUENCY", "ITEM_IS_ALREADY_UPDATING"]);

const DEFAULT_RETRY_AFTER_SECONDS = 60;

/** "Pluggy: Item is already updating (ITEM_IS_ALREADY_UPDATING)": what Pluggy said, without our internals. */
function pluggyReason(error: PluggyError): string {
  return `Pluggy: ${error.message}${error.codeDescription ? ` (${error.codeDescription})` : ""}`;
}

/**
 * The one mapping from a failed Pluggy call (made while answering an HTTP request) to the contract's
 * envelope, so every route answers Pluggy trouble the same way:
 * - 429 → 429 `rate_limited` with `Retry-After` (Pluggy's RateLimit-Reset) and Pluggy's reason;
 * - 409, or an update refused for frequency / already updating → 409 `conflict` with Pluggy's reason;
 * - timeouts, network failures and 503 → 503 `upstream_unavailable` (with `Retry-After` when Pluggy sent one);
 * - anything else (its 4xx/5xx, an unexpected body) → 502 `upstream_error`, naming only status and code.
 * Callers handle the statuses that mean something in their context first (e.g. a 404 on delete).
 * Anything that is not a PluggyError is returned unchanged (it becomes a 500).
 */
export function pluggyErrorToAppError(error: unknown, logger?: Logger): unknown {
  if (!(error instanceof PluggyError)) return error;
  logger?.warn("pluggy call failed", { status: error.status, code_description: error.codeDescription, pluggy_message: error.message });
  if (error.status === 429) {
    const retryAfter = String(error.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS);
    return new AppError("rate_limited", `${pluggyReason(error)}; retry after ${retryAfter} s`, { headers: { "Retry-After": retryAfter }, cause: error });
  }
  if (error.status === 409 || (error.codeDescription && PLUGGY_UPDATE_REFUSALS.has(error.codeDescription))) {
    return new AppError("conflict", pluggyReason(error), { cause: error });
  }
  if (error.status === 0 || error.status === 503) {
    const timedOut = error.codeDescription === "TIMEOUT";
    return new AppError("upstream_unavailable", timedOut ? "Pluggy did not answer in time" : "Pluggy is unavailable, try again later", {
      ...(error.retryAfterSeconds !== undefined ? { headers: { "Retry-After": String(error.retryAfterSeconds) } } : {}),
      cause: error,
    });
  }
  return new AppError("upstream_error", `Pluggy request failed (${error.status}${error.codeDescription ? ` ${error.codeDescription}` : ""})`, { cause: error });
}
