import { eq, notExists, sql } from "drizzle-orm";
import { metricCounters, webhookEvents } from "../db/schema.ts";
import { counterSeries, dayBucket, hourBucket, incrementCounter, type Granularity } from "../platform/metrics.ts";
import type { CatalogDeps } from "../platform/services.ts";

/*
 * Webhook metrics are hourly counters (metric_counters), each written when the thing it counts happens,
 * so they count what happened: deleting or purging event rows later (erasure, retention) changes none.
 * - `accepted`: in the intake's one D1 batch with the row's insert, only when that insert creates the
 *   row (`countAcceptedIfNew`), so a duplicate never counts and intake still makes three writes;
 * - `unsigned`: the same way, for an accepted event whose delivery had no signature header and was
 *   taken on its X-Webhook-Token (the signature rollout: do Pluggy's deliveries carry a signature?);
 * - `rejected`: signed-but-invalid deliveries in the same batch as their `rejected` row, and
 *   deliveries refused before anything was stored (bad signature or token, too large) after the answer;
 * - `duplicate`: after the answer (`waitUntil`);
 * - `processed`, `ignored`, `failed` and `dead`: by the consumer in the same D1 batch as the status
 *   change they count (a replay that is processed again counts again: they count outcomes, not events).
 */

export const WEBHOOK_COUNTERS = {
  accepted: "webhooks.accepted",
  /** Accepted events whose delivery carried no signature, only the right X-Webhook-Token (a subset of `accepted`). */
  unsigned: "webhooks.unsigned",
  duplicate: "webhooks.duplicate",
  /**
   * Refused before anything was stored (invalid signature or token, another application's `clientId`,
   * body too large), or signed but invalid.
   */
  rejected: "webhooks.rejected",
  processed: "webhooks.processed",
  ignored: "webhooks.ignored",
  failed: "webhooks.failed",
  dead: "webhooks.dead",
} as const;

/**
 * The statement that counts one accepted event, for the intake's D1 batch, placed *before* the row's
 * insert: it adds 1 to `webhooks.accepted` (or `name`, e.g. `webhooks.unsigned`; hour of `at`) only when
 * no row with this `eventId` exists yet. A batch is a transaction run in order, so that is exactly when
 * the insert that follows creates the row. (Matching the new row by `request_id` afterwards would not
 * do: X-Request-Id is echoed from the caller, so two deliveries of one event can share it.)
 */
export function countAcceptedIfNew({ catalog: db }: CatalogDeps, eventId: string, at: string, name: string = WEBHOOK_COUNTERS.accepted) {
  const rowExists = db.select({ one: sql`1` }).from(webhookEvents).where(eq(webhookEvents.eventId, eventId));
  return db
    .insert(metricCounters)
    .select(
      db
        .select({
          bucket: sql<string>`${hourBucket(new Date(at))}`.as("bucket"),
          name: sql<string>`${name}`.as("name"),
          count: sql<number>`1`.as("count"),
        })
        .from(sql`(select 1)`)
        .where(notExists(rowExists)),
    )
    .onConflictDoUpdate({ target: [metricCounters.bucket, metricCounters.name], set: { count: sql`${metricCounters.count} + 1` } });
}

export interface WebhookCounts {
  accepted: number;
  unsigned: number;
  duplicate: number;
  rejected: number;
  processed: number;
  ignored: number;
  failed: number;
  dead: number;
}

export interface WebhookMetrics {
  totals: WebhookCounts;
  /** One point per bucket of `[from, to)`, oldest first, zero-filled; sums to `totals`. */
  series: Array<{ bucket: string } & WebhookCounts>;
}

/** Adds one to a webhook counter in the hourly bucket of `at` (an RFC 3339 instant). */
export async function incrementWebhookCounter({ catalog: db }: CatalogDeps, name: string, at: string = new Date().toISOString()): Promise<void> {
  await incrementCounter({ catalog: db }, name, 1, new Date(at));
}

const zero = (): WebhookCounts => ({ accepted: 0, unsigned: 0, duplicate: 0, rejected: 0, processed: 0, ignored: 0, failed: 0, dead: 0 });

/**
 * The webhooks block of GET /api/admin/metrics/: totals and a series over `[from, to)` in `granularity`
 * buckets (`from` and `to` on bucket boundaries, labels as in platform/metrics: "YYYY-MM-DDTHH:00:00Z").
 */
export async function webhookMetrics({ catalog: db }: CatalogDeps, from: Date, to: Date, granularity: Granularity): Promise<WebhookMetrics> {
  const step = granularity === "hour" ? 3_600_000 : 86_400_000;
  const label = granularity === "hour" ? hourBucket : dayBucket;
  const buckets: string[] = [];
  for (let t = from.getTime(); t < to.getTime(); t += step) buckets.push(label(new Date(t)));

  const counters = await counterSeries({ catalog: db }, Object.values(WEBHOOK_COUNTERS), { from, to, granularity, buckets });
  const totals = zero();
  const series = counters.map((point) => {
    const counts = zero();
    for (const [key, name] of Object.entries(WEBHOOK_COUNTERS) as Array<[keyof WebhookCounts, string]>) counts[key] = point.counts[name] ?? 0;
    for (const key of Object.keys(totals) as Array<keyof WebhookCounts>) totals[key] += counts[key];
    return { bucket: point.bucket, ...counts };
  });
  return { totals, series };
}
