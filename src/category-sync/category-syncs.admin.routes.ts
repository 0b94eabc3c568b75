import { createRoute } from "@hono/zod-openapi";
import { requireAdmin } from "../platform/auth.ts";
import { adminAuthErrors, bearerSecurity, createRouter, dataOf, errorResponses, jsonContent, listOf } from "../platform/openapi.ts";
import { categorySyncJobSchema, categorySyncListQuery, jobIdParams, queuedSchema, redriveBody } from "./category-sync.schemas.ts";
import { listCategorySyncJobs, redriveCategorySyncs, retryCategorySync } from "./sync-jobs.service.ts";

const tags = ["Admin: category syncs"];

const listRoute = createRoute({
  method: "get",
  path: "/category-syncs",
  tags,
  summary: "Category sync jobs, most recently changed first (filter by status; keyset cursor)",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { query: categorySyncListQuery },
  responses: { 200: jsonContent(listOf(categorySyncJobSchema), "A page of sync jobs"), 400: errorResponses[400], ...adminAuthErrors },
});

const retryRoute = createRoute({
  method: "post",
  path: "/category-syncs/{id}/retry",
  tags,
  summary: "Put one sync job back to pending and queue it now",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { params: jobIdParams },
  responses: { 202: jsonContent(dataOf(queuedSchema), "Queued"), ...adminAuthErrors, 404: errorResponses[404] },
});

const redriveRoute = createRoute({
  method: "post",
  path: "/category-syncs/redrive",
  tags,
  summary: "Re-queue dead or failed sync jobs (oldest first, up to limit)",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { body: { content: { "application/json": { schema: redriveBody } }, required: true } },
  responses: { 202: jsonContent(dataOf(queuedSchema), "How many were queued"), 400: errorResponses[400], ...adminAuthErrors, 415: errorResponses[415] },
});

/** Admin: the category-sync outbox (inspect, retry one, redrive many). */
export const categorySyncsAdminRoutes = createRouter()
  .openapi(listRoute, async (c) => {
    const query = c.req.valid("query");
    const { data, nextCursor } = await listCategorySyncJobs(c.var.services, { status: query.status, limit: query.limit, cursor: query.cursor });
    return c.json({ data, next_cursor: nextCursor }, 200);
  })
  .openapi(redriveRoute, async (c) => {
    const body = c.req.valid("json");
    const queued = await redriveCategorySyncs(c.var.services, { status: body.status, limit: body.limit });
    return c.json({ data: { queued } }, 202);
  })
  .openapi(retryRoute, async (c) => {
    const queued = await retryCategorySync(c.var.services, c.req.valid("param").id);
    return c.json({ data: { queued } }, 202);
  });
