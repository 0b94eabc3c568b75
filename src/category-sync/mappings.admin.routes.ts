import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin } from "../platform/auth.ts";
import { adminAuthErrors, bearerSecurity, createRouter, dataOf, errorResponses, jsonContent } from "../platform/openapi.ts";
import {
  categoryMappingSchema,
  importResultSchema,
  mappingParams,
  noQuery,
  pluggyCategoriesQuery,
  pluggyCategorySchema,
  putMappingBody,
} from "./category-sync.schemas.ts";
import {
  deleteCategoryMapping,
  getPluggyCategories,
  importPluggyCategories,
  listCategoryMappings,
  serializePluggyCategories,
  setCategoryMapping,
} from "./mappings.service.ts";

const upstreamErrors = { 502: errorResponses[502], 503: errorResponses[503] } as const;

const pluggyCategoriesRoute = createRoute({
  method: "get",
  path: "/pluggy-categories",
  tags: ["Admin: category mappings"],
  summary: "Pluggy's category tree (cached in D1, refreshed daily or with ?refresh=true)",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { query: pluggyCategoriesQuery },
  responses: {
    200: jsonContent(z.object({ data: z.array(pluggyCategorySchema), next_cursor: z.null() }), "The whole tree, by id"),
    400: errorResponses[400],
    ...adminAuthErrors,
    ...upstreamErrors,
  },
});

const listRoute = createRoute({
  method: "get",
  path: "/category-mappings",
  tags: ["Admin: category mappings"],
  summary: "Every local category with its Pluggy mapping (or null) and the Pluggy category's name",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { query: noQuery },
  responses: {
    200: jsonContent(z.object({ data: z.array(categoryMappingSchema), next_cursor: z.null() }), "All categories with their mappings"),
    400: errorResponses[400],
    ...adminAuthErrors,
  },
});

const putRoute = createRoute({
  method: "put",
  path: "/category-mappings/{category_id}",
  tags: ["Admin: category mappings"],
  summary: "Map a local category to a Pluggy category (checked against Pluggy's tree)",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { params: mappingParams, body: { content: { "application/json": { schema: putMappingBody } }, required: true } },
  responses: {
    200: jsonContent(dataOf(categoryMappingSchema), "The mapping"),
    400: errorResponses[400],
    ...adminAuthErrors,
    404: errorResponses[404],
    415: errorResponses[415],
    ...upstreamErrors,
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/category-mappings/{category_id}",
  tags: ["Admin: category mappings"],
  summary: "Remove a category's Pluggy mapping (its changes are then skipped, not synced)",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { params: mappingParams },
  responses: { 204: { description: "Removed (or was not mapped)" }, 400: errorResponses[400], ...adminAuthErrors, 404: errorResponses[404] },
});

const importRoute = createRoute({
  method: "post",
  path: "/category-mappings/import-pluggy",
  tags: ["Admin: category mappings"],
  summary: "Import Pluggy's tree as local categories, mapped 1:1 (idempotent)",
  description: "Pluggy categories that some local category already maps to are reused, so running it twice (or after the default seed) creates nothing twice.",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  responses: { 200: jsonContent(dataOf(importResultSchema), "What was created"), ...adminAuthErrors, ...upstreamErrors },
});

/** Admin: Pluggy's category tree and the local → Pluggy category mappings. */
export const mappingsAdminRoutes = createRouter()
  .openapi(pluggyCategoriesRoute, async (c) => {
    const rows = await getPluggyCategories(c.var.services, { refresh: c.req.valid("query").refresh === "true" });
    return c.json({ data: serializePluggyCategories(rows), next_cursor: null }, 200);
  })
  .openapi(listRoute, async (c) => c.json({ data: await listCategoryMappings(c.var.services), next_cursor: null }, 200))
  .openapi(importRoute, async (c) => {
    const result = await importPluggyCategories(c.var.services);
    return c.json({ data: result }, 200);
  })
  .openapi(putRoute, async (c) => {
    const mapping = await setCategoryMapping(c.var.services, c.req.valid("param").category_id, c.req.valid("json").pluggy_category_id);
    return c.json({ data: mapping }, 200);
  })
  .openapi(deleteRoute, async (c) => {
    await deleteCategoryMapping(c.var.services, c.req.valid("param").category_id);
    return c.body(null, 204);
  });
