import { createRoute, z } from "@hono/zod-openapi";
import { webhookAuthConfig } from "./env.ts";
import { createRouter, dataOf, jsonContent } from "./openapi.ts";

const healthSchema = z.object({
  status: z.literal("ok"),
  webhook_signatures: z.enum(["required", "checked", "not_checked"]).openapi({
    description:
      "How Pluggy webhook signatures are checked with this configuration: `required` (every delivery must carry a valid X-Pluggy-Signature); " +
      "`checked` (a present signature must verify; one without is accepted on the right X-Webhook-Token and counted as `unsigned`); " +
      "`not_checked` (a warning: PLUGGY_WEBHOOK_SECRET is unset or empty, nothing is verified)",
  }),
});

const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["Health"],
  summary: "Liveness: touches no storage",
  responses: { 200: jsonContent(dataOf(healthSchema), "The service is up, and how its webhooks are authenticated") },
});

/** Liveness plus configuration warnings; reads only the environment, never storage. */
export const healthRoutes = createRouter().openapi(healthRoute, (c) =>
  c.json({ data: { status: "ok" as const, webhook_signatures: webhookAuthConfig(c.env).signatures } }, 200),
);
