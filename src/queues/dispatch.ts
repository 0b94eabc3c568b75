import { backoffFromVars } from "../platform/backoff.ts";
import { createLogger } from "../platform/logger.ts";
import type { AppBindings } from "../platform/env.ts";
import { servicesFor } from "../platform/services.ts";
import { consumeBatch, type MessageHandler } from "./consumer.ts";
import {
  categorySyncMessage,
  eventsQueueMessage,
  QUEUE_KIND,
  type CategorySyncMessage,
  type EventsQueueMessage,
} from "./messages.ts";
import { handleDeadItemSyncMessage, handleItemSyncMessage } from "../sync/item-sync.handler.ts";
import { handleCategorySync, handleDeadCategorySync } from "../category-sync/category-sync.consumer.ts";
import { categorySyncBackoff } from "../category-sync/category-sync.config.ts";
import { handleDeadWebhookProcess, handleWebhookProcess, isConcurrentEvent } from "../webhooks/webhooks.consumer.ts";
import { handleDeadItemReconcileMessage, handleItemReconcileMessage } from "../reconcile/reconcile.handler.ts";
import { handleDeadUserEraseMessage, handleUserEraseMessage } from "../erasure/erasure.handler.ts";

type Handlers<M extends { kind: string }> = { [K in M["kind"]]: MessageHandler<Extract<M, { kind: K }>> };

/*
 * The one table from message kind to service. `live` handlers do the work; `dead` handlers run on the
 * dead-letter queue after retries are exhausted and record the failure where operators look.
 * Each domain adds its entries here (one import, one line).
 */
const eventHandlers: Partial<Handlers<EventsQueueMessage>> = {};
const deadEventHandlers: Partial<Handlers<EventsQueueMessage>> = {};
const categorySyncHandlers: Partial<Handlers<CategorySyncMessage>> = {};
const deadCategorySyncHandlers: Partial<Handlers<CategorySyncMessage>> = {};
eventHandlers["item.sync"] = handleItemSyncMessage;
deadEventHandlers["item.sync"] = handleDeadItemSyncMessage;
eventHandlers["webhook.process"] = handleWebhookProcess;
deadEventHandlers["webhook.process"] = handleDeadWebhookProcess;
eventHandlers["item.reconcile"] = handleItemReconcileMessage;
deadEventHandlers["item.reconcile"] = handleDeadItemReconcileMessage;
eventHandlers["user.erase"] = handleUserEraseMessage;
deadEventHandlers["user.erase"] = handleDeadUserEraseMessage;
categorySyncHandlers["category.sync"] = handleCategorySync;
deadCategorySyncHandlers["category.sync"] = handleDeadCategorySync;

function route<M extends { kind: string }>(handlers: Partial<Handlers<M>>): MessageHandler<M> {
  return async (body, context) => {
    const handler = handlers[body.kind as M["kind"]] as MessageHandler<M> | undefined;
    if (!handler) throw new Error(`no handler for message kind ${body.kind}`);
    await handler(body, context);
  };
}

/** The Worker's `queue` entry point: picks the schema and handlers by queue name. */
export async function dispatchQueueBatch(batch: MessageBatch<unknown>, env: AppBindings, ctx: ExecutionContext): Promise<void> {
  const logger = createLogger({ queue: batch.queue });
  const services = servicesFor(env, ctx, { logger });
  if (QUEUE_KIND.events.test(batch.queue)) {
    const backoff = backoffFromVars(env.EVENTS_QUEUE_RETRY_BASE_SECONDS, env.EVENTS_QUEUE_RETRY_CAP_SECONDS);
    return consumeBatch(batch, eventsQueueMessage, route(eventHandlers), services, backoff, isConcurrentEvent);
  }
  if (QUEUE_KIND.eventsDlq.test(batch.queue)) {
    return consumeBatch(batch, eventsQueueMessage, route(deadEventHandlers), services);
  }
  if (QUEUE_KIND.categorySync.test(batch.queue)) {
    // Jobs are independent and versioned (a stale message is a no-op), so a batch is handled concurrently.
    return consumeBatch(batch, categorySyncMessage, route(categorySyncHandlers), services, categorySyncBackoff(env), () => true);
  }
  if (QUEUE_KIND.categorySyncDlq.test(batch.queue)) {
    return consumeBatch(batch, categorySyncMessage, route(deadCategorySyncHandlers), services);
  }
  logger.error("batch from an unknown queue; retrying later");
  batch.retryAll({ delaySeconds: 60 });
}
