import type { z } from "zod";
import { createDb } from "../db/client.ts";
import { createPluggyClient } from "../pluggy/pluggy.client.ts";
import type { HandlerContext } from "../queues/consumer.ts";
import type { webhookProcessMessage } from "../queues/messages.ts";
import { processWebhookPayload } from "../sync/event-processor.ts";
import { markWebhookEventDead, processWebhookEvent, type ProcessPayload } from "./webhook-processing.service.ts";

export type WebhookProcessMessage = z.infer<typeof webhookProcessMessage>;

/**
 * Builds the `webhook.process` handler around a payload processor (the real one reads Pluggy and
 * writes D1; tests pass their own to drive each outcome). Throwing asks the queue for a retry.
 */
export function createWebhookProcessHandler(processorFor: (context: HandlerContext) => ProcessPayload) {
  return async (message: WebhookProcessMessage, context: HandlerContext): Promise<void> => {
    await processWebhookEvent(
      { db: createDb(context.env.DB), bucket: context.env.WEBHOOK_ARCHIVE, processPayload: processorFor(context), logger: context.logger },
      message,
      context.attempts,
    );
  };
}

/**
 * Webhook events in one batch are processed at the same time: each claims its own row, and processing
 * is idempotent and order-independent (production already runs batches concurrently), so a batch
 * costs one event's latency instead of ten.
 */
export const isConcurrentEvent = (body: { kind: string }): boolean => body.kind === "webhook.process";

/** `webhook.process` on EVENTS_QUEUE: the per-event processing in src/sync, against Pluggy. */
export const handleWebhookProcess = createWebhookProcessHandler((context) => {
  const db = createDb(context.env.DB);
  const pluggy = createPluggyClient(context.env, { logger: context.logger });
  return (payload) => processWebhookPayload({ db, pluggy, logger: context.logger }, payload);
});

/** `webhook.process` on the dead-letter queue: retries are exhausted, so the event becomes `dead`. */
export async function handleDeadWebhookProcess(message: WebhookProcessMessage, context: HandlerContext): Promise<void> {
  await markWebhookEventDead(createDb(context.env.DB), message.eventId, context.logger);
}
