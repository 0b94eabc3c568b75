import type { Logger } from "../platform/logger.ts";

/**
 * How long this isolate trusts an address whose latest limiter verdict was "under the limit": the
 * limiter's period (wrangler.toml `[[ratelimits]]`, 60 s).
 */
export const RATE_LIMIT_PERIOD_SECONDS = 60;
const MAX_TRACKED = 10_000;

/* Per isolate: address → until when its latest verdict ("allowed") is trusted. */
const allowedUntil = new Map<string, number>();

export interface LimitCheck {
  /** Resolves false once the limiter says the address is over its limit (fails open on limiter errors). */
  verdict: Promise<boolean>;
  /**
   * True when the latest verdict this isolate saw for the address, within the period, was "allowed":
   * an authenticated delivery then goes ahead without waiting for this call's verdict. The Workers rate
   * limiter is approximate by design; this adds at most the deliveries already in flight when an
   * address crosses its limit, and keeps the limiter's round trip off the intake's critical path.
   */
  trusted: boolean;
}

/** Asks WEBHOOK_RATE_LIMITER about `address` and remembers the answer for the next delivery. */
export function checkRateLimit(limiter: RateLimit, address: string, logger: Logger, now: number = Date.now()): LimitCheck {
  const key = `webhook:${address}`;
  const trusted = (allowedUntil.get(key) ?? 0) > now;
  const verdict = limiter.limit({ key }).then(
    ({ success }) => {
      if (success) {
        if (allowedUntil.size >= MAX_TRACKED) allowedUntil.clear();
        allowedUntil.set(key, Date.now() + RATE_LIMIT_PERIOD_SECONDS * 1000);
      } else {
        allowedUntil.delete(key);
      }
      return success;
    },
    (error: unknown) => {
      logger.warn("webhook rate limiter unavailable; not limiting", { error });
      return true;
    },
  );
  return { verdict, trusted };
}
