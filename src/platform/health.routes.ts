import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, dataOf, jsonContent } from "./openapi.ts";

const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["Health"],
  summary: "Liveness: touches no storage",
  responses: { 200: jsonContent(dataOf(z.object({ status: z.literal("ok") })), "The service is up") },
});

export const healthRoutes = createRouter().openapi(healthRoute, (c) => c.json({ data: { status: "ok" as const } }, 200));
