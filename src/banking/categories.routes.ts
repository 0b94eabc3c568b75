import { createRoute, z } from "@hono/zod-openapi";
import { requireUser } from "../platform/auth.ts";
import { bookmarkParameter, bookmarkResponseHeaders, readSession } from "../platform/d1-session.ts";
import { createRouter, errorResponses, jsonContent } from "../platform/openapi.ts";
import { categorySchema } from "./banking.schemas.ts";
import { listCategories } from "./categories.service.ts";

/** No parameters: the whole tree comes in one page, so `limit`/`cursor` (like anything else) are refused. */
const categoryListQuery = z.object({}).strict();

const listRoute = createRoute({
  method: "get",
  path: "/categories",
  tags: ["Categories"],
  summary: "Every category, with the Pluggy category each maps to",
  description:
    "The whole category tree in one page, ordered by name (ties by id); `next_cursor` is always null. Not paginated on purpose: the tree is small and operator-curated, and a category picker needs all of it (build the tree from `parent_id`).",
  security: [{ bearerAuth: [] }],
  middleware: [requireUser, readSession] as const,
  parameters: [bookmarkParameter],
  request: { query: categoryListQuery },
  responses: {
    200: {
      ...jsonContent(z.object({ data: z.array(categorySchema), next_cursor: z.null() }), "All categories"),
      headers: bookmarkResponseHeaders,
    },
    400: errorResponses[400],
    401: errorResponses[401],
  },
});

export const categoryRoutes = createRouter().openapi(listRoute, async (c) => {
  return c.json({ data: await listCategories(c.var.services), next_cursor: null }, 200);
});
