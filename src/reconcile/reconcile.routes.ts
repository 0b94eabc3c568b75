import { createRoute } from "@hono/zod-openapi";
import { requireAdmin } from "../platform/auth.ts";
import { createRouter, dataOf, errorResponses, jsonContent } from "../platform/openapi.ts";
import { reconcileBody, reconcileQueuedSchema } from "./reconcile.schemas.ts";
import { queueReconciliation, RECONCILE_ITEMS_PER_ADMIN_RUN, RECONCILE_WINDOW_DAYS } from "./reconcile.service.ts";

const reconcileRoute = createRoute({
  method: "post",
  path: "/reconcile",
  tags: ["Admin: reconciliation"],
  summary: "Queue a reconciliation with Pluggy of one item, or of every active item",
  description:
    "Brings local items, accounts and transactions back in line with Pluggy without any webhook: new and changed rows are upserted, " +
    `rows Pluggy no longer returns within the last ${RECONCILE_WINDOW_DAYS} days of booking dates are removed, and what had to change is counted in ` +
    "`GET /api/admin/metrics/` (`reconciliation`). Without `item_id`, queues the items whose next reconciliation is most overdue (in effect the least recently reconciled), " +
    `at most ${RECONCILE_ITEMS_PER_ADMIN_RUN} per call (users with a pending erasure are skipped). The body may be omitted.`,
  security: [{ bearerAuth: [] }],
  middleware: [requireAdmin] as const,
  request: { body: { content: { "application/json": { schema: reconcileBody } }, required: false } },
  responses: {
    202: jsonContent(dataOf(reconcileQueuedSchema), "How many items were queued"),
    400: errorResponses[400],
    401: errorResponses[401],
    403: errorResponses[403],
    404: errorResponses[404],
    415: errorResponses[415],
  },
});

/** Admin: `POST /api/admin/reconcile/`. The hourly cron runs the same fan-out (src/reconcile/reconcile.jobs.ts). */
export const reconcileAdminRoutes = createRouter().openapi(reconcileRoute, async (c) => {
  const body: { item_id?: string | undefined } | undefined = c.req.valid("json");
  const queued = await queueReconciliation(
    c.var.services,
    { trigger: "admin", itemId: body?.item_id },
  );
  return c.json({ data: { queued } }, 202);
});
