import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq, ne } from "drizzle-orm";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { erasureRequests, items } from "../../src/db/schema.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { queueReconciliation, RECONCILE_CRON_SPREAD_SECONDS } from "../../src/reconcile/reconcile.service.ts";
import { HOURLY_CRON, runScheduled } from "../../src/scheduled.ts";
import { authHeaders, uniqueUser } from "../helpers/auth.ts";
import { makeItem } from "../helpers/factories.ts";
import { body, call } from "../helpers/http.ts";
import { sim } from "../helpers/simulator.ts";
import { db, expectInLineWithPluggy, localItem, mirroredItem, reconciliationMetrics, recordingQueue } from "./support.ts";

/*
 * The fan-out (admin API and hourly cron) and the auth around it. The admin API goes through the real
 * queue and consumer; the cron's selection and spreading are checked on a recording queue, since its
 * messages are delayed by design.
 */

const logger = createLogger({ test: "reconcile-fan-out" });
const admin = () => authHeaders("ops-admin", { admin: true });
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();

describe("POST /api/admin/reconcile/ — auth", () => {
  it.each([
    ["no token", 401, "unauthorized", async () => ({})],
    ["a bad token", 401, "unauthorized", async () => ({ Authorization: "Bearer not-a-jwt" })],
    ["a user (not admin) token", 403, "forbidden", async () => authHeaders(uniqueUser())],
  ])("with %s → %i %s", async (_label, status, code, headers) => {
    const response = await call("/api/admin/reconcile/", { method: "POST", headers: await headers(), json: {} });
    expect(response.status).toBe(status);
    expect((await body(response)).error.code).toBe(code);
  });
});

describe("POST /api/admin/reconcile/", () => {
  it("rejects a malformed body (400) and an item we do not have (404)", async () => {
    for (const json of [{ item_id: "not-a-uuid" }, { item_id: crypto.randomUUID(), extra: true }]) {
      const response = await call("/api/admin/reconcile/", { method: "POST", headers: await admin(), json });
      expect(response.status).toBe(400);
      expect((await body(response)).error.code).toBe("validation_error");
    }
    const missing = await call("/api/admin/reconcile", { method: "POST", headers: await admin(), json: { item_id: crypto.randomUUID() } });
    expect(missing.status).toBe(404);
    expect((await body(missing)).error.code).toBe("not_found");
  });

  it("queues one item (202 {queued: 1}); the consumer heals it and the metrics show what it healed", async () => {
    const userId = uniqueUser("reconcile");
    const { item, account, recent } = await mirroredItem(userId);
    await sim.addTransactions(item.id, { accountId: account.id, count: 2 });
    await sim.updateTransaction(recent.id, { description: "DESCRICAO NOVA" });
    const before = await reconciliationMetrics();

    const response = await call("/api/admin/reconcile/", { method: "POST", headers: await admin(), json: { item_id: item.id } });
    expect(response.status).toBe(202);
    expect(await body(response)).toEqual({ data: { queued: 1 } });

    await vi.waitUntil(async () => (await localItem(item.id))?.lastReconciledAt !== null, { timeout: 10_000, interval: 50 });
    await expectInLineWithPluggy(item.id, userId);
    expect(await reconciliationMetrics()).toEqual({ ...before, runs: before.runs + 1, items: before.items + 1, added: before.added + 2, updated: before.updated + 1 });
  });

  it("without a body queues every active item (not those of a user being erased) and they are all reconciled", async () => {
    const a = await mirroredItem(uniqueUser("reconcile"));
    const b = await mirroredItem(uniqueUser("reconcile"));
    const erasing = uniqueUser("erasing");
    const held = await makeItem(erasing);
    await db.insert(erasureRequests).values({ userId: erasing, status: "queued", requestedAt: new Date().toISOString() });
    await sim.deleteItem(b.item.id);
    const active = (await db.select({ id: items.id }).from(items)).map((row) => row.id).filter((id) => id !== held.id);
    const requestedAt = new Date().toISOString();

    const response = await call("/api/admin/reconcile", { method: "POST", headers: await admin() });
    expect(response.status).toBe(202);
    expect(await body(response)).toEqual({ data: { queued: active.length } });

    // Every queued item is reconciled (or, gone at Pluggy, removed) — the test leaves no work behind.
    const settled = async (id: string) => {
      const row = await localItem(id);
      return row === undefined || (row.lastReconciledAt ?? "") >= requestedAt;
    };
    await vi.waitUntil(async () => (await Promise.all(active.map(settled))).every(Boolean), { timeout: 20_000, interval: 100 });
    expect((await localItem(a.item.id))?.lastReconciledAt).not.toBeNull();
    expect(await localItem(b.item.id)).toBeUndefined();
    expect(await localItem(held.id)).toMatchObject({ lastReconciledAt: null }); // untouched while its owner is erased
  });
});

