import { z } from "zod";

/** Longest `eventId` we accept: it is a D1 primary key and part of an R2 key (Pluggy sends uuids). */
export const MAX_EVENT_ID_LENGTH = 256;

/**
 * A Pluggy webhook body as we accept it at intake and hand it to processing. Deliberately loose:
 * Pluggy adds fields over time and each event type carries its own (`itemId`, `accountId`,
 * `transactionIds`, `transactionsCreatedAtFrom`, `error`, `data`...), so only what every event has is
 * required and everything else passes through untouched for the per-event processor to read.
 */
export const webhookPayloadSchema = z.looseObject({
  event: z.string().min(1).max(128),
  eventId: z.string().min(1).max(MAX_EVENT_ID_LENGTH),
  /** Absent on connector events; a null or malformed value reads as absent rather than refusing the event. */
  itemId: z.string().min(1).optional().catch(undefined),
  clientUserId: z.string().nullish(),
  triggeredBy: z.string().nullish(),
});

export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;
