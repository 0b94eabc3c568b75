import { z } from "zod";

/** Longest `eventId` we accept: it is a D1 primary key and part of an R2 key (Pluggy sends uuids). */
export const MAX_EVENT_ID_LENGTH = 256;
/** Longest `itemId` we accept: it becomes a Pluggy URL segment and a D1 key (Pluggy sends uuids). */
export const MAX_ITEM_ID_LENGTH = 256;

/** An unpaired UTF-16 surrogate (with the `u` flag a proper pair is one code point and does not match). */
const LONE_SURROGATE = /\p{Cs}/u;
/** C0/C1 control characters, NUL included. */
const CONTROL = /\p{Cc}/u;

/**
 * Why a text from a webhook body cannot be stored or used as a key, or undefined when it can. A lone
 * surrogate cannot be encoded as UTF-8 (D1 would store mangled bytes, `encodeURIComponent` throws) and
 * control characters have no place in an id or event name; both are refused at intake, never retried.
 */
export function unsafeTextReason(value: string): string | undefined {
  if (LONE_SURROGATE.test(value)) return "must not contain an unpaired UTF-16 surrogate";
  if (CONTROL.test(value)) return "must not contain control characters";
  return undefined;
}

/**
 * Why a string cannot be one of Pluggy's ids (`eventId`, `itemId`), or undefined when it can: besides
 * `unsafeTextReason`, "." and ".." are refused because a URL parser resolves them as path segments
 * (`GET /items/..` would reach another Pluggy endpoint, and no admin URL could address the event).
 * Anything else — `/`, spaces, `%`, any well-formed Unicode — is fine: ids are URI-encoded wherever
 * they become part of a path or an R2 key.
 */
export function unsafeIdReason(value: string): string | undefined {
  if (value === "." || value === "..") return "must not be a dot segment (\".\" or \"..\")";
  return unsafeTextReason(value);
}

const safeText = (max: number, reason: (value: string) => string | undefined) =>
  z
    .string()
    .min(1)
    .max(max)
    .superRefine((value, ctx) => {
      const problem = reason(value);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });

/**
 * `itemId`: absent on connector events. Null, a non-string or an empty string reads as absent rather
 * than refusing the event (Pluggy's shapes vary); a string that cannot be an id (too long, a lone
 * surrogate, a control character, a dot segment) refuses it, since no processing could ever succeed.
 */
const optionalItemId = z
  .unknown()
  .transform((value, ctx): string | undefined => {
    if (typeof value !== "string" || value.length === 0) return undefined;
    const problem = value.length > MAX_ITEM_ID_LENGTH ? `must be at most ${MAX_ITEM_ID_LENGTH} characters` : unsafeIdReason(value);
    if (problem) {
      ctx.addIssue({ code: "custom", message: problem });
      return z.NEVER;
    }
    return value;
  })
  .optional();

/** An optional text field: a non-empty string, else absent (null, empty or another type never refuses the event). */
const optionalText = z
  .unknown()
  .transform((value): string | undefined => (typeof value === "string" && value.length > 0 ? value : undefined))
  .optional();

/**
 * A Pluggy webhook body as we accept it at intake and hand it to processing. Deliberately loose:
 * Pluggy adds fields over time and each event type carries its own (`accountId`, `transactionIds`,
 * `transactionsCreatedAtFrom`, `createdTransactionsLink`, `error`, `data`, the deprecated `id`…), and
 * sends `null` for what it has no value for, so only what every event has is required and everything
 * else passes through untouched for the per-event processor to read (null meaning absent). The fields
 * that become keys (`eventId`, `itemId`) and `event` must be well-formed text (see above). There is no
 * `clientUserId`: Pluggy's bodies do not carry it (the owner of an item comes from `GET /items/{id}`).
 */
export const webhookPayloadSchema = z.looseObject({
  event: safeText(128, unsafeTextReason),
  eventId: safeText(MAX_EVENT_ID_LENGTH, unsafeIdReason),
  itemId: optionalItemId,
  triggeredBy: optionalText,
});

export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;
