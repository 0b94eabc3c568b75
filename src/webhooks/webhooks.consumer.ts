import type { z } from "zod";
import type { HandlerContext } from "../queues/consumer.ts";
import type { webhookProcessMessage } from "../queues/messages.ts";
import { processWebhookPayload } from "../sync/event-processor.ts";
import { markWebhookEventDead, processWebhookEvent, type ProcessPayload } from "./webhook-processing.service.ts";

export type WebhookProcessMessage = z.infer<typeof webhookProcessMessage>;

/**
 * Builds the `webhook.process` handler around a payload processor (the real one reads Pluggy and
 * writes the item's owner's ledger, found through the catalog's item directory; tests pass their own to
 * drive each outcome). Throwing asks the queue for a retry.
 */
export function createWebhookProcessHandler(processorFor: (context: HandlerContext) => ProcessPayload) {
  return async (message: WebhookProcessMessage, context: HandlerContext): Promise<void> => {
    const { catalog, bucket, logger } = context.services;
    await processWebhookEvent({ catalog, bucket, logger, processPayload: processorFor(context) }, message, context.attempts);
  };
}

/**
 * Webhook events in one batch are processed at the same time: each claims its own row, and processing
 * is idempotent and order-independent (production already runs batches concurrently), so a batch
 * costs one event's latency instead of ten.
 */
export const isConcurrentEvent = (body: { kind: string }): boolean => body.kind === "webhook.process";

/** `webhook.process` on EVENTS_QUEUE: the per-event processing in src/sync, against Pluggy. */
export const handleWebhookProcess = createWebhookProcessHandler((context) => (payload) => processWebhookPayload(context.services, payload));

/** `webhook.process` on the dead-letter queue: retries are exhausted, so the event becomes `dead`. */
export async function handleDeadWebhookProcess(message: WebhookProcessMessage, context: HandlerContext): Promise<void> {
  await markWebhookEventDead(context.services, message.eventId);
}
