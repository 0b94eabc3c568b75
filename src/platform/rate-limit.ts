import { createMiddleware } from "hono/factory";
import type { AppBindings, AppEnv } from "./env.ts";
import { AppError } from "./errors.ts";

/** The period of every per-user limiter in wrangler.toml (`simple.period`), and so the `Retry-After`. */
export const USER_RATE_LIMIT_PERIOD_SECONDS = 60;

/**
 * Per-user rate limit with a Workers Rate Limiting binding, keyed `<action>:<user id>` (so one binding
 * can hold several actions, each with its own count). Runs after `requireUser`. Over the limit → 429
 * `rate_limited` with `Retry-After`; a limiter that errors does not block the user (logged).
 */
export function limitPerUser(options: { limiter: (env: AppBindings) => RateLimit; action: string; message: string }) {
  return createMiddleware<AppEnv>(async (c, next) => {
    let success = true;
    try {
      ({ success } = await options.limiter(c.env).limit({ key: `${options.action}:${c.var.user.id}` }));
    } catch (error) {
      c.var.logger.warn("rate limiter unavailable; not limiting", { action: options.action, error: error instanceof Error ? error.message : String(error) });
    }
    if (!success) {
      throw new AppError("rate_limited", options.message, { headers: { "Retry-After": String(USER_RATE_LIMIT_PERIOD_SECONDS) } });
    }
    await next();
  });
}

/** Connecting, refreshing and deleting banks, and erasure: what a person does a few times, ever (CONNECTION_RATE_LIMITER). */
export const connectionLimit = (action: string, what: string) =>
  limitPerUser({ limiter: (env) => env.CONNECTION_RATE_LIMITER, action, message: `too many ${what} requests; try again in a minute` });
