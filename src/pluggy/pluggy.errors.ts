/**
 * A failed Pluggy call: HTTP status (0 for a network failure or timeout), Pluggy's stable
 * `codeDescription` when it sent one, and its message.
 */
export class PluggyError extends Error {
  readonly status: number;
  readonly codeDescription: string | undefined;
  /** Seconds Pluggy asked us to wait (`RateLimit-Reset`, else `Retry-After`) on a 429. */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, message: string, options: { codeDescription?: string; retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "PluggyError";
    this.status = status;
    this.codeDescription = options.codeDescription;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** Worth retrying later: network/timeouts (0), 408, 409 (state conflict), 429 and 5xx. */
  get transient(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 409 || this.status === 429 || this.status >= 500;
  }

  /** A short reason for operators: "429 RATE_LIMIT: Too many requests". */
  get reason(): string {
    return `${this.status}${this.codeDescription ? ` ${this.codeDescription}` : ""}: ${this.message}`;
  }
}
