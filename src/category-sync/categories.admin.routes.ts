import { createRoute, z } from "@hono/zod-openapi";
import { categorySchema } from "../banking/banking.schemas.ts";
import { listCategories } from "../banking/categories.service.ts";
import { requireAdmin } from "../platform/auth.ts";
import { adminAuthErrors, bearerSecurity, createRouter, dataOf, errorResponses, jsonContent } from "../platform/openapi.ts";
import { categoryIdParams, createCategoryBody, noQuery, updateCategoryBody } from "./category-sync.schemas.ts";
import { createCategory, deleteCategory, getCategory, updateCategory } from "./categories.service.ts";

const tags = ["Admin: categories"];

const listRoute = createRoute({
  method: "get",
  path: "/categories",
  tags,
  summary: "Every local category with its Pluggy mapping (whole tree, by name)",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { query: noQuery },
  responses: {
    200: jsonContent(z.object({ data: z.array(categorySchema), next_cursor: z.null() }), "All categories"),
    400: errorResponses[400],
    ...adminAuthErrors,
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/categories/{id}",
  tags,
  summary: "One category",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { params: categoryIdParams },
  responses: { 200: jsonContent(dataOf(categorySchema), "The category"), 400: errorResponses[400], ...adminAuthErrors, 404: errorResponses[404] },
});

const createRouteDef = createRoute({
  method: "post",
  path: "/categories",
  tags,
  summary: "Create a category (optionally under an existing parent)",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { body: { content: { "application/json": { schema: createCategoryBody } }, required: true } },
  responses: { 201: jsonContent(dataOf(categorySchema), "Created"), 400: errorResponses[400], ...adminAuthErrors, 415: errorResponses[415] },
});

const updateRoute = createRoute({
  method: "patch",
  path: "/categories/{id}",
  tags,
  summary: "Rename and/or move a category (no cycles)",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { params: categoryIdParams, body: { content: { "application/json": { schema: updateCategoryBody } }, required: true } },
  responses: {
    200: jsonContent(dataOf(categorySchema), "Updated"),
    400: errorResponses[400],
    ...adminAuthErrors,
    404: errorResponses[404],
    415: errorResponses[415],
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/categories/{id}",
  tags,
  summary: "Delete a category without children; its transactions become uncategorized and its mapping goes",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { params: categoryIdParams },
  responses: { 204: { description: "Deleted" }, 400: errorResponses[400], ...adminAuthErrors, 404: errorResponses[404], 409: errorResponses[409] },
});

/** Admin CRUD of the local category tree (`/api/admin/categories`). */
export const categoriesAdminRoutes = createRouter()
  .openapi(listRoute, async (c) => c.json({ data: await listCategories(c.var.services), next_cursor: null }, 200))
  .openapi(getRoute, async (c) => c.json({ data: await getCategory(c.var.services, c.req.valid("param").id) }, 200))
  .openapi(createRouteDef, async (c) => {
    const body = c.req.valid("json");
    return c.json({ data: await createCategory(c.var.services, { name: body.name, parentId: body.parent_id }) }, 201);
  })
  .openapi(updateRoute, async (c) => {
    const body = c.req.valid("json");
    return c.json({ data: await updateCategory(c.var.services, c.req.valid("param").id, { name: body.name, parentId: body.parent_id }) }, 200);
  })
  .openapi(deleteRoute, async (c) => {
    await deleteCategory(c.var.services, c.req.valid("param").id);
    return c.body(null, 204);
  });
