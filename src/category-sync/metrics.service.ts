import { counterSeries, sumCounters, windowRange, type MetricWindow } from "../platform/metrics.ts";
import { webhookMetrics, type WebhookCounts } from "../webhooks/webhook-metrics.ts";
import type { MetricsDto } from "./category-sync.schemas.ts";
import { CATEGORY_SYNC_METRICS, countPendingCategorySyncs } from "./sync-jobs.service.ts";
import type { CatalogDeps } from "../platform/services.ts";

/*
 * The admin metrics answer: counters each domain writes into metric_counters, read back over a window.
 * Other domains write their own names (see the groups below); this module only reads them. Webhooks
 * are the webhooks domain's own read (accepted/rejected come from webhook_events rows, not counters).
 */

const GROUPS = {
  category_sync: {
    succeeded: CATEGORY_SYNC_METRICS.succeeded,
    failed: CATEGORY_SYNC_METRICS.failed,
    dead: CATEGORY_SYNC_METRICS.dead,
    skipped: CATEGORY_SYNC_METRICS.skipped,
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
  return { category_sync: group("category_sync"), reconciliation: group("reconciliation") };
}

/**
 * The contract's webhook counts plus `unsigned` (accepted on the header token without a signature; the
 * webhooks domain also counts `ignored`, which is not shown).
 */
const contractWebhooks = (counts: WebhookCounts): MetricsDto["webhooks"] => ({
  accepted: counts.accepted,
  unsigned: counts.unsigned,
  duplicate: counts.duplicate,
  rejected: counts.rejected,
  processed: counts.processed,
  failed: counts.failed,
  dead: counts.dead,
});

/** succeeded / (succeeded + failed + dead), rounded to 4 places; null when nothing finished. */
export function successRate(counts: { succeeded: number; failed: number; dead: number }): number | null {
  const finished = counts.succeeded + counts.failed + counts.dead;
  return finished === 0 ? null : Math.round((counts.succeeded / finished) * 10_000) / 10_000;
}

/**
 * Totals and a zero-filled series (hourly for 24h, daily for 7d/30d) over the same bucket-aligned range,
 * so the series always sums to the totals; `pending` is the current number of pending sync jobs.
 */
export async function adminMetrics({ catalog: db }: CatalogDeps, window: MetricWindow, now: Date = new Date()): Promise<MetricsDto> {
  const range = windowRange(window, now);
  const [totals, series, pending, webhooks] = await Promise.all([
    sumCounters({ catalog: db }, METRIC_NAMES, range.from, range.to),
    counterSeries({ catalog: db }, METRIC_NAMES, range),
    countPendingCategorySyncs({ catalog: db }),
    webhookMetrics({ catalog: db }, range.from, range.to, range.granularity),
  ]);
  const counts = pick(totals);
  const webhookSeries = new Map(webhooks.series.map((point) => [point.bucket, point]));
  return {
    window,
    category_sync: { ...counts.category_sync, pending, success_rate: successRate(counts.category_sync) },
    webhooks: contractWebhooks(webhooks.totals),
    reconciliation: counts.reconciliation,
    series: series.map((point) => {
      const { category_sync, reconciliation } = pick(point.counts);
      const hooks = webhookSeries.get(point.bucket);
      return {
        bucket: point.bucket,
        category_sync,
        webhooks: contractWebhooks(hooks ?? { accepted: 0, unsigned: 0, duplicate: 0, rejected: 0, processed: 0, ignored: 0, failed: 0, dead: 0 }),
        reconciliation,
      };
    }),
  };
}
