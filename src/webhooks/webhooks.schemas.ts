import { z } from "@hono/zod-openapi";
import { WEBHOOK_EVENT_STATUSES } from "../db/schema.ts";
import { limitParam } from "../banking/banking.schemas.ts";
import { MAX_BULK_REPLAY } from "./webhook-events.service.ts";

/*
 * Admin API shapes for webhook events and Pluggy webhook subscriptions, defined once for
 * validation, handler types and the OpenAPI document.
 */

const isoInstant = z.string().openapi({ example: "2026-11-29T12:00:00.000Z" });

export const webhookEventSchema = z
  .object({
    event_id: z.string(),
    event: z.string().openapi({ example: "item/updated" }),
    item_id: z.string().nullable(),
    status: z.enum(WEBHOOK_EVENT_STATUSES),
    attempts: z.number().int(),
    replay_count: z.number().int(),
    last_error: z.string().nullable().openapi({
      description: "Why the last attempt failed; for an `ignored` event, why it was ignored; for a `processed` one, what of it was not applied (e.g. deletions Pluggy did not confirm)",
    }),
    received_at: isoInstant,
    processed_at: isoInstant.nullable(),
    body_sha256: z.string().openapi({ description: "Hex SHA-256 of the exact bytes received (and archived)" }),
    content_type: z.string().nullable(),
    matched_key: z.string().nullable().openapi({
      description:
        "How the delivery was authenticated: the PLUGGY_WEBHOOK_SECRET entry that verified its signature (`key:0`, `key:1`…); `unsigned` (no signature header, accepted on the right X-Webhook-Token); `none` (no secret configured, not checked)",
    }),
    request_id: z.string().nullable(),
    payload_purged_at: isoInstant.nullable().openapi({ description: "Set when retention deleted the raw body (replay and raw answer 410)" }),
  })
  .openapi("WebhookEvent");

export const webhookEventDetailSchema = webhookEventSchema
  .extend({ payload: z.unknown().openapi({ description: "The parsed body; null when purged or not JSON" }) })
  .openapi("WebhookEventDetail");

/** An instant filter: RFC 3339 (any offset, normalized to UTC) or a date meaning its UTC midnight. */
const instantFilter = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .transform((value) => new Date(value.length === 10 ? `${value}T00:00:00Z` : value).toISOString())
  .openapi({ type: "string", example: "2026-11-29T00:00:00Z" });

const filterFields = {
  status: z.enum(WEBHOOK_EVENT_STATUSES).optional(),
  event: z.string().min(1).max(128).optional().openapi({ example: "transactions/created" }),
  item_id: z.string().min(1).max(128).optional(),
  received_from: instantFilter.optional().openapi({ description: "Inclusive lower bound on received_at" }),
  received_to: instantFilter.optional().openapi({ description: "Exclusive upper bound on received_at" }),
};

const orderedRange = <T extends { received_from?: string | undefined; received_to?: string | undefined }>(value: T) =>
  !value.received_from || !value.received_to || value.received_from < value.received_to;
const rangeMessage = { message: "received_from must be before received_to", path: ["received_from"] };

export const webhookEventListQuery = z
  .object({
    ...filterFields,
    limit: limitParam,
    cursor: z.string().min(1).max(512).optional().openapi({ description: "The `next_cursor` of the previous page" }),
  })
  .strict()
  .refine(orderedRange, rangeMessage);

export const eventIdParams = z.object({
  event_id: z.string().min(1).max(300).openapi({ param: { name: "event_id", in: "path" }, example: "8b3e1f6c-3f1e-4a7d-9d0c-1b2a3c4d5e6f" }),
});

export const bulkReplayBody = z
  .object({
    ...filterFields,
    limit: z.number().int().min(1).max(MAX_BULK_REPLAY).default(100),
    dry_run: z.boolean().default(false),
    cursor: z.string().min(1).max(512).optional().openapi({ description: "The `next_cursor` of the previous call, to continue a large replay" }),
  })
  .strict()
  .refine(orderedRange, rangeMessage)
  .refine((value) => Boolean(value.event ?? value.status ?? value.item_id ?? value.received_from ?? value.received_to), {
    message: "give at least one filter (event, status, item_id, received_from, received_to)",
    path: ["event"],
  })
  .openapi("WebhookBulkReplay");

export const replayQueuedSchema = z.object({ event_id: z.string(), status: z.literal("queued") }).openapi("WebhookReplayQueued");

export const bulkReplayResultSchema = z
  .object({
    matched: z.number().int().openapi({ description: "Replayable events matching the filter (from the cursor on)" }),
    queued: z.number().int(),
    dry_run: z.boolean(),
    event_ids: z.array(z.string()).openapi({ description: "The events this call selected, oldest first (at most `limit`)" }),
    next_cursor: z.string().nullable().openapi({ description: "Pass as `cursor` to continue; null when nothing is left" }),
  })
  .openapi("WebhookBulkReplayResult");

export const pluggyWebhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    event: z.string(),
    created_at: isoInstant.nullable(),
    updated_at: isoInstant.nullable(),
    disabled_at: isoInstant.nullable(),
  })
  .openapi("PluggyWebhook");

export const createPluggyWebhookBody = z
  .object({
    url: z
      .url()
      .max(2048)
      .refine((value) => /^https:\/\//i.test(value), { message: "must be an https URL (Pluggy delivers only to public HTTPS endpoints)" })
      .openapi({
        example: "https://api.example.com/api/banking/pluggy/webhook/",
        description: "Must be on PLUGGY_WEBHOOK_URL's origin (this API's own origin when unset): Pluggy sends the webhook token there",
      }),
    event: z.string().min(1).max(64).default("all").openapi({ description: "Pluggy event to subscribe to; default `all`" }),
  })
  .strict()
  .openapi("CreatePluggyWebhook");

export const pluggyWebhookIdParams = z.object({
  id: z.uuid({ message: "must be a Pluggy webhook id (a UUID)" }).openapi({ param: { name: "id", in: "path" } }),
});
