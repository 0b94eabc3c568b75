import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq, ne } from "drizzle-orm";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { itemDirectory } from "../../src/catalog/directory.schema.ts";
import { erasureRequests } from "../../src/db/schema.ts";
import { createLogger, type Logger } from "../../src/platform/logger.ts";
import { nextReconcileAfter } from "../../src/reconcile/reconcile.config.ts";
import { queueReconciliation, RECONCILE_CRON_SPREAD_SECONDS, RECONCILE_LEASE_HOURS } from "../../src/reconcile/reconcile.service.ts";
import { HOURLY_CRON, runScheduled } from "../../src/scheduled.ts";
import { authHeaders, uniqueUser } from "../helpers/auth.ts";
import { makeItem } from "../helpers/factories.ts";
import { body, call } from "../helpers/http.ts";
import { sim } from "../helpers/simulator.ts";
import { db, deliver, directoryEntry, expectInLineWithPluggy, localItem, mirroredItem, reconciliationMetrics, recordingQueue } from "./support.ts";

/*
 * The fan-out (admin API and hourly cron) and the auth around it. The admin API goes through the real
 * queue and consumer; the cron's selection (the item directory's due `next_reconcile_at`), spreading and
 * leases are checked on a recording queue, since its messages are delayed by design, and its messages
 * are then handed to the Worker's queue entry where a test needs them consumed.
 */

const logger = createLogger({ test: "reconcile-fan-out" });
const admin = () => authHeaders("ops-admin", { admin: true });
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();
const HOUR_MS = 3_600_000;

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

    await vi.waitUntil(async () => (await localItem(userId, item.id))?.lastReconciledAt !== null, { timeout: 10_000, interval: 50 });
    await expectInLineWithPluggy(item.id, userId);
    expect(await reconciliationMetrics()).toEqual({ ...before, runs: before.runs + 1, items: before.items + 1, added: before.added + 2, updated: before.updated + 1 });
  });

  it("without a body queues every active item (not those of a user being erased) and they are all reconciled", async () => {
    const aUser = uniqueUser("reconcile");
    const bUser = uniqueUser("reconcile");
    const a = await mirroredItem(aUser);
    const b = await mirroredItem(bUser);
    const erasing = uniqueUser("erasing");
    const held = await makeItem(erasing);
    await db.insert(erasureRequests).values({ userId: erasing, status: "queued", requestedAt: new Date().toISOString() });
    await sim.deleteItem(b.item.id);
    const active = (await db.select({ itemId: itemDirectory.itemId, userId: itemDirectory.userId }).from(itemDirectory)).filter((row) => row.itemId !== held.id);
    const requestedAt = new Date().toISOString();

    const response = await call("/api/admin/reconcile", { method: "POST", headers: await admin() });
    expect(response.status).toBe(202);
    expect(await body(response)).toEqual({ data: { queued: active.length } });

    // Every queued item is reconciled (or, gone at Pluggy, removed) — the test leaves no work behind.
    const settled = async ({ itemId, userId }: { itemId: string; userId: string }) => {
      const row = await localItem(userId, itemId);
      return row === undefined || (row.lastReconciledAt ?? "") >= requestedAt;
    };
    await vi.waitUntil(async () => (await Promise.all(active.map(settled))).every(Boolean), { timeout: 20_000, interval: 100 });
    expect((await localItem(aUser, a.item.id))?.lastReconciledAt).not.toBeNull();
    expect(await localItem(bUser, b.item.id)).toBeUndefined();
    expect(await directoryEntry(b.item.id)).toBeUndefined();
    expect(await localItem(erasing, held.id)).toMatchObject({ lastReconciledAt: null }); // untouched while its owner is erased
  });
});

