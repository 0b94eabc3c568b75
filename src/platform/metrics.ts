import { and, gte, inArray, lt, sql } from "drizzle-orm";
import { metricCounters } from "../db/schema.ts";
import type { CatalogDeps } from "./services.ts";

/*
 * Operational counters in D1 (`metric_counters`), bucketed by the hour. Cheap to write (one upsert),
 * cheap to read (index on name, bucket), and good enough for the admin dashboard and the ops CLI.
 * Names are "<domain>.<outcome>", e.g. `category_sync.succeeded`, `webhooks.duplicate`, `reconcile.added`.
 */

/** Windows the metrics endpoint and CLI accept, with the bucket size of their series. */
export const METRIC_WINDOWS = {
  "24h": { buckets: 24, granularity: "hour" },
  "7d": { buckets: 7, granularity: "day" },
  "30d": { buckets: 30, granularity: "day" },
} as const;
export type MetricWindow = keyof typeof METRIC_WINDOWS;
export type Granularity = "hour" | "day";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The hourly bucket an instant falls in: "YYYY-MM-DDTHH:00:00Z". */
export function hourBucket(at: Date): string {
  return `${at.toISOString().slice(0, 13)}:00:00Z`;
}

/** The daily bucket an instant falls in: "YYYY-MM-DDT00:00:00Z". */
export function dayBucket(at: Date): string {
  return `${at.toISOString().slice(0, 10)}T00:00:00Z`;
}

function floorTo(at: Date, granularity: Granularity): Date {
  const step = granularity === "hour" ? HOUR_MS : DAY_MS;
  return new Date(Math.floor(at.getTime() / step) * step);
}

/**
 * The statement that adds `n` to a counter's current hourly bucket. Returned unexecuted so callers can
 * put it in the same `db.batch()` as the state change it counts (the count then cannot drift from it).
 */
export function counterIncrement({ catalog: db }: CatalogDeps, name: string, n = 1, at: Date = new Date()) {
  return db
    .insert(metricCounters)
    .values({ bucket: hourBucket(at), name, count: n })
    .onConflictDoUpdate({ target: [metricCounters.bucket, metricCounters.name], set: { count: sql`${metricCounters.count} + ${n}` } });
}

/** Adds `n` (default 1) to counter `name` in the hourly bucket of `at` (default now). */
export async function incrementCounter({ catalog: db }: CatalogDeps, name: string, n = 1, at: Date = new Date()): Promise<void> {
  if (n === 0) return;
  await counterIncrement({ catalog: db }, name, n, at);
}

export interface MetricRange {
  /** Inclusive start (a bucket boundary). */
  from: Date;
  /** Exclusive end: the end of the bucket holding `now`. */
  to: Date;
  granularity: Granularity;
  /** Bucket labels, oldest first. */
  buckets: string[];
}

/**
 * The range a window covers, aligned on buckets and ending with the bucket that holds `now`: "24h" is
 * the current hour and the 23 before it; "7d" is today (UTC) and the 6 days before. Totals and series
 * are both computed over exactly this range, so the series always sums to the totals.
 */
export function windowRange(window: MetricWindow, now: Date = new Date()): MetricRange {
  const { buckets: count, granularity } = METRIC_WINDOWS[window];
  const step = granularity === "hour" ? HOUR_MS : DAY_MS;
  const last = floorTo(now, granularity);
  const from = new Date(last.getTime() - (count - 1) * step);
  const label = granularity === "hour" ? hourBucket : dayBucket;
  const buckets = Array.from({ length: count }, (_, i) => label(new Date(from.getTime() + i * step)));
  return { from, to: new Date(last.getTime() + step), granularity, buckets };
}

/** Sums each named counter over `[from, to)`; names never counted come back as 0. */
export async function sumCounters({ catalog: db }: CatalogDeps, names: readonly string[], from: Date, to: Date): Promise<Record<string, number>> {
  const totals: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0]));
  if (names.length === 0) return totals;
  const rows = await db
    .select({ name: metricCounters.name, total: sql<number>`sum(${metricCounters.count})` })
    .from(metricCounters)
    .where(and(inArray(metricCounters.name, [...names]), gte(metricCounters.bucket, hourBucket(from)), lt(metricCounters.bucket, hourBucket(to))))
    .groupBy(metricCounters.name);
  for (const row of rows) totals[row.name] = Number(row.total);
  return totals;
}

export interface SeriesPoint {
  bucket: string;
  counts: Record<string, number>;
}

/**
 * Every bucket of the range (zero-filled) with each named counter's sum in it; hourly rows are rolled
 * up into days for a daily range.
 */
export async function counterSeries({ catalog: db }: CatalogDeps, names: readonly string[], range: MetricRange): Promise<SeriesPoint[]> {
  const points = new Map<string, Record<string, number>>(
    range.buckets.map((bucket) => [bucket, Object.fromEntries(names.map((name) => [name, 0]))]),
  );
  if (names.length > 0) {
    const rows = await db
      .select({ bucket: metricCounters.bucket, name: metricCounters.name, count: metricCounters.count })
      .from(metricCounters)
      .where(and(inArray(metricCounters.name, [...names]), gte(metricCounters.bucket, hourBucket(range.from)), lt(metricCounters.bucket, hourBucket(range.to))));
    for (const row of rows) {
      const label = range.granularity === "hour" ? row.bucket : `${row.bucket.slice(0, 10)}T00:00:00Z`;
      const counts = points.get(label);
      if (counts) counts[row.name] = (counts[row.name] ?? 0) + row.count;
    }
  }
  return [...points].map(([bucket, counts]) => ({ bucket, counts }));
}
