import { createRoute } from "@hono/zod-openapi";
import { requireAdmin, requireUser } from "../platform/auth.ts";
import { createRouter, dataOf, errorResponses, jsonContent } from "../platform/openapi.ts";
import { connectionLimit } from "../platform/rate-limit.ts";
import { erasureQueuedSchema, erasureUserParams } from "./erasure.schemas.ts";
import { requestErasure } from "./erasure.service.ts";

const WHAT_IS_ERASED =
  "Each of the user's items is deleted at Pluggy, then every local trace: the webhook events about their items with their raw bodies in R2, " +
  "their whole ledger (items, accounts, transactions, category-sync jobs), and their catalog entries (item directory, attention index). Runs in the background (queue); afterwards every list is empty for the user. " +
  "Repeating the request is harmless: a repeat within 10 minutes of the last request answers 202 and queues nothing new. Connections the user makes after the request are kept.";

const eraseMeRoute = createRoute({
  method: "delete",
  path: "/me",
  tags: ["Account"],
  summary: "Erase the caller: their items at Pluggy and all their data here",
  description: `${WHAT_IS_ERASED} Rate limited per user (429 with Retry-After).`,
  security: [{ bearerAuth: [] }],
  middleware: [requireUser, connectionLimit("me.erase", "erasure")] as const,
  responses: { 202: jsonContent(dataOf(erasureQueuedSchema), "Erasure queued"), 401: errorResponses[401], 429: errorResponses[429] },
});

const eraseUserRoute = createRoute({
  method: "delete",
  path: "/users/{user_id}",
  tags: ["Admin: erasure"],
  summary: "Erase a user by id, exactly as DELETE /api/banking/me/ would",
  description: `${WHAT_IS_ERASED} An unknown user id is accepted too (there is simply nothing to erase).`,
  security: [{ bearerAuth: [] }],
  middleware: [requireAdmin] as const,
  request: { params: erasureUserParams },
  responses: { 202: jsonContent(dataOf(erasureQueuedSchema), "Erasure queued"), 400: errorResponses[400], 401: errorResponses[401], 403: errorResponses[403] },
});

/** User: `DELETE /api/banking/me/` (mounted under /api/banking). */
export const erasureRoutes = createRouter().openapi(eraseMeRoute, async (c) => {
  await requestErasure(c.var.services, c.var.user.id);
  return c.json({ data: { status: "queued" as const } }, 202);
});

/** Admin: `DELETE /api/admin/users/{user_id}/` (mounted under /api/admin). */
export const erasureAdminRoutes = createRouter().openapi(eraseUserRoute, async (c) => {
  await requestErasure(c.var.services, c.req.valid("param").user_id);
  return c.json({ data: { status: "queued" as const } }, 202);
});
