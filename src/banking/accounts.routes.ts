import { createRoute, z } from "@hono/zod-openapi";
import { requireUser } from "../platform/auth.ts";
import { bookmarkParameter, bookmarkResponseHeaders, readSession } from "../platform/d1-session.ts";
import { createRouter, errorResponses, jsonContent, listOf } from "../platform/openapi.ts";
import { accountSchema, cursorParam, limitParam } from "./banking.schemas.ts";
import { listAccounts } from "./accounts.service.ts";

/** Query of the account list; unknown parameters are refused, not ignored. */
export const accountListQuery = z
  .object({
    item_id: z.guid().optional().openapi({ description: "Only this item's accounts (uuid)" }),
    limit: limitParam,
    cursor: cursorParam,
  })
  .strict();

const listRoute = createRoute({
  method: "get",
  path: "/accounts",
  tags: ["Accounts"],
  summary: "The caller's accounts (keyset cursor)",
  description: "Grouped by item: ordered by `item_id`, then `id`. Another user's `item_id` yields an empty list.",
  security: [{ bearerAuth: [] }],
  middleware: [requireUser, readSession] as const,
  parameters: [bookmarkParameter],
  request: { query: accountListQuery },
  responses: {
    200: { ...jsonContent(listOf(accountSchema), "A page of accounts"), headers: bookmarkResponseHeaders },
    400: errorResponses[400],
    401: errorResponses[401],
  },
});

export const accountRoutes = createRouter().openapi(listRoute, async (c) => {
  const query = c.req.valid("query");
  const { data, nextCursor } = await listAccounts(c.var.services, c.var.user.id, { itemId: query.item_id, limit: query.limit, cursor: query.cursor });
  return c.json({ data, next_cursor: nextCursor }, 200);
});
