import { and, asc, count, desc, eq, gte, inArray, isNull, lt, ne, or, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { chunk } from "../db/client.ts";
import { webhookEvents, type WebhookEventRow, type WebhookEventStatus } from "../db/schema.ts";
import { decodeCursor, encodeCursor } from "../platform/cursor.ts";
import { AppError, notFound } from "../platform/errors.ts";
import type { EventsQueueMessage } from "../queues/messages.ts";
import { sha256Hex } from "./verify-signature.ts";
import type { CatalogDeps, Services } from "../platform/services.ts";

/*
 * The operator's side of webhook events: list, inspect, download the exact bytes, replay one or many.
 * A replay moves the event back to `received` (counting `replay_count`) and queues a message; the
 * consumer's claim then treats it like a first delivery.
 */

/** A `processing` event untouched this long lost its consumer (a consumer runs at most 15 minutes). */
export const PROCESSING_STALE_MS = 20 * 60_000;
/** Most events one bulk replay call may queue. */
export const MAX_BULK_REPLAY = 1000;
/** Queue `sendBatch` takes at most 100 messages. */
const SEND_BATCH_SIZE = 100;
/** D1 binds at most 100 parameters per statement. */
const IDS_PER_STATEMENT = 90;

/** An event as the admin API shows it, plus where its bytes came from and retention. */
export interface WebhookEventView {
  event_id: string;
  event: string;
  item_id: string | null;
  status: WebhookEventStatus;
  attempts: number;
  replay_count: number;
  last_error: string | null;
  received_at: string;
  processed_at: string | null;
  body_sha256: string;
  content_type: string | null;
  matched_key: string | null;
  request_id: string | null;
  payload_purged_at: string | null;
}

export function toView(row: WebhookEventRow): WebhookEventView {
  return {
    event_id: row.eventId,
    event: row.event,
    item_id: row.itemId,
    status: row.status,
    attempts: row.attempts,
    replay_count: row.replayCount,
    last_error: row.lastError,
    received_at: row.receivedAt,
    processed_at: row.processedAt,
    body_sha256: row.bodySha256,
    content_type: row.contentType,
    matched_key: row.matchedKey,
    request_id: row.requestId,
    payload_purged_at: row.payloadPurgedAt,
  };
}

export interface WebhookEventFilter {
  status?: WebhookEventStatus | undefined;
  event?: string | undefined;
  itemId?: string | undefined;
  /** Inclusive, RFC 3339 UTC. */
  receivedFrom?: string | undefined;
  /** Exclusive, RFC 3339 UTC. */
  receivedTo?: string | undefined;
}

function filterConditions(filter: WebhookEventFilter): SQL[] {
  const conditions: SQL[] = [];
  if (filter.status) conditions.push(eq(webhookEvents.status, filter.status));
  if (filter.event) conditions.push(eq(webhookEvents.event, filter.event));
  if (filter.itemId) conditions.push(eq(webhookEvents.itemId, filter.itemId));
  if (filter.receivedFrom) conditions.push(gte(webhookEvents.receivedAt, filter.receivedFrom));
  if (filter.receivedTo) conditions.push(lt(webhookEvents.receivedAt, filter.receivedTo));
  return conditions;
}

const cursorKey = z.object({ r: z.string().min(1).max(64), e: z.string().min(1).max(512) }).strict();

/** Events newest first (`received_at`, then `event_id`, both descending), keyset-paginated. */
export async function listWebhookEvents(
  { catalog: db }: CatalogDeps,
  filter: WebhookEventFilter,
  page: { limit: number; cursor?: string | undefined },
): Promise<{ data: WebhookEventView[]; nextCursor: string | null }> {
  const conditions = filterConditions(filter);
  if (page.cursor) {
    const after = decodeCursor(page.cursor, cursorKey);
    // A row-value comparison lets SQLite seek the index to the cursor instead of scanning up to it.
    const keyset = sql`(${webhookEvents.receivedAt}, ${webhookEvents.eventId}) < (${after.r}, ${after.e})`;
    if (keyset) conditions.push(keyset);
  }
  const rows = await db
    .select()
    .from(webhookEvents)
    .where(and(...conditions))
    .orderBy(desc(webhookEvents.receivedAt), desc(webhookEvents.eventId))
    .limit(page.limit + 1);
  const more = rows.length > page.limit;
  const data = rows.slice(0, page.limit);
  const last = data.at(-1);
  return { data: data.map(toView), nextCursor: more && last ? encodeCursor({ r: last.receivedAt, e: last.eventId }) : null };
}

async function findRow({ catalog: db }: CatalogDeps, eventId: string): Promise<WebhookEventRow> {
  const [row] = await db.select().from(webhookEvents).where(eq(webhookEvents.eventId, eventId)).limit(1);
  if (!row) throw notFound("webhook event");
  return row;
}

const gone = () => new AppError("gone", "the raw body of this event was purged by retention");

/** The event and its parsed payload (`null` when purged, missing or not JSON, as for a rejected delivery). */
export async function getWebhookEvent(deps: Pick<Services, "catalog" | "bucket">, eventId: string): Promise<WebhookEventView & { payload: unknown }> {
  const { bucket } = deps;
  const row = await findRow(deps, eventId);
  let payload: unknown = null;
  if (!row.payloadPurgedAt) {
    const object = await bucket.get(row.r2Key);
    if (object) {
      try {
        payload = JSON.parse(await object.text());
      } catch {
        payload = null;
      }
    }
  }
  return { ...toView(row), payload };
}

/** The exact stored bytes and their original content type. Purged → 410; absent from R2 → 404. */
export async function getWebhookEventRaw(
  deps: Pick<Services, "catalog" | "bucket">,
  eventId: string,
): Promise<{ body: ReadableStream; contentType: string; sha256: string; size: number }> {
  const { bucket } = deps;
  const row = await findRow(deps, eventId);
  if (row.payloadPurgedAt) throw gone();
  const object = await bucket.get(row.r2Key);
  if (!object) throw notFound("archived body");
  return {
    body: object.body,
    contentType: row.contentType ?? object.httpMetadata?.contentType ?? "application/octet-stream",
    sha256: row.bodySha256,
    size: object.size,
  };
}

/** Conditions under which an event may be moved back to `received` by a replay. */
function replayable(staleBefore: string): SQL {
  return and(
    ne(webhookEvents.status, "rejected"),
    isNull(webhookEvents.payloadPurgedAt),
    or(ne(webhookEvents.status, "processing"), lt(webhookEvents.updatedAt, staleBefore)),
  ) as SQL;
}

function replayMessage(eventId: string): EventsQueueMessage {
  return { kind: "webhook.process", eventId, replay: true };
}

/**
 * Replays one event from its R2 copy, which must still hash to `body_sha256`. 404 unknown, 410
 * purged, 409 for a rejected delivery, an event being processed right now, or a corrupt copy.
 */
export async function replayWebhookEvent(
  deps: Pick<Services, "catalog" | "bucket" | "eventsQueue" | "logger">,
  eventId: string,
): Promise<void> {
  const { catalog: db, bucket, eventsQueue: queue, logger } = deps;
  const row = await findRow(deps, eventId);
  if (row.payloadPurgedAt) throw gone();
  if (row.status === "rejected") throw new AppError("conflict", "a rejected delivery is not an event and cannot be replayed");
  const object = await bucket.get(row.r2Key);
  if (!object) throw new AppError("conflict", "the archived body is missing from R2; the event cannot be replayed");
  const sha256 = await sha256Hex(await object.arrayBuffer());
  if (sha256 !== row.bodySha256) throw new AppError("conflict", "the archived body does not match body_sha256; not replayed");

  const now = new Date();
  const [updated] = await db
    .update(webhookEvents)
    .set({ status: "received", replayCount: sql`${webhookEvents.replayCount} + 1`, updatedAt: now.toISOString() })
    .where(and(eq(webhookEvents.eventId, eventId), replayable(new Date(now.getTime() - PROCESSING_STALE_MS).toISOString())))
    .returning({ eventId: webhookEvents.eventId });
  if (!updated) throw new AppError("conflict", "the event is being processed right now; replay it when it finishes");
  try {
    await queue.send(replayMessage(eventId));
  } catch (error) {
    logger.error("replay queue send failed; the sweeper will queue it", { event_id: eventId, error });
    throw new AppError("upstream_unavailable", "the event was marked for replay but could not be queued; the sweeper will queue it within minutes", { cause: error });
  }
  logger.info("webhook event replayed", { event_id: eventId });
}

export interface BulkReplayInput extends WebhookEventFilter {
  limit: number;
  dryRun: boolean;
  cursor?: string | undefined;
}

export interface BulkReplayResult {
  /** Events matching the filter (from the cursor on), replayable ones only. */
  matched: number;
  queued: number;
  dry_run: boolean;
  /** The events this call selected (oldest first), at most `limit`. */
  event_ids: string[];
  /** Continue after the last selected event (null when none are left). */
  next_cursor: string | null;
}

/**
 * Replays every event matching a filter, oldest first, at most `limit` per call (≤ 1000), skipping
 * rejected deliveries, purged bodies and events being processed right now. A dry run reports what
 * would be replayed and queues nothing. Each body's sha256 is checked by the consumer before use.
 */
export async function replayWebhookEvents(
  { catalog: db, eventsQueue: queue, logger }: Pick<Services, "catalog" | "eventsQueue" | "logger">,
  input: BulkReplayInput,
): Promise<BulkReplayResult> {
  const now = new Date();
  const conditions = [...filterConditions(input), replayable(new Date(now.getTime() - PROCESSING_STALE_MS).toISOString())];
  if (input.cursor) {
    const after = decodeCursor(input.cursor, cursorKey);
    const keyset = sql`(${webhookEvents.receivedAt}, ${webhookEvents.eventId}) > (${after.r}, ${after.e})`;
    if (keyset) conditions.push(keyset);
  }
  const where = and(...conditions);
  const [total, rows] = await Promise.all([
    db.select({ n: count() }).from(webhookEvents).where(where),
    db
      .select({ eventId: webhookEvents.eventId, receivedAt: webhookEvents.receivedAt })
      .from(webhookEvents)
      .where(where)
      .orderBy(asc(webhookEvents.receivedAt), asc(webhookEvents.eventId))
      .limit(input.limit),
  ]);
  const matched = total[0]?.n ?? 0;
  const last = rows.at(-1);
  const nextCursor = last && matched > rows.length ? encodeCursor({ r: last.receivedAt, e: last.eventId }) : null;
  const eventIds = rows.map((row) => row.eventId);
  if (input.dryRun || eventIds.length === 0) {
    return { matched, queued: 0, dry_run: input.dryRun, event_ids: eventIds, next_cursor: nextCursor };
  }

  const staleBefore = new Date(now.getTime() - PROCESSING_STALE_MS).toISOString();
  const statements = chunk(eventIds, IDS_PER_STATEMENT).map((ids) =>
    db
      .update(webhookEvents)
      .set({ status: "received", replayCount: sql`${webhookEvents.replayCount} + 1`, updatedAt: now.toISOString() })
      .where(and(inArray(webhookEvents.eventId, ids), replayable(staleBefore)))
      .returning({ eventId: webhookEvents.eventId }),
  );
  const [first, ...rest] = statements;
  if (!first) return { matched, queued: 0, dry_run: false, event_ids: eventIds, next_cursor: nextCursor };
  const marked = (await db.batch([first, ...rest])).flat().map((row) => row.eventId);

  let queued = 0;
  try {
    for (const ids of chunk(marked, SEND_BATCH_SIZE)) {
      await queue.sendBatch(ids.map((eventId) => ({ body: replayMessage(eventId) })));
      queued += ids.length;
    }
  } catch (error) {
    logger.error("bulk replay queue send failed; the sweeper will queue the rest", { queued, marked: marked.length, error });
    throw new AppError(
      "upstream_unavailable",
      `${queued} of ${marked.length} events were queued; the rest are marked for replay and the sweeper will queue them within minutes`,
      { cause: error },
    );
  }
  logger.info("webhook events replayed", { matched, queued });
  return { matched, queued, dry_run: false, event_ids: marked, next_cursor: nextCursor };
}
