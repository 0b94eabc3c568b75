import { describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { metricCounters, webhookEvents } from "../../src/db/schema.ts";
import { counterSeries, dayBucket, hourBucket, incrementCounter, sumCounters, windowRange } from "../../src/platform/metrics.ts";
import { adminMetrics, successRate } from "../../src/category-sync/metrics.service.ts";
import { ledgerCounters } from "../../src/ledger/ledger.schema.ts";
import { ROLLUP_INTERVAL_MS } from "../../src/ledger/user-ledger.ts";
import { authHeaders, uniqueUser } from "../helpers/auth.ts";
import { body, call } from "../helpers/http.ts";
import { makeCategory } from "../helpers/factories.ts";
import { inLedger, ledgerOf } from "../helpers/ledger.ts";
import { runInDurableObject } from "cloudflare:test";
import { PLUGGY, db, localTransaction, mappedCategory, rollUpNow, runLedgerAlarm } from "./support.ts";

/*
 * Hourly counters and the metrics answer built from them. Counter names are unique per test (or the
 * instants are far in the past), so tests never see each other's counts.
 */

const name = () => `test.${crypto.randomUUID()}`;

describe("metric buckets and windows", () => {
  it("labels hourly and daily buckets in UTC", () => {
    const at = new Date("2026-03-04T05:59:59.999Z");
    expect(hourBucket(at)).toBe("2026-03-04T05:00:00Z");
    expect(dayBucket(at)).toBe("2026-03-04T00:00:00Z");
  });

  it.each([
    { window: "24h" as const, count: 24, first: "2026-03-03T06:00:00Z", last: "2026-03-04T05:00:00Z", to: "2026-03-04T06:00:00.000Z" },
    { window: "7d" as const, count: 7, first: "2026-02-26T00:00:00Z", last: "2026-03-04T00:00:00Z", to: "2026-03-05T00:00:00.000Z" },
    { window: "30d" as const, count: 30, first: "2026-02-03T00:00:00Z", last: "2026-03-04T00:00:00Z", to: "2026-03-05T00:00:00.000Z" },
  ])("$window covers $count buckets ending with the current one", ({ window, count, first, last, to }) => {
    const range = windowRange(window, new Date("2026-03-04T05:30:00Z"));
    expect(range.buckets).toHaveLength(count);
    expect(range.buckets[0]).toBe(first);
    expect(range.buckets.at(-1)).toBe(last);
    expect(range.from.toISOString()).toBe(first.replace("Z", ".000Z"));
    expect(range.to.toISOString()).toBe(to);
  });
});

describe("counters", () => {
  it("upserts count = count + n in the hour's bucket", async () => {
    const counter = name();
    const at = new Date("2025-01-02T03:04:05Z");
    await incrementCounter({ catalog: db() }, counter, 1, at);
    await incrementCounter({ catalog: db() }, counter, 1, new Date("2025-01-02T03:59:00Z"));
    await incrementCounter({ catalog: db() }, counter, 5, at);
    await incrementCounter({ catalog: db() }, counter, 0, at);
    const rows = await db().select().from(metricCounters).where(and(eq(metricCounters.name, counter)));
    expect(rows).toEqual([{ bucket: "2025-01-02T03:00:00Z", name: counter, count: 7 }]);
  });

  it("sums a window (from inclusive, to exclusive) and zero-fills names never counted", async () => {
    const [a, b, never] = [name(), name(), name()];
    await incrementCounter({ catalog: db() }, a, 2, new Date("2025-02-01T00:10:00Z"));
    await incrementCounter({ catalog: db() }, a, 3, new Date("2025-02-01T05:10:00Z"));
    await incrementCounter({ catalog: db() }, a, 100, new Date("2025-02-01T06:00:00Z"));
    await incrementCounter({ catalog: db() }, b, 4, new Date("2025-01-31T23:59:59Z"));
    await incrementCounter({ catalog: db() }, b, 1, new Date("2025-02-01T01:00:00Z"));
    const totals = await sumCounters({ catalog: db() }, [a, b, never], new Date("2025-02-01T00:00:00Z"), new Date("2025-02-01T06:00:00Z"));
    expect(totals).toEqual({ [a]: 5, [b]: 1, [never]: 0 });
  });

  it("builds an hourly series that sums to the totals", async () => {
    const counter = name();
    const now = new Date("2025-03-10T12:30:00Z");
    await incrementCounter({ catalog: db() }, counter, 2, new Date("2025-03-10T12:01:00Z"));
    await incrementCounter({ catalog: db() }, counter, 3, new Date("2025-03-10T01:00:00Z"));
    await incrementCounter({ catalog: db() }, counter, 9, new Date("2025-03-09T12:00:00Z")); // 24h + 30 min ago: outside
    const range = windowRange("24h", now);
    const series = await counterSeries({ catalog: db() }, [counter], range);
    expect(series).toHaveLength(24);
    expect(series.find((p) => p.bucket === "2025-03-10T12:00:00Z")?.counts[counter]).toBe(2);
    expect(series.find((p) => p.bucket === "2025-03-10T01:00:00Z")?.counts[counter]).toBe(3);
    const total = series.reduce((sum, p) => sum + (p.counts[counter] ?? 0), 0);
    expect(total).toBe(5);
    expect((await sumCounters({ catalog: db() }, [counter], range.from, range.to))[counter]).toBe(5);
  });

  it("rolls hours up into days for 7d", async () => {
    const counter = name();
    const now = new Date("2025-04-07T08:00:00Z");
    await incrementCounter({ catalog: db() }, counter, 1, new Date("2025-04-07T00:00:00Z"));
    await incrementCounter({ catalog: db() }, counter, 2, new Date("2025-04-07T07:59:00Z"));
    await incrementCounter({ catalog: db() }, counter, 4, new Date("2025-04-01T23:00:00Z"));
    await incrementCounter({ catalog: db() }, counter, 8, new Date("2025-03-31T23:59:00Z")); // outside
    const series = await counterSeries({ catalog: db() }, [counter], windowRange("7d", now));
    expect(series.map((p) => p.counts[counter])).toEqual([4, 0, 0, 0, 0, 0, 3]);
    expect(series.map((p) => p.bucket)).toEqual([
      "2025-04-01T00:00:00Z",
      "2025-04-02T00:00:00Z",
      "2025-04-03T00:00:00Z",
      "2025-04-04T00:00:00Z",
      "2025-04-05T00:00:00Z",
      "2025-04-06T00:00:00Z",
      "2025-04-07T00:00:00Z",
    ]);
  });
});

describe("metrics answer", () => {
  it.each([
    { counts: { succeeded: 0, failed: 0, dead: 0 }, rate: null },
    { counts: { succeeded: 3, failed: 0, dead: 0 }, rate: 1 },
    { counts: { succeeded: 3, failed: 1, dead: 0 }, rate: 0.75 },
    { counts: { succeeded: 1, failed: 1, dead: 1 }, rate: 0.3333 },
    { counts: { succeeded: 0, failed: 2, dead: 2 }, rate: 0 },
  ])("success_rate of $counts is $rate", ({ counts, rate }) => {
    expect(successRate(counts)).toBe(rate);
  });

  it("reads category_sync, webhooks and reconciliation counters over the window", async () => {
    const now = new Date("2024-06-15T10:20:00Z");
    const inWindow = new Date("2024-06-15T09:00:00Z");
    const bumps: Array<[string, number]> = [
      ["category_sync.succeeded", 6],
      ["category_sync.failed", 1],
      ["category_sync.dead", 1],
      ["category_sync.skipped", 4],
      ["webhooks.duplicate", 2],
      ["webhooks.rejected", 3],
      ["webhooks.processed", 9],
      ["webhooks.failed", 1],
      ["webhooks.dead", 0],
      ["reconcile.runs", 2],
      ["reconcile.added", 5],
    ];
    for (const [counter, n] of bumps) await incrementCounter({ catalog: db() }, counter, n, inWindow);
    // Webhook deliveries are counters too (written at intake): 10 accepted in the window, one 2 days before.
    await incrementCounter({ catalog: db() }, "webhooks.accepted", 10, new Date("2024-06-15T09:30:00.000Z"));
    await incrementCounter({ catalog: db() }, "webhooks.rejected", 1, new Date("2024-06-15T09:31:00.000Z"));
    await incrementCounter({ catalog: db() }, "webhooks.accepted", 1, new Date("2024-06-13T09:00:00.000Z"));
    // 2 of the accepted ones came without a signature, on the header token alone (the signature rollout).
    await incrementCounter({ catalog: db() }, "webhooks.unsigned", 2, new Date("2024-06-15T09:30:00.000Z"));
    // Event rows are not what is counted (erasure and retention delete or purge them).
    const row = (status: "processed" | "rejected") => ({
      eventId: crypto.randomUUID(),
      event: "item/updated",
      status,
      receivedAt: "2024-06-15T09:45:00.000Z",
      bodySha256: "0".repeat(64),
      r2Key: `test/${crypto.randomUUID()}`,
      updatedAt: "2024-06-15T09:45:00.000Z",
    });
    await db().insert(webhookEvents).values([row("processed"), row("rejected")]);
    await incrementCounter({ catalog: db() }, "category_sync.succeeded", 50, new Date("2024-06-14T09:00:00Z")); // outside 24h, inside 7d

    const day = await adminMetrics({ catalog: db() }, "24h", now);
    expect(day.window).toBe("24h");
    expect(day.category_sync).toMatchObject({ succeeded: 6, failed: 1, dead: 1, skipped: 4, success_rate: 0.75 });
    expect(typeof day.category_sync.pending).toBe("number");
    expect(day.webhooks).toEqual({ accepted: 10, unsigned: 2, duplicate: 2, rejected: 4, processed: 9, failed: 1, dead: 0 });
    expect(day.reconciliation).toEqual({ runs: 2, items: 0, added: 5, updated: 0, removed: 0 });
    expect(day.series).toHaveLength(24);
    const point = day.series.find((p) => p.bucket === "2024-06-15T09:00:00Z");
    expect(point?.category_sync).toEqual({ succeeded: 6, failed: 1, dead: 1, skipped: 4 });
    expect(point?.webhooks).toMatchObject({ accepted: 10, unsigned: 2 });
    expect(day.series.reduce((sum, p) => sum + p.category_sync.succeeded, 0)).toBe(6);

    const week = await adminMetrics({ catalog: db() }, "7d", now);
    expect(week.category_sync.succeeded).toBe(56);
    expect(week.category_sync.success_rate).toBe(Math.round((56 / 58) * 10_000) / 10_000);
    expect(week.series).toHaveLength(7);
    expect(week.series.at(-2)).toMatchObject({ bucket: "2024-06-14T00:00:00Z", category_sync: { succeeded: 50 } });
    expect(week.webhooks.accepted).toBe(11);
    expect(week.series.at(-3)).toMatchObject({ bucket: "2024-06-13T00:00:00Z", webhooks: { accepted: 1 } });
  });
});

describe("GET /api/admin/metrics/", () => {
  it("answers the contract's shape for each window, counting what just happened", async () => {
    const headers = await authHeaders(uniqueUser("admin"), { admin: true });
    const before = await body(await call("/api/admin/metrics/?window=24h", { headers }));
    const at = new Date();
    await incrementCounter({ catalog: db() }, "webhooks.duplicate", 3, at);
    await incrementCounter({ catalog: db() }, "category_sync.skipped", 2, at);
    for (const window of ["24h", "7d", "30d"]) {
      const res = await call(`/api/admin/metrics/?window=${window}`, { headers });
      expect(res.status).toBe(200);
      const { data } = await body(res);
      expect(Object.keys(data).sort()).toEqual(["category_sync", "reconciliation", "series", "webhooks", "window"]);
      expect(data.window).toBe(window);
      expect(Object.keys(data.category_sync).sort()).toEqual(["dead", "failed", "pending", "skipped", "succeeded", "success_rate"]);
      expect(Object.keys(data.webhooks).sort()).toEqual(["accepted", "dead", "duplicate", "failed", "processed", "rejected", "unsigned"]);
      expect(data.series).toHaveLength(window === "24h" ? 24 : window === "7d" ? 7 : 30);
    }
    const after = await body(await call("/api/admin/metrics", { headers }));
    expect(after.data.window).toBe("24h");
    expect(after.data.webhooks.duplicate - before.data.webhooks.duplicate).toBe(3);
    expect(after.data.category_sync.skipped - before.data.category_sync.skipped).toBe(2);
    // The hour the counts went into (the last point, unless the hour turned since).
    expect(after.data.series.find((point: { bucket: string }) => point.bucket === hourBucket(at)).webhooks.duplicate).toBeGreaterThanOrEqual(3);
  });

  it.each(["1h", "24", "week", ""])("400 for window=%s", async (window) => {
    const headers = await authHeaders(uniqueUser("admin"), { admin: true });
    const res = await call(`/api/admin/metrics/?window=${window}`, { headers });
    expect(res.status).toBe(400);
    expect((await body(res)).error.details[0].field).toBe("window");
  });
});

describe("category-sync counters: counted in each ledger, rolled up into the catalog", () => {
  const admin = () => authHeaders(uniqueUser("admin"), { admin: true });
  const metrics = async (headers: Record<string, string>) => (await body(await call("/api/admin/metrics/?window=24h", { headers }))).data;
  const ledgerCountsOf = (userId: string) => inLedger(userId, (ledger) => ledger.select().from(ledgerCounters).all());
  const alarmOf = (userId: string) => runInDurableObject(ledgerOf(userId), (_instance, state) => state.storage.getAlarm());

  it("a change is counted in its ledger, which arms its alarm; the roll-up brings it to GET /api/admin/metrics/", async () => {
    const headers = await admin();
    const userId = uniqueUser();
    const transaction = await localTransaction(userId, { pluggyId: null });
    const before = await metrics(headers);
    const at = Date.now();
    const res = await call(`/api/banking/transactions/${transaction.id}/`, { method: "PATCH", headers: await authHeaders(userId), json: { category: (await makeCategory()).id } });
    expect((await body(res)).data.category_sync.status).toBe("skipped");
    // Counted in the ledger, not (yet) in the catalog: no D1 write per change.
    expect((await ledgerCountsOf(userId)).map((row) => [row.name, row.count])).toEqual([["category_sync.skipped", 1]]);
    expect((await metrics(headers)).category_sync.skipped).toBe(before.category_sync.skipped);
    // The alarm that rolls it up is armed for within a minute.
    const alarm = await alarmOf(userId);
    expect(alarm).not.toBeNull();
    expect(alarm ?? Infinity).toBeLessThanOrEqual(Date.now() + ROLLUP_INTERVAL_MS);
    expect(alarm ?? 0).toBeGreaterThanOrEqual(at + ROLLUP_INTERVAL_MS);

    await rollUpNow(userId);
    expect(await ledgerCountsOf(userId)).toEqual([]);
    const after = await metrics(headers);
    expect(after.category_sync.skipped - before.category_sync.skipped).toBe(1);
    expect(after.series.find((point: { bucket: string }) => point.bucket === hourBucket(new Date(at)))?.category_sync.skipped).toBeGreaterThanOrEqual(1);
    // Nothing left to roll up, nothing pending: no alarm.
    expect(await alarmOf(userId)).toBeNull();
  });

  it("writes a ledger's counters into the catalog at most once a minute", async () => {
    const headers = await admin();
    const userId = uniqueUser();
    const category = await makeCategory();
    const transaction = await localTransaction(userId, { pluggyId: null });
    const patch = async () => call(`/api/banking/transactions/${transaction.id}/`, { method: "PATCH", headers: await authHeaders(userId), json: { category: category.id } });
    await patch();
    await rollUpNow(userId);
    const before = await metrics(headers);

    // Counted right after a roll-up: the alarm runs (say, for a due job) but the minute has not passed.
    await patch();
    const alarm = await alarmOf(userId);
    expect(alarm ?? 0).toBeGreaterThan(Date.now() + ROLLUP_INTERVAL_MS / 2);
    expect(await runLedgerAlarm(userId)).toBe(true);
    expect((await ledgerCountsOf(userId)).map((row) => row.count)).toEqual([1]);
    expect((await metrics(headers)).category_sync.skipped).toBe(before.category_sync.skipped);
    // Still armed for the roll-up it owes.
    expect(await alarmOf(userId)).toBe(alarm);

    await rollUpNow(userId);
    expect(await ledgerCountsOf(userId)).toEqual([]);
    expect((await metrics(headers)).category_sync.skipped - before.category_sync.skipped).toBe(1);
  });

  it("pending counts the jobs pending in every ledger as of its last roll-up, and an erased ledger's leave it", async () => {
    const headers = await admin();
    const userId = uniqueUser();
    const transaction = await localTransaction(userId);
    const category = await mappedCategory(PLUGGY.pix);
    const before = (await metrics(headers)).category_sync.pending;
    const now = new Date();
    // Straight to the ledger (no message sent), due in an hour: the job stays pending throughout.
    const change = await ledgerOf(userId).changeCategory({ userId, transactionId: transaction.id, categoryId: category.id, pluggyCategoryId: PLUGGY.pix, skipReason: null, now, dueAt: new Date(now.getTime() + 60 * 60_000) });
    expect(change.outcome).toBe("queued");
    expect((await metrics(headers)).category_sync.pending).toBe(before);
    await rollUpNow(userId);
    expect((await metrics(headers)).category_sync.pending).toBe(before + 1);

    await ledgerOf(userId).eraseAll();
    expect((await metrics(headers)).category_sync.pending).toBe(before);
  });
});
