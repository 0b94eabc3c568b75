import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { bodyLimit } from "hono/body-limit";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AppError, ConfigurationError, errorBody, type ErrorCode } from "./platform/errors.ts";
import { createLogger } from "./platform/logger.ts";
import { accessLog, corsForAllowedOrigins, requireJsonBody } from "./platform/middleware.ts";
import { createRouter } from "./platform/openapi.ts";
import { services } from "./platform/services.ts";
import { renderApiReference } from "./platform/api-reference.page.tsx";
import { swaggerUiPage } from "./platform/swagger-ui.page.ts";
import { healthRoutes } from "./platform/health.routes.ts";
import { bankingRoutes } from "./banking/banking.index.ts";
import { connectRoutes } from "./connect/connect.index.ts";
import { webhookRoutes } from "./webhooks/webhooks.index.ts";
import { categorySyncRoutes } from "./category-sync/category-sync.index.ts";
import { adminRoutes } from "./admin/admin.index.ts";
import { erasureRoutes } from "./erasure/erasure.routes.ts";
import { createConsoleRoutes } from "./admin/console/console.index.ts";

const WEBHOOK_PATH = /^\/api\/banking\/pluggy\/webhook\/?$/;
const API_BODY_LIMIT = 64 * 1024;

const STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: "validation_error",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
};

/**
 * Builds the whole HTTP app: request id, access log, security headers, CORS, body limits, the error
 * envelope for every failure, OpenAPI at /openapi.json and /docs, and each domain's router.
 */
export function createApp() {
  const app = createRouter();

  app.use("*", requestId({ limitLength: 128 }));
  app.use("*", accessLog);
  app.use("*", secureHeaders());
  app.use("/api/*", corsForAllowedOrigins);
  app.use("/api/*", services);
  app.use("/api/*", async (c, next) => {
    if (WEBHOOK_PATH.test(new URL(c.req.url).pathname)) return next();
    return bodyLimit({
      maxSize: API_BODY_LIMIT,
      onError: () => {
        throw new AppError("payload_too_large", `request body exceeds ${API_BODY_LIMIT} bytes`);
      },
    })(c, async () => {
      await requireJsonBody(c, next);
    });
  });

  app.onError((error, c) => {
    const requestId = c.get("requestId") ?? "unknown";
    if (error instanceof AppError) {
      if (error.headers) for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
      return c.json(errorBody(error.code, error.message, requestId, error.details), error.status);
    }
    if (error instanceof HTTPException && error.status < 500) {
      const malformed = /malformed json|unexpected end of json|json/i.test(error.message) && error.status === 400;
      const code: ErrorCode = malformed ? "invalid_json" : (STATUS_CODES[error.status] ?? "validation_error");
      const message = malformed ? "request body is not valid JSON" : error.message || code;
      return c.json(errorBody(code, message, requestId), error.status as ContentfulStatusCode);
    }
    const logger = c.get("logger") ?? createLogger({ request_id: requestId });
    if (error instanceof ConfigurationError) {
      // The operator's problem, named in the log; the caller learns only that it is ours.
      logger.error("configuration error", { error: error.message });
      return c.json(errorBody("internal_error", "internal error", requestId), 500);
    }
    logger.error("unhandled error", {
      error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error),
    });
    return c.json(errorBody("internal_error", "internal error", requestId), 500);
  });

  // A path that exists with other methods is a 405 naming them in `Allow`, not a misleading 404.
  let allowedMethods: ((path: string) => string[]) | undefined;
  app.notFound((c) => {
    allowedMethods ??= methodsByPath(app.routes);
    const allow = allowedMethods(c.req.path);
    const requestId = c.get("requestId") ?? "unknown";
    if (allow.length > 0 && !allow.includes(c.req.method)) {
      c.header("Allow", allow.join(", "));
      return c.json(errorBody("method_not_allowed", `${c.req.method} is not allowed here; use ${allow.join(", ")}`, requestId), 405);
    }
    return c.json(errorBody("not_found", "route not found", requestId), 404);
  });

  const routes = app
    .route("/", healthRoutes)
    .route("/api/banking", bankingRoutes)
    .route("/api/banking", connectRoutes)
    .route("/api/banking", webhookRoutes)
    .route("/api/banking", categorySyncRoutes)
    .route("/api/banking", erasureRoutes)
    .route("/api/admin", adminRoutes)
    // The console calls the admin API in-process through this same app (no HTTP hop).
    .route("/admin", createConsoleRoutes((request, env, ctx) => app.fetch(request, env, ctx)));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer", bearerFormat: "JWT" });
  const openApiConfig = {
    openapi: "3.1.0",
    info: {
      title: "Finance Hub Edge API",
      version: "1.0.0",
      description: "Banking back end: Pluggy connections, accounts, transactions, categories, webhooks and operations.",
    },
  };
  app.doc31("/openapi.json", openApiConfig);
  app.get("/docs", (c) => c.html(renderApiReference(app.getOpenAPI31Document(openApiConfig) as unknown as Record<string, unknown>)));
  app.get("/docs/swagger", (c) => swaggerUiPage(c, "/openapi.json"));

  return routes;
}

export type AppType = ReturnType<typeof createApp>;

/** Route table → a lookup from a concrete path to the methods registered for it (ignoring a trailing slash). */
function methodsByPath(routes: ReadonlyArray<{ method: string; path: string }>): (path: string) => string[] {
  const patterns = routes
    .filter((route) => route.method !== "ALL" && !route.path.includes("*"))
    .map((route) => {
      const source = route.path
        .replace(/\/+$/, "")
        .split("/")
        .map((segment) => (segment.startsWith(":") ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
        .join("/");
      return { method: route.method, regex: new RegExp(`^${source}/?$`) };
    });
  return (path) => {
    const methods = new Set(patterns.filter((p) => p.regex.test(path)).map((p) => p.method));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  };
}
