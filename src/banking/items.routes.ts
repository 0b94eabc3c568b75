import { createRoute, z } from "@hono/zod-openapi";
import { requireUser } from "../platform/auth.ts";
import { bookmarkParameter, bookmarkResponseHeaders, readSession } from "../platform/d1-session.ts";
import { createRouter, errorResponses, jsonContent, listOf } from "../platform/openapi.ts";
import { cursorParam, itemSchema, limitParam } from "./banking.schemas.ts";
import { listItems } from "./items.service.ts";

/** Query of the item list; unknown parameters are refused, not ignored. */
export const itemListQuery = z.object({ limit: limitParam, cursor: cursorParam }).strict();

const listRoute = createRoute({
  method: "get",
  path: "/items",
  tags: ["Items"],
  summary: "The caller's bank connections (keyset cursor)",
  description: "Most recently registered first (ties by id).",
  security: [{ bearerAuth: [] }],
  middleware: [requireUser, readSession] as const,
  parameters: [bookmarkParameter],
  request: { query: itemListQuery },
  responses: {
    200: { ...jsonContent(listOf(itemSchema), "A page of items"), headers: bookmarkResponseHeaders },
    400: errorResponses[400],
    401: errorResponses[401],
  },
});

export const itemRoutes = createRouter().openapi(listRoute, async (c) => {
  const query = c.req.valid("query");
  const { data, nextCursor } = await listItems(c.var.services, c.var.user.id, { limit: query.limit, cursor: query.cursor });
  return c.json({ data, next_cursor: nextCursor }, 200);
});
