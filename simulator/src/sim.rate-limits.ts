/*
 * Pluggy's published rate limits: per endpoint, per source IP, per minute (all of a client's servers
 * behind one egress address share them). Pluggy documents these and says the others are unpublished,
 * so the simulator limits exactly these. `GET /v2/transactions` is not listed separately; the
 * simulator counts it with `GET /transactions` (the stricter reading: code that stays under it also
 * stays under Pluggy's, whichever way Pluggy counts).
 */

export interface RateLimitRule {
  /** Shown in docs and tests. */
  name: string;
  method: string;
  path: RegExp;
  perMinute: number;
}

export const PLUGGY_RATE_LIMITS: readonly RateLimitRule[] = [
  { name: "POST /auth", method: "POST", path: /^\/auth\/?$/, perMinute: 360 },
  { name: "GET /accounts, /accounts/{id}", method: "GET", path: /^\/accounts(\/[^/]+)?\/?$/, perMinute: 360 },
  { name: "GET /transactions, /transactions/{id}, /v2/transactions", method: "GET", path: /^(\/v2)?\/transactions(\/[^/]+)?\/?$/, perMinute: 360 },
  { name: "PATCH /items/{id}", method: "PATCH", path: /^\/items\/[^/]+\/?$/, perMinute: 20 },
];

const WINDOW_MS = 60_000;

/** The published limit that covers this request, if any. */
export const rateLimitRuleFor = (method: string, pathname: string): RateLimitRule | undefined =>
  PLUGGY_RATE_LIMITS.find((rule) => rule.method === method && rule.path.test(pathname));

/** The caller's address as a Worker sees it (`CF-Connecting-IP`, which `wrangler dev` sets too). */
export function sourceAddress(headers: Headers): string {
  return headers.get("CF-Connecting-IP") ?? headers.get("X-Forwarded-For")?.split(",")[0]?.trim() ?? "unknown";
}

/**
 * Fixed one-minute windows per (rule, address), like Pluggy's: every request counts, and once a
 * window holds `perMinute` requests the rest of it is refused with the seconds left until it resets.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { startedAt: number; count: number }>();

  constructor(private readonly now: () => number) {}

  /** The rule that refuses this request and the seconds until its window resets, or undefined to let it through. */
  check(method: string, pathname: string, address: string, limitOf: (rule: RateLimitRule) => number): { limit: number; resetSeconds: number } | undefined {
    const rule = rateLimitRuleFor(method, pathname);
    if (!rule) return undefined;
    const now = this.now();
    const key = `${rule.name}|${address}`;
    let window = this.windows.get(key);
    if (!window || now - window.startedAt >= WINDOW_MS) {
      window = { startedAt: now, count: 0 };
      this.windows.set(key, window);
      this.forgetExpired(now);
    }
    window.count += 1;
    const limit = limitOf(rule);
    if (window.count <= limit) return undefined;
    return { limit, resetSeconds: Math.max(1, Math.ceil((window.startedAt + WINDOW_MS - now) / 1000)) };
  }

  private forgetExpired(now: number): void {
    if (this.windows.size < 1024) return;
    for (const [key, window] of this.windows) if (now - window.startedAt >= WINDOW_MS) this.windows.delete(key);
  }
}
