import type { z } from "zod";
import { PluggyError } from "../pluggy/pluggy.errors.ts";
import { RetryableError, type HandlerContext } from "../queues/consumer.ts";
import type { itemReconcileMessage } from "../queues/messages.ts";
import { withLogger } from "../platform/services.ts";
import { reconcileItem } from "./reconcile.service.ts";

export type ItemReconcileMessage = z.infer<typeof itemReconcileMessage>;

/**
 * `item.reconcile` consumer: runs `reconcileItem`. A transient Pluggy failure (network, timeout, 409,
 * 429, 5xx) is retried through the queue — no sooner than Pluggy's reset on a 429 — and since the
 * watermark only advances when a run completes, the retry re-reads the same ground. A permanent one
 * (403...) is logged and acked: repeating it cannot succeed, and a later scheduled run tries again.
 */
export async function handleItemReconcileMessage(message: ItemReconcileMessage, context: HandlerContext): Promise<void> {
  const logger = context.logger.child({ kind: message.kind, item_id: message.itemId, trigger: message.trigger });
  try {
    await reconcileItem(withLogger(context.services, logger), message.itemId);
  } catch (error) {
    if (!(error instanceof PluggyError)) throw error;
    if (error.transient) {
      throw new RetryableError(`Pluggy failed transiently during reconciliation: ${error.reason}`, {
        minDelaySeconds: error.status === 429 ? (error.retryAfterSeconds ?? 0) : 0,
        cause: error,
      });
    }
    logger.error("reconciliation failed permanently; message dropped", { pluggy_status: error.status, pluggy_code: error.codeDescription ?? null, reason: error.reason });
  }
}

/**
 * `item.reconcile` on the dead-letter queue: every retry failed. The item keeps its old watermark and
 * `last_reconciled_at`, and its `next_reconcile_at` was not moved by a finished run, so the cron queues it
 * again once it is due (at the latest when the cron's lease expires); the log line is the operator's signal.
 */
export async function handleDeadItemReconcileMessage(message: ItemReconcileMessage, context: HandlerContext): Promise<void> {
  context.logger.error("reconciliation dead: retries exhausted, the item was not reconciled", {
    kind: message.kind,
    item_id: message.itemId,
    trigger: message.trigger,
    attempts: context.attempts,
  });
}
