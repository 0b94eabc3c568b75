import { createRoute } from "@hono/zod-openapi";
import { requireAdmin } from "../platform/auth.ts";
import { createRouter, dataOf, errorResponses, jsonContent } from "../platform/openapi.ts";
import { metricsQuery, metricsSchema } from "./category-sync.schemas.ts";
import { adminMetrics } from "./metrics.service.ts";

const metricsRoute = createRoute({
  method: "get",
  path: "/metrics",
  tags: ["Admin: metrics"],
  summary: "Category sync, webhook and reconciliation counts over a window, with an hourly (24h) or daily (7d, 30d) series",
  security: [{ bearerAuth: [] }],
  middleware: [requireAdmin] as const,
  request: { query: metricsQuery },
  responses: { 200: jsonContent(dataOf(metricsSchema), "Metrics"), 400: errorResponses[400], 401: errorResponses[401], 403: errorResponses[403] },
});

/** Admin: `GET /api/admin/metrics/?window=24h|7d|30d`. */
export const metricsAdminRoutes = createRouter().openapi(metricsRoute, async (c) =>
  c.json({ data: await adminMetrics(c.var.services, c.req.valid("query").window) }, 200),
);
