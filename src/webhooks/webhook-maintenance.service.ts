import { and, asc, eq, inArray, isNull, lt } from "drizzle-orm";
import { chunk } from "../db/client.ts";
import { webhookEvents } from "../db/schema.ts";
import type { EventsQueueMessage } from "../queues/messages.ts";
import { PROCESSING_STALE_MS } from "./webhook-events.service.ts";
import type { Services } from "../platform/services.ts";

/** A `received` event untouched this long has no live message: its queue send failed or was lost. */
export const RECEIVED_STALE_MS = 10 * 60_000;
/** Events the sweeper re-queues per run (one `sendBatch`). */
export const SWEEP_LIMIT = 100;
export const DEFAULT_RETENTION_DAYS = 90;
/** Bodies purged per batch (R2 deletes up to 1000 keys per call) and batches per run. */
export const PURGE_BATCH = 500;
export const PURGE_MAX_BATCHES = 4;
const IDS_PER_STATEMENT = 90;

export interface SweepResult {
  requeued: number;
  /** Of those, events found stuck in `processing` and released. */
  released: number;
}

/**
 * The safety net behind intake's "durable first" answer: re-queues events left in `received` with no
 * activity for RECEIVED_STALE_MS (a failed queue send, a lost message) and releases events stuck in
 * `processing` longer than any consumer can run. Bounded per run; re-sent messages are harmless
 * because the consumer's claim lets only one of them process an event. Touching `updated_at` keeps
 * the next run from re-sending while the message is on its way.
 */
export async function sweepWebhookEvents(
  { catalog: db, eventsQueue: queue, logger }: Pick<Services, "catalog" | "eventsQueue" | "logger">,
  now: Date,
  limit = SWEEP_LIMIT,
): Promise<SweepResult> {
  const nowIso = now.toISOString();
  const stuckBefore = new Date(now.getTime() - PROCESSING_STALE_MS).toISOString();
  const stuck = db
    .select({ eventId: webhookEvents.eventId })
    .from(webhookEvents)
    .where(and(eq(webhookEvents.status, "processing"), lt(webhookEvents.updatedAt, stuckBefore)))
    .orderBy(asc(webhookEvents.receivedAt))
    .limit(limit);
  const released = await db
    .update(webhookEvents)
    .set({ status: "received", lastError: "released by the sweeper: processing did not finish", updatedAt: nowIso })
    .where(and(inArray(webhookEvents.eventId, stuck), eq(webhookEvents.status, "processing")))
    .returning({ eventId: webhookEvents.eventId });

  const stale = await db
    .select({ eventId: webhookEvents.eventId })
    .from(webhookEvents)
    .where(
      and(
        eq(webhookEvents.status, "received"),
        lt(webhookEvents.updatedAt, new Date(now.getTime() - RECEIVED_STALE_MS).toISOString()),
        isNull(webhookEvents.payloadPurgedAt),
      ),
    )
    .orderBy(asc(webhookEvents.receivedAt))
    .limit(Math.max(0, limit - released.length));

  const ids = [...released.map((row) => row.eventId), ...stale.map((row) => row.eventId)];
  if (ids.length === 0) return { requeued: 0, released: 0 };
  for (const batch of chunk(ids, 100)) {
    await queue.sendBatch(batch.map((eventId) => ({ body: { kind: "webhook.process", eventId } satisfies EventsQueueMessage })));
  }
  const touches = chunk(
    stale.map((row) => row.eventId),
    IDS_PER_STATEMENT,
  ).map((batch) =>
    db
      .update(webhookEvents)
      .set({ updatedAt: nowIso })
      .where(and(inArray(webhookEvents.eventId, batch), eq(webhookEvents.status, "received"))),
  );
  const [first, ...rest] = touches;
  if (first) await db.batch([first, ...rest]);
  logger.info("webhook sweeper re-queued events", { requeued: ids.length, released: released.length });
  return { requeued: ids.length, released: released.length };
}

/** WEBHOOK_RETENTION_DAYS as a whole number of days ≥ 1 (default 90). */
export function retentionDays(value: string | undefined): number {
  const days = Number(value);
  return Number.isInteger(days) && days >= 1 ? days : DEFAULT_RETENTION_DAYS;
}

/**
 * Retention: deletes raw bodies received more than `days` ago from R2 and stamps
 * `payload_purged_at` on their rows, which stay for history (replay and download then answer 410).
 * Bounded batches per run; R2 is deleted first, so a crash in between only repeats a harmless delete.
 */
export async function purgeExpiredWebhookBodies(
  { catalog: db, bucket, logger }: Pick<Services, "catalog" | "bucket" | "logger">,
  now: Date,
  days: number,
  options: { batchSize?: number; maxBatches?: number } = {},
): Promise<number> {
  const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString();
  const batchSize = Math.min(options.batchSize ?? PURGE_BATCH, 1000);
  let purged = 0;
  for (let batch = 0; batch < (options.maxBatches ?? PURGE_MAX_BATCHES); batch++) {
    const rows = await db
      .select({ eventId: webhookEvents.eventId, r2Key: webhookEvents.r2Key })
      .from(webhookEvents)
      .where(and(lt(webhookEvents.receivedAt, cutoff), isNull(webhookEvents.payloadPurgedAt)))
      .orderBy(asc(webhookEvents.receivedAt))
      .limit(batchSize);
    if (rows.length === 0) break;
    await bucket.delete([...new Set(rows.map((row) => row.r2Key))]);
    const stamps = chunk(
      rows.map((row) => row.eventId),
      IDS_PER_STATEMENT,
    ).map((ids) =>
      db
        .update(webhookEvents)
        .set({ payloadPurgedAt: now.toISOString(), updatedAt: now.toISOString() })
        .where(and(inArray(webhookEvents.eventId, ids), isNull(webhookEvents.payloadPurgedAt))),
    );
    const [first, ...rest] = stamps;
    if (first) await db.batch([first, ...rest]);
    purged += rows.length;
    if (rows.length < batchSize) break;
  }
  if (purged > 0) logger.info("purged expired webhook bodies", { purged, cutoff });
  return purged;
}
