import { and, gte, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { webhookEvents } from "../db/schema.ts";
import { counterSeries, dayBucket, hourBucket, incrementCounter, type Granularity } from "../platform/metrics.ts";

/*
 * Webhook metrics without a fourth write on the intake path:
 * - `accepted` and the signed-but-invalid part of `rejected` are rows of webhook_events, counted by
 *   `received_at` (indexed);
 * - `duplicate`, and deliveries refused before anything was stored (bad signature or token, too
 *   large), are hourly counters written after the answer (`waitUntil`);
 * - `processed`, `ignored`, `failed` and `dead` are counters written by the consumer in the same D1
 *   batch as the status change they count, so they cannot drift from it (a replay that is processed
 *   again counts again: they count outcomes, not events).
 */

export const WEBHOOK_COUNTERS = {
  duplicate: "webhooks.duplicate",
  /** Refused before anything was stored: invalid signature or token, body too large. */
  refused: "webhooks.rejected",
  processed: "webhooks.processed",
  ignored: "webhooks.ignored",
  failed: "webhooks.failed",
  dead: "webhooks.dead",
} as const;

export interface WebhookCounts {
  accepted: number;
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
export async function incrementWebhookCounter(db: Db, name: string, at: string = new Date().toISOString()): Promise<void> {
  await incrementCounter(db, name, 1, new Date(at));
}

const zero = (): WebhookCounts => ({ accepted: 0, duplicate: 0, rejected: 0, processed: 0, ignored: 0, failed: 0, dead: 0 });

/**
 * The webhooks block of GET /api/admin/metrics/: totals and a series over `[from, to)` in `granularity`
 * buckets (`from` and `to` on bucket boundaries, labels as in platform/metrics: "YYYY-MM-DDTHH:00:00Z").
 */
export async function webhookMetrics(db: Db, from: Date, to: Date, granularity: Granularity): Promise<WebhookMetrics> {
  const step = granularity === "hour" ? 3_600_000 : 86_400_000;
  const label = granularity === "hour" ? hourBucket : dayBucket;
  const buckets: string[] = [];
  for (let t = from.getTime(); t < to.getTime(); t += step) buckets.push(label(new Date(t)));

  const names = Object.values(WEBHOOK_COUNTERS);
  const bucketOf =
    granularity === "hour" ? sql<string>`substr(${webhookEvents.receivedAt}, 1, 13) || ':00:00Z'` : sql<string>`substr(${webhookEvents.receivedAt}, 1, 10) || 'T00:00:00Z'`;
  const [counters, rows] = await Promise.all([
    counterSeries(db, names, { from, to, granularity, buckets }),
    db
      .select({
        bucket: bucketOf,
        accepted: sql<number>`sum(case when ${webhookEvents.status} <> 'rejected' then 1 else 0 end)`,
        rejected: sql<number>`sum(case when ${webhookEvents.status} = 'rejected' then 1 else 0 end)`,
      })
      .from(webhookEvents)
      .where(and(gte(webhookEvents.receivedAt, from.toISOString()), lt(webhookEvents.receivedAt, to.toISOString())))
      .groupBy(bucketOf),
  ]);

  const byBucket = new Map(buckets.map((bucket) => [bucket, zero()]));
  for (const point of counters) {
    const counts = byBucket.get(point.bucket);
    if (!counts) continue;
    counts.duplicate += point.counts[WEBHOOK_COUNTERS.duplicate] ?? 0;
    counts.rejected += point.counts[WEBHOOK_COUNTERS.refused] ?? 0;
    counts.processed += point.counts[WEBHOOK_COUNTERS.processed] ?? 0;
    counts.ignored += point.counts[WEBHOOK_COUNTERS.ignored] ?? 0;
    counts.failed += point.counts[WEBHOOK_COUNTERS.failed] ?? 0;
    counts.dead += point.counts[WEBHOOK_COUNTERS.dead] ?? 0;
  }
  for (const row of rows) {
    const counts = byBucket.get(row.bucket);
    if (!counts) continue;
    counts.accepted += Number(row.accepted);
    counts.rejected += Number(row.rejected);
  }

  const totals = zero();
  const series = [...byBucket].map(([bucket, counts]) => {
    for (const name of Object.keys(totals) as Array<keyof WebhookCounts>) totals[name] += counts[name];
    return { bucket, ...counts };
  });
  return { totals, series };
}