describe("queueReconciliation (the fan-out)", () => {
  it("admin: every item, the most overdue first, at most `limit`, in sendBatch calls of ≤ 100, not leased", async () => {
    const owner = uniqueUser("fan-out");
    onTestFinished(() => removeItemsOf(owner));
    const stale = await directoryItem(owner, hoursAgo(24));
    const fresh = await directoryItem(owner, hoursFromNow(5));
    const oldest = await directoryItem(owner, hoursAgo(100));
    const bulk = Array.from({ length: 240 }, () => directoryRow(owner, hoursAgo(14)));
    for (let i = 0; i < bulk.length; i += 20) await db.insert(itemDirectory).values(bulk.slice(i, i + 20));
    const others = new Set([stale.itemId, fresh.itemId, oldest.itemId, ...bulk.map((i) => i.itemId)]);

    await everythingElseScheduledLater(owner);
    const recording = recordingQueue();
    // Everything else in this file's directory is scheduled far out, so 242 = oldest + stale + the 240 bulk.
    const queued = await queueReconciliation({ catalog: db, eventsQueue: recording.queue, logger }, { trigger: "admin", limit: 242 });
    expect(queued).toBe(242);
    expect(recording.batches.map((batch) => batch.length)).toEqual([100, 100, 42]);
    const ids = recording.messages().flatMap((m) => (m.body.kind === "item.reconcile" ? [m.body.itemId] : []));
    expect(ids.every((id) => others.has(id))).toBe(true);
    // The most overdue first; the one not due yet does not fit.
    expect(ids[0]).toBe(oldest.itemId);
    expect(ids[1]).toBe(stale.itemId);
    expect(ids).not.toContain(fresh.itemId);
    expect(recording.messages().every((m) => m.body.kind === "item.reconcile" && m.body.trigger === "admin" && m.delaySeconds === undefined)).toBe(true);
    // An admin call leases nothing: the schedule is left to the runs themselves.
    expect(await directoryEntry(stale.itemId)).toEqual(stale);
  });

  it("the cron queues only due items, most overdue first, spreads delivery over most of the hour, and leases what it queued", async () => {
    const owner = uniqueUser("fan-out");
    onTestFinished(() => removeItemsOf(owner));
    const notDue = await directoryItem(owner, hoursFromNow(4));
    const due = await directoryItem(owner, hoursAgo(1));
    const older = await directoryItem(owner, hoursAgo(24));
    const oldest = await directoryItem(owner, hoursAgo(100));
    await everythingElseScheduledLater(owner);
    const recording = recordingQueue();
    const now = new Date();
    const queued = await queueReconciliation({ catalog: db, eventsQueue: recording.queue, logger }, { trigger: "cron", now });
    const messages = recording.messages();
    expect(queued).toBe(3);
    // Most overdue first; evenly spread from now over the spread window.
    expect(messages.map((m) => (m.body.kind === "item.reconcile" ? m.body.itemId : ""))).toEqual([oldest.itemId, older.itemId, due.itemId]);
    expect(messages.map((m) => m.delaySeconds)).toEqual([0, Math.floor(RECONCILE_CRON_SPREAD_SECONDS / 3), Math.floor((2 * RECONCILE_CRON_SPREAD_SECONDS) / 3)]);
    expect(RECONCILE_CRON_SPREAD_SECONDS).toBeGreaterThanOrEqual(30 * 60);
    expect(RECONCILE_CRON_SPREAD_SECONDS).toBeLessThan(60 * 60);
    // Leased past the next hourly run, so a pending message is not queued twice; the one not due is untouched.
    const lease = new Date(now.getTime() + RECONCILE_LEASE_HOURS * HOUR_MS).toISOString();
    expect(RECONCILE_LEASE_HOURS).toBeGreaterThan(1);
    for (const entry of [due, older, oldest]) expect(await directoryEntry(entry.itemId)).toEqual({ ...entry, nextReconcileAt: lease });
    expect(await directoryEntry(notDue.itemId)).toEqual(notDue);
    const again = recordingQueue();
    expect(await queueReconciliation({ catalog: db, eventsQueue: again.queue, logger }, { trigger: "cron", now: new Date(now.getTime() + HOUR_MS) })).toBe(0);
  });

  it("the cron is sized by what is due: all of it, beyond any fixed count, up to its bound, and logs how many remain", async () => {
    const owner = uniqueUser("fan-out");
    onTestFinished(() => removeItemsOf(owner));
    const many = Array.from({ length: 600 }, (_, i) => directoryRow(owner, new Date(Date.now() - HOUR_MS - i * 1000).toISOString()));
    for (let i = 0; i < many.length; i += 20) await db.insert(itemDirectory).values(many.slice(i, i + 20));
    await everythingElseScheduledLater(owner);
    const all = recordingQueue();
    expect(await queueReconciliation({ catalog: db, eventsQueue: all.queue, logger }, { trigger: "cron" })).toBe(600);
    expect(all.batches.map((batch) => batch.length)).toEqual([100, 100, 100, 100, 100, 100]);
    expect(new Set(all.messages().map((m) => (m.body.kind === "item.reconcile" ? m.body.itemId : "")))).toEqual(new Set(many.map((row) => row.itemId)));

    // Over the bound: the rest stay due, the run says how many, and the next run takes them.
    const five = Array.from({ length: 5 }, (_, i) => directoryRow(owner, hoursAgo(2 + i)));
    await db.insert(itemDirectory).values(five);
    const { logger: recorder, lines } = recordingLogger();
    const bounded = recordingQueue();
    expect(await queueReconciliation({ catalog: db, eventsQueue: bounded.queue, logger: recorder }, { trigger: "cron", limit: 3 })).toBe(3);
    expect(lines.find((line) => line.message === "reconciliation queued")?.fields).toMatchObject({ queued: 3, remaining_due: 2 });
    expect(lines.some((line) => line.level === "warn" && line.fields?.["remaining_due"] === 2)).toBe(true);
    const next = recordingQueue();
    expect(await queueReconciliation({ catalog: db, eventsQueue: next.queue, logger }, { trigger: "cron", limit: 3 })).toBe(2);
    const ids = [...bounded.messages(), ...next.messages()].map((m) => (m.body.kind === "item.reconcile" ? m.body.itemId : ""));
    expect(ids.sort()).toEqual(five.map((row) => row.itemId).sort());
  });

  it("picks only due items and, once each is reconciled, moves it the minimum interval forward; a far-future item is not touched", async () => {
    const userId = uniqueUser("fan-out");
    const dueItem = await mirroredItem(userId);
    const farItem = await mirroredItem(userId);
    await db.update(itemDirectory).set({ nextReconcileAt: hoursAgo(1) }).where(eq(itemDirectory.itemId, dueItem.item.id));
    await db.update(itemDirectory).set({ nextReconcileAt: hoursFromNow(30 * 24) }).where(eq(itemDirectory.itemId, farItem.item.id));
    await everythingElseScheduledLater(userId);
    const far = await directoryEntry(farItem.item.id);
    await sim.addTransactions(dueItem.item.id, { accountId: dueItem.account.id, count: 1 });

    const recording = recordingQueue();
    expect(await queueReconciliation({ catalog: db, eventsQueue: recording.queue, logger }, { trigger: "cron" })).toBe(1);
    const [message] = recording.messages();
    expect(message?.body).toEqual({ kind: "item.reconcile", itemId: dueItem.item.id, trigger: "cron" });
    if (!message) throw new Error("nothing queued");

    // The consumer reconciles it (as the delayed message would be delivered) and schedules its next run.
    const { id, result } = await deliver(message.body);
    expect(result.explicitAcks).toEqual([id]);
    const reconciled = await localItem(userId, dueItem.item.id);
    expect(reconciled?.lastReconciledAt).not.toBeNull();
    expect(await directoryEntry(dueItem.item.id)).toMatchObject({ userId, nextReconcileAt: nextReconcileAfter(reconciled?.lastReconciledAt ?? "") });
    await expectInLineWithPluggy(dueItem.item.id, userId);
    // The far-future item: not queued, not reconciled, its schedule as it was.
    expect(await directoryEntry(farItem.item.id)).toEqual(far);
    expect(await localItem(userId, farItem.item.id)).toMatchObject({ lastReconciledAt: null });
  });

  it("counts a run, even one with nothing to queue", async () => {
    const before = await reconciliationMetrics();
    const recording = recordingQueue();
    await queueReconciliation({ catalog: db, eventsQueue: recording.queue, logger }, { trigger: "cron", limit: 0 });
    expect(recording.batches).toEqual([]);
    expect((await reconciliationMetrics()).runs).toBe(before.runs + 1);
  });

  it("runs from the hourly cron trigger", async () => {
    const owner = uniqueUser("cron");
    onTestFinished(() => removeItemsOf(owner));
    const due = await directoryItem(owner, hoursAgo(1));
    const recording = recordingQueue();
    const controller = createScheduledController({ cron: HOURLY_CRON, scheduledTime: Date.now() });
    await runScheduled(controller, { ...env, EVENTS_QUEUE: recording.queue }, createExecutionContext());
    const itemIds = recording.messages().flatMap((m) => (m.body.kind === "item.reconcile" ? [m.body.itemId] : []));
    expect(itemIds).toContain(due.itemId);
    expect(recording.messages().every((m) => m.body.kind !== "item.reconcile" || m.body.trigger === "cron")).toBe(true);
  });
});

