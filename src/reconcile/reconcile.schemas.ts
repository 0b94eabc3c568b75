import { z } from "@hono/zod-openapi";

/** `POST /api/admin/reconcile/` body: one item, or (omitted) every active item. */
export const reconcileBody = z
  .object({
    item_id: z.uuid().optional().openapi({ description: "Reconcile only this item (404 if we do not have it). Omit to queue every active item." }),
  })
  .strict()
  .openapi("ReconcileRequest");

export const reconcileQueuedSchema = z
  .object({ queued: z.number().int().openapi({ description: "Items queued for reconciliation" }) })
  .openapi("ReconcileQueued");
