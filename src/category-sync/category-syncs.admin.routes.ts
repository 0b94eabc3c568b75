import { createRoute } from "@hono/zod-openapi";
import { requireAdmin } from "../platform/auth.ts";
import { adminAuthErrors, bearerSecurity, createRouter, dataOf, errorResponses, jsonContent, listOf } from "../platform/openapi.ts";
import { categorySyncJobSchema, categorySyncListQuery, jobIdParams, queuedSchema, redriveBody, retryQuery } from "./category-sync.schemas.ts";
import { listCategorySyncJobs, redriveCategorySyncs, retryCategorySync } from "./sync-jobs.service.ts";

const tags = ["Admin: category syncs"];

const listRoute = createRoute({
  method: "get",
  path: "/category-syncs",
  tags,
  summary: "Category sync jobs: globally those needing attention, or one user's (filter by status and user_id; keyset cursor)",
  description:
    "Without `user_id`: every job needing an operator, whatever the number of users: `failed`, `dead`, and `pending` for more than 10 minutes, " +
    "newest in its status first (`status` narrows to one of them; any other status is a 400 asking for `user_id`). " +
    "With `user_id`: that user's jobs in any status, most recently changed first.",
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
  description: "A failed, dead or long-pending job is found by its id alone; any other job needs its owner's `user_id`.",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { params: jobIdParams, query: retryQuery },
  responses: { 202: jsonContent(dataOf(queuedSchema), "Queued"), 400: errorResponses[400], ...adminAuthErrors, 404: errorResponses[404] },
});

const redriveRoute = createRoute({
  method: "post",
  path: "/category-syncs/redrive",
  tags,
  summary: "Re-queue dead or failed sync jobs (oldest first, up to limit), across every user",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { body: { content: { "application/json": { schema: redriveBody } }, required: true } },
  responses: { 202: jsonContent(dataOf(queuedSchema), "How many were queued"), 400: errorResponses[400], ...adminAuthErrors, 415: errorResponses[415] },
});

/** Admin: the category-sync outbox (inspect, retry one, redrive many). */
export const categorySyncsAdminRoutes = createRouter()
  .openapi(listRoute, async (c) => {
    const query = c.req.valid("query");
    const { data, nextCursor } = await listCategorySyncJobs(c.var.services, { status: query.status, userId: query.user_id, limit: query.limit, cursor: query.cursor });
    return c.json({ data, next_cursor: nextCursor }, 200);
  })
  .openapi(redriveRoute, async (c) => {
    const body = c.req.valid("json");
    const queued = await redriveCategorySyncs(c.var.services, { status: body.status, limit: body.limit });
    return c.json({ data: { queued } }, 202);
  })
  .openapi(retryRoute, async (c) => {
    const queued = await retryCategorySync(c.var.services, { jobId: c.req.valid("param").id, userId: c.req.valid("query").user_id });
    return c.json({ data: { queued } }, 202);
  });
