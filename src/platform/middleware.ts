import { createMiddleware } from "hono/factory";
import { cors } from "hono/cors";
import { AppError } from "./errors.ts";
import { createLogger } from "./logger.ts";
import { splitList, type AppEnv } from "./env.ts";

/** Requests slower than this are logged even when they succeed. */
const SLOW_REQUEST_MS = 1000;

/**
 * Per-request logger with the request id, and an access line for every request that failed (4xx/5xx)
 * or was slow. Fast successes are left to Workers Logs' own invocation records: a line per request
 * costs more than the webhook intake's whole critical path in local benchmarks.
 */
export const accessLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now();
  const logger = createLogger({ request_id: c.get("requestId") });
  c.set("logger", logger);
  await next();
  const duration = Date.now() - started;
  if (c.res.status < 400 && duration < SLOW_REQUEST_MS) return;
  const path = new URL(c.req.url).pathname;
  const fields = { method: c.req.method, path, status: c.res.status, duration_ms: duration };
  if (c.res.status >= 500) logger.error("request failed", fields);
  else if (c.res.status >= 400) logger.warn("request refused", fields);
  else logger.info("slow request", fields);
});

/** CORS only for ALLOWED_ORIGINS. */
export const corsForAllowedOrigins = createMiddleware<AppEnv>((c, next) => {
  const allowed = splitList(c.env.ALLOWED_ORIGINS);
  return cors({
    origin: (origin) => (allowed.includes(origin) ? origin : null),
    allowHeaders: ["Authorization", "Content-Type", "X-Request-Id", "X-D1-Bookmark"],
    exposeHeaders: ["X-Request-Id", "X-D1-Bookmark", "Retry-After"],
    allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    maxAge: 600,
  })(c, next);
});

/** API bodies are JSON: a body with another media type is a 415 (webhooks are exempt; they check their own). */
export const requireJsonBody = createMiddleware<AppEnv>(async (c, next) => {
  const method = c.req.method;
  if (method === "POST" || method === "PUT" || method === "PATCH") {
    const length = c.req.header("Content-Length");
    const hasBody = (length !== undefined && length !== "0") || c.req.header("Transfer-Encoding") !== undefined;
    const type = c.req.header("Content-Type") ?? "";
    if (hasBody && !/^application\/(.+\+)?json\s*(;|$)/i.test(type)) {
      throw new AppError("unsupported_media_type", "request body must be application/json");
    }
  }
  await next();
});
