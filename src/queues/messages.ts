import { z } from "zod";

/*
 * Every message kind on our queues, zod-validated on consume. Bodies carry ids only: the rest is read
 * from D1, the user's ledger, R2 or Pluggy when processed, so a stale message can never write stale data.
 */

/** Re-process one stored webhook event (first delivery or replay). */
export const webhookProcessMessage = z.object({
  kind: z.literal("webhook.process"),
  eventId: z.string().min(1),
  replay: z.boolean().optional(),
});

/** Pull an item, its accounts and transactions from Pluggy. */
export const itemSyncMessage = z.object({
  kind: z.literal("item.sync"),
  itemId: z.string().min(1),
  reason: z.enum(["registered", "reconcile", "webhook"]),
});

/** Bring one local item back in line with Pluggy without any webhook (src/reconcile). */
export const itemReconcileMessage = z.object({
  kind: z.literal("item.reconcile"),
  itemId: z.string().min(1),
  trigger: z.enum(["cron", "admin"]),
});

/** Erase every trace of a user (items at Pluggy, D1 rows, R2 bodies). */
export const userEraseMessage = z.object({
  kind: z.literal("user.erase"),
  userId: z.string().min(1),
  /** The delayed second pass that catches webhooks arriving after the first (e.g. Pluggy's own `item/deleted`). */
  sweep: z.boolean().optional(),
  /** Item ids the first pass erased, so the sweep still knows them once their rows are gone. */
  itemIds: z.array(z.string().min(1)).max(1000).optional(),
});

/** Messages on the processing queue (`EVENTS_QUEUE`). */
export const eventsQueueMessage = z.discriminatedUnion("kind", [webhookProcessMessage, itemSyncMessage, itemReconcileMessage, userEraseMessage]);
export type EventsQueueMessage = z.infer<typeof eventsQueueMessage>;

/**
 * Messages on the category-sync queue (`CATEGORY_SYNC_QUEUE`): sync one job at one version. The job lives
 * in its user's ledger, so the message names that user (`userId`): a job id alone does not say where it is.
 */
export const categorySyncMessage = z.object({
  kind: z.literal("category.sync"),
  jobId: z.string().min(1),
  transactionId: z.string().min(1),
  version: z.number().int().nonnegative(),
  userId: z.string().min(1),
});
export type CategorySyncMessage = z.infer<typeof categorySyncMessage>;

/** Queue names as configured in wrangler.toml (staging adds a `-staging` suffix). */
export const QUEUE_KIND = {
  events: /^finance-hub-events(-staging)?$/,
  eventsDlq: /^finance-hub-events-dlq(-staging)?$/,
  categorySync: /^finance-hub-category-sync(-staging)?$/,
  categorySyncDlq: /^finance-hub-category-sync-dlq(-staging)?$/,
} as const;
