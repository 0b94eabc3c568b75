import type { Logger } from "../platform/logger.ts";

/** The limiter's period (wrangler.toml `[[ratelimits]]`): how long an address over its limit stays suspect. */
export const RATE_LIMIT_PERIOD_SECONDS = 60;
/**
 * Deliveries per address, per isolate and period, that are not sent to the limiter: 5 % of its limit
 * (600 per 60 s). Any address under it here would be under the limit too, so asking costs a round trip
 * for nothing; a flood crosses it within moments and is metered from then on.
 */
export const LOCAL_ALLOWANCE = 30;
const MAX_TRACKED = 10_000;

interface AddressState {
  /** Start of the current local window (ms). */
  windowStart: number;
  /** Deliveries seen in this isolate during the window. */
  seen: number;
  /** Until when deliveries must wait for the limiter (its latest verdict was "over the limit"). */
  limitedUntil: number;
}

/* Per isolate. Cleared wholesale when it grows too large (it only holds an optimization's state). */
const addresses = new Map<string, AddressState>();

export interface LimitCheck {
  /** Resolves false once the limiter says the address is over its limit (fails open on limiter errors). */
  verdict: Promise<boolean>;
  /**
   * False when the latest verdict this isolate saw for the address, within the period, was "over the
   * limit": its deliveries then wait for this call's verdict. Otherwise an authenticated delivery goes
   * ahead without waiting, which keeps the limiter's round trip off the intake's critical path.
   */
  trusted: boolean;
}

const ALLOWED: LimitCheck = { verdict: Promise.resolve(true), trusted: true };

/**
 * Rate limit per source address with WEBHOOK_RATE_LIMITER, at the lowest cost to intake: an address's
 * first LOCAL_ALLOWANCE deliveries per period in this isolate are not sent to the limiter, and beyond
 * that its verdict is awaited only once the address has been found over the limit. What can slip
 * through: the deliveries already in flight when an address crosses the limit, and, for an address
 * spread over many isolates, up to LOCAL_ALLOWANCE per isolate — within the slack of a limiter that is
 * approximate and per-location by design.
 */
export function checkRateLimit({ limiter, logger }: { limiter: RateLimit; logger: Logger }, address: string, now: number = Date.now()): LimitCheck {
  const key = `webhook:${address}`;
  let state = addresses.get(key);
  if (!state || now - state.windowStart >= RATE_LIMIT_PERIOD_SECONDS * 1000) {
    if (!state && addresses.size >= MAX_TRACKED) addresses.clear();
    state = { windowStart: now, seen: 0, limitedUntil: state?.limitedUntil ?? 0 };
    addresses.set(key, state);
  }
  state.seen += 1;
  const trusted = state.limitedUntil <= now;
  if (trusted && state.seen <= LOCAL_ALLOWANCE) return ALLOWED;

  const tracked = state;
  const verdict = limiter.limit({ key }).then(
    ({ success }) => {
      tracked.limitedUntil = success ? 0 : Date.now() + RATE_LIMIT_PERIOD_SECONDS * 1000;
      return success;
    },
    (error: unknown) => {
      logger.warn("webhook rate limiter unavailable; not limiting", { error });
      return true;
    },
  );
  return { verdict, trusted };
}