const hoursFromNow = (hours: number) => new Date(Date.now() + hours * HOUR_MS).toISOString();

/**
 * Schedules every item in this file's directory that is not `owner`'s far out, so a fan-out sees only
 * the test's own items as due (or first), whatever ran before it in this file.
 */
async function everythingElseScheduledLater(owner: string): Promise<void> {
  await db.update(itemDirectory).set({ nextReconcileAt: hoursFromNow(24 * 365) }).where(ne(itemDirectory.userId, owner));
}

/**
 * These items exist only in the directory (never at Pluggy nor in a ledger, never reconciled through the
 * real queue): removed when their test ends, so a later test's "every active item" is not hundreds of
 * items it never made.
 */
async function removeItemsOf(owner: string): Promise<void> {
  await db.delete(itemDirectory).where(eq(itemDirectory.userId, owner));
}

function directoryRow(userId: string, nextReconcileAt: string): typeof itemDirectory.$inferSelect {
  return { itemId: crypto.randomUUID(), userId, nextReconcileAt, createdAt: new Date().toISOString() };
}

async function directoryItem(userId: string, nextReconcileAt: string): Promise<typeof itemDirectory.$inferSelect> {
  const row = directoryRow(userId, nextReconcileAt);
  await db.insert(itemDirectory).values(row);
  return row;
}

/** A logger that keeps its lines (level, message, fields) for the test to read. */
function recordingLogger(): { logger: Logger; lines: { level: string; message: string; fields: Record<string, unknown> | undefined }[] } {
  const lines: { level: string; message: string; fields: Record<string, unknown> | undefined }[] = [];
  const make = (): Logger => ({
    debug: (message, fields) => lines.push({ level: "debug", message, fields }),
    info: (message, fields) => lines.push({ level: "info", message, fields }),
    warn: (message, fields) => lines.push({ level: "warn", message, fields }),
    error: (message, fields) => lines.push({ level: "error", message, fields }),
    child: () => make(),
  });
  return { logger: make(), lines };
}
