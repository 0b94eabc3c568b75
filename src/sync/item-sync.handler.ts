import type { z } from "zod";
import { PluggyError } from "../pluggy/pluggy.errors.ts";
import { RetryableError, type HandlerContext } from "../queues/consumer.ts";
import type { itemSyncMessage } from "../queues/messages.ts";
import { withLogger } from "../platform/services.ts";
import { syncItem } from "./item-sync.service.ts";

export type ItemSyncMessage = z.infer<typeof itemSyncMessage>;

/**
 * `item.sync` consumer: runs `syncItem`. A transient Pluggy failure (network, timeout, 409, 429, 5xx)
 * is retried through the queue — no sooner than Pluggy's `RateLimit-Reset` on a 429 — while a permanent
 * one (the item is gone, 403...) is logged and acked, since repeating it cannot succeed. Catalog and
 * ledger failures propagate and are retried.
 */
export async function handleItemSyncMessage(message: ItemSyncMessage, context: HandlerContext): Promise<void> {
  const logger = context.logger.child({ kind: message.kind, item_id: message.itemId, reason: message.reason });
  try {
    const result = await syncItem(withLogger(context.services, logger), message.itemId);
    if (result.outcome !== "synced") logger.warn(`item sync did nothing: ${result.outcome}`, { outcome: result.outcome });
  } catch (error) {
    if (!(error instanceof PluggyError)) throw error;
    if (error.transient) {
      throw new RetryableError(`Pluggy failed transiently during item sync: ${error.reason}`, {
        minDelaySeconds: error.status === 429 ? (error.retryAfterSeconds ?? 0) : 0,
        cause: error,
      });
    }
    logger.error("item sync failed permanently; message dropped", { pluggy_status: error.status, pluggy_code: error.codeDescription ?? null, reason: error.reason });
  }
}

/**
 * `item.sync` on the dead-letter queue: every retry failed. Nothing else records item syncs, so the
 * log line is the operator's signal (the next reconciliation or webhook syncs the item again).
 */
export async function handleDeadItemSyncMessage(message: ItemSyncMessage, context: HandlerContext): Promise<void> {
  context.logger.error("item sync dead: retries exhausted, the item was not synced", {
    kind: message.kind,
    item_id: message.itemId,
    reason: message.reason,
    attempts: context.attempts,
  });
}