describe("queueReconciliation (the fan-out)", () => {
  it("picks the least recently reconciled first (never reconciled leading), at most `limit`, in sendBatch calls of ≤ 100", async () => {
    const owner = uniqueUser("fan-out");
    onTestFinished(() => removeItemsOf(owner));
    const stale = await makeItem(owner, { lastReconciledAt: hoursAgo(30) });
    const fresh = await makeItem(owner, { lastReconciledAt: hoursAgo(1) });
    const never = await makeItem(owner, { lastReconciledAt: null });
    const bulk = Array.from({ length: 240 }, () => ({ ...bulkItem(owner), lastReconciledAt: hoursAgo(20) }));
    for (let i = 0; i < bulk.length; i += 7) await db.insert(items).values(bulk.slice(i, i + 7));
    const others = new Set([stale.id, fresh.id, never.id, ...bulk.map((i) => i.id)]);

    await everythingElseReconciledNow(owner);
    const recording = recordingQueue();
    // Everything else in this file's D1 was just reconciled, so 242 = never + stale + the 240 bulk.
    const queued = await queueReconciliation({ catalog: db, eventsQueue: recording.queue, logger }, { trigger: "admin", limit: 242 });
    expect(queued).toBe(242);
    expect(recording.batches.map((batch) => batch.length)).toEqual([100, 100, 42]);
    const ids = recording.messages().flatMap((m) => (m.body.kind === "item.reconcile" ? [m.body.itemId] : []));
    expect(ids.every((id) => others.has(id))).toBe(true);
    // Never reconciled first, then the oldest; the freshest does not fit.
    expect(ids[0]).toBe(never.id);
    expect(ids[1]).toBe(stale.id);
    expect(ids).not.toContain(fresh.id);
    expect(recording.messages().every((m) => m.body.kind === "item.reconcile" && m.body.trigger === "admin" && m.delaySeconds === undefined)).toBe(true);
  });

  it("the cron skips items reconciled in the last hours and spreads delivery over most of the hour", async () => {
    const owner = uniqueUser("fan-out");
    onTestFinished(() => removeItemsOf(owner));
    await makeItem(owner, { lastReconciledAt: hoursAgo(2) }); // reconciled recently: not due
    const due = await makeItem(owner, { lastReconciledAt: hoursAgo(7) });
    const older = await makeItem(owner, { lastReconciledAt: hoursAgo(30) });
    const never = await makeItem(owner, { lastReconciledAt: null });
    await everythingElseReconciledNow(owner);
    const recording = recordingQueue();
    const queued = await queueReconciliation({ catalog: db, eventsQueue: recording.queue, logger }, { trigger: "cron" });
    const messages = recording.messages();
    expect(queued).toBe(3);
    // Never reconciled first, then the oldest; evenly spread from now over the spread window.
    expect(messages.map((m) => (m.body.kind === "item.reconcile" ? m.body.itemId : ""))).toEqual([never.id, older.id, due.id]);
    expect(messages.map((m) => m.delaySeconds)).toEqual([0, Math.floor(RECONCILE_CRON_SPREAD_SECONDS / 3), Math.floor((2 * RECONCILE_CRON_SPREAD_SECONDS) / 3)]);
    expect(RECONCILE_CRON_SPREAD_SECONDS).toBeGreaterThanOrEqual(30 * 60);
    expect(RECONCILE_CRON_SPREAD_SECONDS).toBeLessThan(60 * 60);
  });

  it("counts a run, even one with nothing to queue", async () => {
    const before = await reconciliationMetrics();
    const recording = recordingQueue();
    await queueReconciliation({ catalog: db, eventsQueue: recording.queue, logger }, { trigger: "cron", minIntervalHours: 1_000_000, limit: 0 });
    expect(recording.batches).toEqual([]);
    expect((await reconciliationMetrics()).runs).toBe(before.runs + 1);
  });

  it("runs from the hourly cron trigger", async () => {
    const owner = uniqueUser("cron");
    onTestFinished(() => removeItemsOf(owner));
    const due = await makeItem(owner, { lastReconciledAt: null });
    const recording = recordingQueue();
    const controller = createScheduledController({ cron: HOURLY_CRON, scheduledTime: Date.now() });
    await runScheduled(controller, { ...env, EVENTS_QUEUE: recording.queue }, createExecutionContext());
    const itemIds = recording.messages().flatMap((m) => (m.body.kind === "item.reconcile" ? [m.body.itemId] : []));
    expect(itemIds).toContain(due.id);
    expect(recording.messages().every((m) => m.body.kind !== "item.reconcile" || m.body.trigger === "cron")).toBe(true);
  });
});

/**
 * Marks every item in this file's D1 that is not `owner`'s as reconciled now, so a fan-out sees only the
 * test's own items as due, whatever ran before it in this file.
 */
async function everythingElseReconciledNow(owner: string): Promise<void> {
  await db.update(items).set({ lastReconciledAt: new Date().toISOString() }).where(ne(items.userId, owner));
}

/**
 * These items exist only here (never at Pluggy, never reconciled through the real queue): removed when
 * their test ends, so a later test's "every active item" is not hundreds of items it never made.
 */
async function removeItemsOf(owner: string): Promise<void> {
  await db.delete(items).where(eq(items.userId, owner));
}

function bulkItem(userId: string): typeof items.$inferInsert {
  const now = new Date().toISOString();
  return { id: crypto.randomUUID(), userId, status: "UPDATED", createdAt: now, updatedAt: now };
}
