export interface BackoffOptions {
  /** First delay, in seconds. */
  baseSeconds: number;
  /** Largest delay, in seconds (before jitter). */
  capSeconds: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

export const QUEUE_BACKOFF: BackoffOptions = { baseSeconds: 5, capSeconds: 300 };

/**
 * Exponential, capped, jittered delay: `min(cap, base × 2^(attempt−1)) × (0.5 + random/2)`, at least
 * `floorSeconds` (e.g. Pluggy's `RateLimit-Reset`). Whole seconds, because queue delays are whole seconds.
 */
export function backoffSeconds(attempt: number, options: BackoffOptions, floorSeconds = 0): number {
  const random = options.random ?? Math.random;
  const exponent = Math.max(0, Math.min(attempt, 30) - 1);
  const raw = Math.min(options.capSeconds, options.baseSeconds * 2 ** exponent);
  const jittered = raw * (0.5 + random() / 2);
  return Math.max(1, Math.ceil(Math.max(jittered, floorSeconds)));
}

function seconds(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
}

/**
 * `defaults` with its base and cap taken from vars in seconds when set (unset or invalid → the default;
 * the base is at least 1 s, the cap at least the base). Tests set them to a second, because queue
 * delays in workerd are real time.
 */
export function backoffFromVars(baseSeconds: string | undefined, capSeconds: string | undefined, defaults: BackoffOptions = QUEUE_BACKOFF): BackoffOptions {
  const base = Math.max(1, seconds(baseSeconds) ?? defaults.baseSeconds);
  const cap = Math.max(base, seconds(capSeconds) ?? defaults.capSeconds);
  return { ...defaults, baseSeconds: base, capSeconds: cap };
}
