import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The closed vocabulary of error codes (docs/http-api.md, "Errors"), with their HTTP status. */
export const ERROR_STATUS = {
  validation_error: 400,
  invalid_json: 400,
  unauthorized: 401,
  invalid_signature: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  upstream_error: 502,
  upstream_unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** One entry of `error.details`: which field was wrong and why. */
export interface ErrorDetail {
  field: string;
  message: string;
}

/**
 * The only error type services throw for an expected failure. `onError` renders it as the contract's
 * envelope; anything else becomes a bare 500 `internal_error`.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: ContentfulStatusCode;
  readonly details: ErrorDetail[] | undefined;
  /** Extra response headers, e.g. `Retry-After` on 429. */
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: ErrorDetail[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = options.details;
    this.headers = options.headers;
  }
}

/**
 * A deployment that is configured in a way the service refuses to run with (a required variable
 * missing, a secret too short). Never shown to the caller: `onError` logs the message, which names
 * what to fix, and answers a bare 500 `internal_error`.
 */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigurationError";
  }
}

export const notFound = (what = "resource"): AppError => new AppError("not_found", `${what} not found`);

export const validationError = (field: string, message: string): AppError =>
  new AppError("validation_error", `${field}: ${message}`, { details: [{ field, message }] });

/** The error envelope body (`{"error": {...}}`). */
export function errorBody(
  code: ErrorCode,
  message: string,
  requestId: string,
  details?: ErrorDetail[],
): { error: { code: ErrorCode; message: string; details?: ErrorDetail[]; request_id: string } } {
  return { error: { code, message, ...(details && details.length > 0 ? { details } : {}), request_id: requestId } };
}
