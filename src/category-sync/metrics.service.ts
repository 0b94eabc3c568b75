import type { Db } from "../db/client.ts";
import { counterSeries, sumCounters, windowRange, type MetricWindow } from "../platform/metrics.ts";
import type { MetricsDto } from "./category-sync.schemas.ts";
import { CATEGORY_SYNC_METRICS, countPendingCategorySyncs } from "./sync-jobs.service.ts";

/*
 * The admin metrics answer: counters each domain writes into metric_counters, read back over a window.
 * Other domains write their own names (see the groups below); this module only reads them.
 */

const GROUPS = {
  category_sync: {
    succeeded: CATEGORY_SYNC_METRICS.succeeded,
    failed: CATEGORY_SYNC_METRICS.failed,
    dead: CATEGORY_SYNC_METRICS.dead,
    skipped: CATEGORY_SYNC_METRICS.skipped,
  },
  webhooks: {
    accepted: "webhooks.accepted",
    duplicate: "webhooks.duplicate",
    rejected: "webhooks.rejected",
    processed: "webhooks.processed",
    failed: "webhooks.failed",
    dead: "webhooks.dead",
  },
  reconciliation: {
    runs: "reconcile.runs",
    items: "reconcile.items",
    added: "reconcile.added",
    updated: "reconcile.updated",
    removed: "reconcile.removed",
  },
} as const;

type Groups = typeof GROUPS;
type GroupCounts = { [G in keyof Groups]: { [K in keyof Groups[G]]: number } };

/** Every counter name the metrics endpoint reads. */
export const METRIC_NAMES: string[] = Object.values(GROUPS).flatMap((group) => Object.values(group));

function pick(totals: Record<string, number>): GroupCounts {
  const group = <G extends keyof Groups>(name: G) =>
    Object.fromEntries(Object.entries(GROUPS[name]).map(([key, counter]) => [key, totals[counter] ?? 0])) as GroupCounts[G];
  return { category_sync: group("category_sync"), webhooks: group("webhooks"), reconciliation: group("reconciliation") };
}

/** succeeded / (succeeded + failed + dead), rounded to 4 places; null when nothing finished. */
export function successRate(counts: { succeeded: number; failed: number; dead: number }): number | null {
  const finished = counts.succeeded + counts.failed + counts.dead;
  return finished === 0 ? null : Math.round((counts.succeeded / finished) * 10_000) / 10_000;
}

/**
 * Totals and a zero-filled series (hourly for 24h, daily for 7d/30d) over the same bucket-aligned range,
 * so the series always sums to the totals; `pending` is the current number of pending sync jobs.
 */
export async function adminMetrics(db: Db, window: MetricWindow, now: Date = new Date()): Promise<MetricsDto> {
  const range = windowRange(window, now);
  const [totals, series, pending] = await Promise.all([
    sumCounters(db, METRIC_NAMES, range.from, range.to),
    counterSeries(db, METRIC_NAMES, range),
    countPendingCategorySyncs(db),
  ]);
  const counts = pick(totals);
  return {
    window,
    category_sync: { ...counts.category_sync, pending, success_rate: successRate(counts.category_sync) },
    webhooks: counts.webhooks,
    reconciliation: counts.reconciliation,
    series: series.map((point) => ({ bucket: point.bucket, ...pick(point.counts) })),
  };
}
