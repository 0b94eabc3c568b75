import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/platform/logger.ts";
import { checkRateLimit, LOCAL_ALLOWANCE, RATE_LIMIT_PERIOD_SECONDS } from "../../src/webhooks/intake-rate-limit.ts";
import { uniqueIp } from "./support.ts";

/** The real limiter binding, counting the calls that reach it. */
function countingLimiter(answer?: boolean) {
  const calls: string[] = [];
  const limiter: RateLimit = {
    async limit(options) {
      calls.push(options.key);
      const real = await env.WEBHOOK_RATE_LIMITER.limit(options);
      return answer === undefined ? real : { success: answer };
    },
  };
  return { limiter, calls };
}

const logger = createLogger();

describe("checkRateLimit", () => {
  it("does not ask the limiter for an address's first deliveries of the period, then asks every time", async () => {
    const { limiter, calls } = countingLimiter();
    const ip = uniqueIp();
    const now = Date.now();
    for (let i = 0; i < LOCAL_ALLOWANCE; i++) {
      const check = checkRateLimit({ limiter: limiter, logger }, ip, now);
      expect(check.trusted).toBe(true);
      expect(await check.verdict).toBe(true);
    }
    expect(calls).toEqual([]);
    const beyond = checkRateLimit({ limiter: limiter, logger }, ip, now);
    expect(await beyond.verdict).toBe(true);
    expect(calls).toEqual([`webhook:${ip}`]);
    // A new period starts a new allowance.
    checkRateLimit({ limiter: limiter, logger }, ip, now + RATE_LIMIT_PERIOD_SECONDS * 1000);
    expect(calls).toHaveLength(1);
  });

  it("holds an address found over the limit to the limiter's verdict until it recovers", async () => {
    const over = countingLimiter(false);
    const ip = uniqueIp();
    const now = Date.now();
    for (let i = 0; i < LOCAL_ALLOWANCE; i++) checkRateLimit({ limiter: over.limiter, logger }, ip, now);
    const first = checkRateLimit({ limiter: over.limiter, logger }, ip, now);
    expect(first.trusted).toBe(true);
    expect(await first.verdict).toBe(false);
    const next = checkRateLimit({ limiter: over.limiter, logger }, ip, now + 1);
    expect(next.trusted).toBe(false);
    expect(await next.verdict).toBe(false);

    // While suspect there is no free allowance: every delivery asks, until the limiter says yes again.
    const recovered = countingLimiter(true);
    const later = checkRateLimit({ limiter: recovered.limiter, logger }, ip, now + 2);
    expect(later.trusted).toBe(false);
    expect(await later.verdict).toBe(true);
    expect(checkRateLimit({ limiter: recovered.limiter, logger }, ip, now + 3).trusted).toBe(true);
  });

  it("fails open when the limiter errors", async () => {
    const ip = uniqueIp();
    const broken: RateLimit = { limit: () => Promise.reject(new Error("limiter down")) };
    for (let i = 0; i < LOCAL_ALLOWANCE; i++) checkRateLimit({ limiter: broken, logger }, ip);
    expect(await checkRateLimit({ limiter: broken, logger }, ip).verdict).toBe(true);
  });
});
