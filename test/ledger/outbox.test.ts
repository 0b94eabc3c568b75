import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { applyAttention, listAttention, type AttentionChange } from "../../src/catalog/attention.repo.ts";
import { attention } from "../../src/catalog/attention.schema.ts";
import { SWEEP_AFTER_MS, RETRY_SWEEP_AFTER_MS } from "../../src/category-sync/category-sync.config.ts";
import { CATEGORY_SYNC_METRICS } from "../../src/category-sync/sync-jobs.service.ts";
import { createDb } from "../../src/db/client.ts";
import { categorySyncJobs, ledgerCounters, ledgerMeta, transactions } from "../../src/ledger/ledger.schema.ts";
import { categorySyncMessage } from "../../src/queues/messages.ts";
import { OUTBOX_COUNTERS, OUTBOX_SKIP_REASONS, parseJobCursor } from "../../src/ledger/outbox.repo.ts";
import type { AppBindings } from "../../src/platform/env.ts";
import { hourBucket } from "../../src/platform/metrics.ts";
import { inLedger, ledgerOf } from "../helpers/ledger.ts";

/*
 * The category-sync outbox inside a user's ledger: the change (transaction + job in one transaction),
 * the version-guarded state machine, the alarm that replaced the cron sweeper, the attention changes
 * handed to the catalog, and the per-ledger counters. Every ledger here is a fresh user's.
 */

const MINUTE = 60_000;
const catalog = () => createDb(env.DB);

async function newUserWithTransaction(options: { pluggyId?: string | null } = {}): Promise<{ userId: string; transactionId: string; ledger: ReturnType<typeof ledgerOf> }> {
  const userId = `user-${crypto.randomUUID()}`;
  const transactionId = crypto.randomUUID();
  const at = new Date().toISOString();
  await inLedger(userId, (db) => {
    db.insert(ledgerMeta).values({ key: "user_id", value: userId }).run();
    db.insert(transactions)
      .values({
        id: transactionId,
        pluggyId: options.pluggyId === undefined ? `pluggy-${crypto.randomUUID()}` : options.pluggyId,
        accountId: "acc-1",
        itemId: "item-1",
        date: "2026-01-10",
        description: "Padaria",
        descriptionFolded: "padaria",
        amountMinor: -1234,
        currencyCode: "BRL",
        type: "DEBIT",
        status: "POSTED",
        createdAt: at,
        updatedAt: at,
      })
      .run();
  });
  return { userId, transactionId, ledger: ledgerOf(userId) };
}

async function addTransaction(userId: string): Promise<string> {
  const id = crypto.randomUUID();
  const at = new Date().toISOString();
  await inLedger(userId, (db) =>
    db
      .insert(transactions)
      .values({ id, pluggyId: `pluggy-${id}`, accountId: "acc-1", date: "2026-01-11", description: "x", descriptionFolded: "x", amountMinor: 1, currencyCode: "BRL", type: "DEBIT", status: "POSTED", createdAt: at, updatedAt: at })
      .run(),
  );
  return id;
}

const later = (ms: number, from = new Date()) => new Date(from.getTime() + ms);

/** A change to a mapped category, due in an hour unless told (so no alarm fires by itself during a test). */
async function queueChange(userId: string, transactionId: string, options: { dueAt?: Date; now?: Date; categoryId?: string } = {}) {
  const now = options.now ?? new Date();
  const result = await ledgerOf(userId).changeCategory({
    userId,
    transactionId,
    categoryId: options.categoryId ?? "cat-food",
    pluggyCategoryId: "05070000",
    skipReason: null,
    now,
    dueAt: options.dueAt ?? later(60 * MINUTE, now),
  });
  if (result.outcome !== "queued") throw new Error(`expected queued, got ${result.outcome}`);
  return result;
}

const jobOf = (userId: string, jobId: string) => inLedger(userId, (db) => db.select().from(categorySyncJobs).where(eq(categorySyncJobs.id, jobId)).get());
const transactionOf = (userId: string, id: string) => inLedger(userId, (db) => db.select().from(transactions).where(eq(transactions.id, id)).get());
const countersOf = (userId: string) =>
  inLedger(userId, (db) => Object.fromEntries(db.select().from(ledgerCounters).all().map((row) => [row.name, row.count])) as Record<string, number | undefined>);
const alarmOf = (userId: string) => runInDurableObject(ledgerOf(userId), (_instance, state) => state.storage.getAlarm());

/** Wraps the ledger's real queue binding, recording what it sends (optionally failing instead). */
async function recordLedgerQueue(userId: string, options: { fail?: boolean } = {}): Promise<unknown[]> {
  const sent: unknown[] = [];
  const queue = env.CATEGORY_SYNC_QUEUE;
  const recording = {
    async send(body: unknown, sendOptions?: QueueSendOptions) {
      if (options.fail) throw new Error("queue unavailable (injected)");
      sent.push(body);
      return queue.send(body, sendOptions);
    },
    async sendBatch(messages: Iterable<MessageSendRequest>, sendOptions?: QueueSendBatchOptions) {
      if (options.fail) throw new Error("queue unavailable (injected)");
      const list = [...messages];
      sent.push(...list.map((message) => message.body));
      return queue.sendBatch(list, sendOptions);
    },
  } as Queue;
  await runInDurableObject(ledgerOf(userId), (instance) => {
    const holder = instance as unknown as { env: AppBindings };
    holder.env = { ...holder.env, CATEGORY_SYNC_QUEUE: recording };
  });
  return sent;
}

/** When the ledger next rolls its counters up into the catalog (ms), as it recorded it. */
const rollupDueOf = (userId: string) =>
  inLedger(userId, (db) => Number(db.select().from(ledgerMeta).where(eq(ledgerMeta.key, "rollup_due_at")).get()?.value ?? Number.NaN));
/** As if the roll-up's minute had passed. */
const makeRollupDue = (userId: string) =>
  inLedger(userId, (db) => db.update(ledgerMeta).set({ value: String(Date.now() - 1) }).where(eq(ledgerMeta.key, "rollup_due_at")).run());

const attentionRow = async (jobId: string) =>
  (await catalog().select().from(attention).where(and(eq(attention.kind, "category_sync"), eq(attention.id, jobId))))[0];

describe("changeCategory: the transaction and its outbox job in one transaction", () => {
  it("bumps the version, marks the choice the user's, upserts one pending job at that version, counts it and arms the alarm at its due time", async () => {
    const { userId, transactionId, ledger } = await newUserWithTransaction();
    const now = new Date();
    // Due before the counters' roll-up (a minute after counting), so the alarm is the job's.
    const dueAt = later(MINUTE / 2, now);
    const result = await ledger.changeCategory({ userId, transactionId, categoryId: "cat-food", pluggyCategoryId: "05070000", skipReason: null, now, dueAt });
    expect(result.outcome).toBe("queued");
    if (result.outcome !== "queued") return;
    expect(categorySyncMessage.parse(result.message)).toEqual({ kind: "category.sync", jobId: result.message.jobId, transactionId, version: 1, userId });
    expect(result.attention).toBeNull();

    const transaction = await transactionOf(userId, transactionId);
    expect(transaction).toMatchObject({ categoryId: "cat-food", categorySetByUser: true, categoryVersion: 1, categorySyncSkipReason: null });
    const job = await jobOf(userId, result.message.jobId);
    expect(job).toMatchObject({ status: "pending", version: 1, attempts: 0, categoryId: "cat-food", pluggyCategoryId: "05070000", dueAt: dueAt.toISOString(), pendingSince: now.toISOString() });
    expect(await countersOf(userId)).toEqual({ [OUTBOX_COUNTERS.queued]: 1 });
    expect(await alarmOf(userId)).toBe(dueAt.getTime());

    // A second change: the same job, next version; the alarm only ever moves earlier.
    const second = await queueChange(userId, transactionId, { categoryId: "cat-bar", dueAt: later(30 * MINUTE, now) });
    expect(second.message).toMatchObject({ jobId: result.message.jobId, version: 2 });
    expect(await alarmOf(userId)).toBe(dueAt.getTime());
    expect(await inLedger(userId, (db) => db.select().from(categorySyncJobs).all())).toHaveLength(1);
  });

  it("records the skip instead of a job (and drops an older job): no Pluggy id, cleared, no mapping", async () => {
    const local = await newUserWithTransaction({ pluggyId: null });
    const now = new Date();
    const base = { now, dueAt: later(3 * MINUTE, now) };
    expect(await local.ledger.changeCategory({ ...base, userId: local.userId, transactionId: local.transactionId, categoryId: "cat-food", pluggyCategoryId: "05070000", skipReason: null })).toEqual({
      outcome: "skipped",
      reason: OUTBOX_SKIP_REASONS.noPluggyId,
      attention: null,
    });

    const { userId, transactionId, ledger } = await newUserWithTransaction();
    const queued = await queueChange(userId, transactionId);
    const unmapped = await ledger.changeCategory({ ...base, userId, transactionId, categoryId: "cat-unmapped", pluggyCategoryId: null, skipReason: null });
    expect(unmapped).toMatchObject({ outcome: "skipped", reason: OUTBOX_SKIP_REASONS.noMapping });
    expect(await jobOf(userId, queued.message.jobId)).toBeUndefined();
    const cleared = await ledger.changeCategory({ ...base, userId, transactionId, categoryId: null, pluggyCategoryId: null, skipReason: OUTBOX_SKIP_REASONS.cleared });
    expect(cleared).toMatchObject({ outcome: "skipped", reason: OUTBOX_SKIP_REASONS.cleared });
    expect(await transactionOf(userId, transactionId)).toMatchObject({ categoryId: null, categoryVersion: 3, categorySyncSkipReason: OUTBOX_SKIP_REASONS.cleared, categorySyncSkippedAt: now.toISOString() });
    expect(await countersOf(userId)).toEqual({ [OUTBOX_COUNTERS.queued]: 1, [OUTBOX_COUNTERS.skipped]: 2 });
  });

  it("a transaction this ledger does not hold is not_found, and changes nothing", async () => {
    const { userId, ledger } = await newUserWithTransaction();
    const now = new Date();
    expect(await ledger.changeCategory({ userId, transactionId: "nope", categoryId: "cat-food", pluggyCategoryId: "05070000", skipReason: null, now, dueAt: now })).toEqual({ outcome: "not_found" });
    expect(await countersOf(userId)).toEqual({});
  });

  it("is one transaction: when writing the job fails, the transaction's version and category stay as they were and nothing is counted", async () => {
    const { userId, transactionId } = await newUserWithTransaction();
    await inLedger(userId, (db) => db.run(sql.raw("create trigger fail_job before insert on category_sync_jobs begin select raise(abort, 'injected failure'); end")));
    const now = new Date();
    await expect(
      inLedger(userId, (_db, instance) => instance.changeCategory({ userId, transactionId, categoryId: "cat-food", pluggyCategoryId: "05070000", skipReason: null, now, dueAt: later(3 * MINUTE, now) })),
    ).rejects.toThrow(/injected failure/);
    expect(await transactionOf(userId, transactionId)).toMatchObject({ categoryId: null, categoryVersion: 0, categorySetByUser: false });
    expect(await countersOf(userId)).toEqual({});
    expect(await alarmOf(userId)).toBeNull();
  });

  it("refuses a user who is not the ledger's owner", async () => {
    const { userId, transactionId } = await newUserWithTransaction();
    const now = new Date();
    await expect(
      inLedger(userId, (_db, instance) => instance.changeCategory({ userId: "someone-else", transactionId, categoryId: "c", pluggyCategoryId: "05070000", skipReason: null, now, dueAt: now })),
    ).rejects.toThrow(/another user/);
  });
});

describe("the job state machine, version by version", () => {
  it("jobForSync: ready at the current version; an older version or a finished job is stale (counted) and changes nothing", async () => {
    const { userId, transactionId, ledger } = await newUserWithTransaction();
    const first = await queueChange(userId, transactionId);
    const second = await queueChange(userId, transactionId, { categoryId: "cat-bar" });
    expect(await ledger.jobForSync({ jobId: first.message.jobId, version: 1, transactionId })).toEqual({ outcome: "stale" });
    const ready = await ledger.jobForSync({ jobId: second.message.jobId, version: 2, transactionId });
    expect(ready).toMatchObject({ outcome: "ready", job: { id: second.message.jobId, transactionId, categoryId: "cat-bar", version: 2, attempts: 0 } });
    expect(await ledger.jobForSync({ jobId: "missing", version: 1 })).toEqual({ outcome: "missing" });
    expect(await ledger.jobForSync({ jobId: second.message.jobId, version: 2, transactionId: "another" })).toEqual({ outcome: "missing" });
    expect((await countersOf(userId))[OUTBOX_COUNTERS.stale]).toBe(1);
  });

  it("jobForSync closes the job as failed when its transaction is gone or moved past its version", async () => {
    const { userId, transactionId, ledger } = await newUserWithTransaction();
    const { message } = await queueChange(userId, transactionId);
    await inLedger(userId, (db) => db.update(transactions).set({ categoryVersion: 5 }).where(eq(transactions.id, transactionId)).run());
    const superseded = await ledger.jobForSync({ jobId: message.jobId, version: 1 });
    expect(superseded).toMatchObject({ outcome: "failed", lastError: "superseded by a newer change that was not synced", attention: { kind: "category_sync", id: message.jobId, userId, status: "failed" } });

    const other = await newUserWithTransaction();
    const queued = await queueChange(other.userId, other.transactionId);
    await inLedger(other.userId, (db) => db.delete(transactions).where(eq(transactions.id, other.transactionId)).run());
    expect(await other.ledger.jobForSync({ jobId: queued.message.jobId, version: 1 })).toMatchObject({ outcome: "failed", lastError: "transaction no longer exists" });
    expect(await jobOf(other.userId, queued.message.jobId)).toMatchObject({ status: "failed", attentionStatus: "failed", pendingSince: null });
  });

  it("markSynced: synced at the current version with Pluggy's answer on the transaction; an older version is a no-op", async () => {
    const { userId, transactionId, ledger } = await newUserWithTransaction();
    const first = await queueChange(userId, transactionId);
    const { message } = await queueChange(userId, transactionId, { categoryId: "cat-bar" });
    expect(await ledger.markSynced({ jobId: first.message.jobId, version: 1, pluggyCategoryId: "05070000", answer: { categoryId: "05070000", category: "Food" } })).toEqual({
      outcome: "superseded",
      resync: null,
    });
    expect(await jobOf(userId, message.jobId)).toMatchObject({ status: "pending", version: 2, attempts: 0 });

    const now = new Date();
    expect(await ledger.markSynced({ jobId: message.jobId, version: 2, pluggyCategoryId: "05070000", answer: { categoryId: "05070001", category: "Bars" }, now })).toEqual({ outcome: "synced", attention: null });
    expect(await jobOf(userId, message.jobId)).toMatchObject({ status: "synced", attempts: 1, syncedAt: now.toISOString(), pendingSince: null, lastError: null });
    expect(await transactionOf(userId, transactionId)).toMatchObject({ pluggyCategoryId: "05070001", pluggyCategoryName: "Bars" });
    expect((await countersOf(userId))[OUTBOX_COUNTERS.succeeded]).toBe(1);
  });

  it("markSynced of an older call after the newer one synced re-opens the newer and re-queues it (with the user id)", async () => {
    const { userId, transactionId, ledger } = await newUserWithTransaction();
    const sent = await recordLedgerQueue(userId);
    await queueChange(userId, transactionId);
    const { message } = await queueChange(userId, transactionId, { categoryId: "cat-bar" });
    await ledger.markSynced({ jobId: message.jobId, version: 2, pluggyCategoryId: "05070001", answer: { categoryId: null, category: null } });
    const late = await ledger.markSynced({ jobId: message.jobId, version: 1, pluggyCategoryId: "05070000", answer: { categoryId: null, category: null } });
    expect(late).toEqual({ outcome: "superseded", resync: { ...message } });
    expect(sent).toEqual([message]);
    expect(await jobOf(userId, message.jobId)).toMatchObject({ status: "pending", version: 2, syncedAt: null });
    expect((await countersOf(userId))[OUTBOX_COUNTERS.requeued]).toBe(1);
  });

  it("markFailed retryable: still pending, attempt and reason recorded, due after the queue's retries; final: failed with an attention entry; stale: nothing", async () => {
    const { userId, transactionId, ledger } = await newUserWithTransaction();
    const { message } = await queueChange(userId, transactionId);
    const now = new Date();
    expect(await ledger.markFailed({ jobId: message.jobId, version: 1, kind: "retryable", error: "503: Service Unavailable", pluggyCategoryId: "05070000", now })).toEqual({
      changed: true,
      attention: null,
    });
    expect(await jobOf(userId, message.jobId)).toMatchObject({ status: "pending", attempts: 1, lastError: "503: Service Unavailable", dueAt: later(RETRY_SWEEP_AFTER_MS, now).toISOString() });

    expect(await ledger.markFailed({ jobId: message.jobId, version: 0, kind: "final", error: "old", now })).toEqual({ changed: false, attention: null });
    const failed = await ledger.markFailed({ jobId: message.jobId, version: 1, kind: "final", error: "400 CATEGORY_NOT_FOUND: nope", now });
    expect(failed).toEqual({ changed: true, attention: { kind: "category_sync", id: message.jobId, userId, status: "failed", since: now.toISOString() } });
    expect(await jobOf(userId, message.jobId)).toMatchObject({ status: "failed", attempts: 2, lastError: "400 CATEGORY_NOT_FOUND: nope", attentionStatus: "failed" });
    // Once failed, a late retryable failure or success for the same version changes nothing.
    expect(await ledger.markFailed({ jobId: message.jobId, version: 1, kind: "retryable", error: "late", now })).toEqual({ changed: false, attention: null });
    expect(await ledger.markSynced({ jobId: message.jobId, version: 1, pluggyCategoryId: "x", answer: { categoryId: null, category: null } })).toMatchObject({ outcome: "superseded" });
    expect(await countersOf(userId)).toMatchObject({ [OUTBOX_COUNTERS.retried]: 1, [OUTBOX_COUNTERS.failed]: 1 });
  });

  it("markDead keeps the last error (or says retries exhausted); only a pending job at that version", async () => {
    const { userId, transactionId, ledger } = await newUserWithTransaction();
    const { message } = await queueChange(userId, transactionId);
    expect(await ledger.markDead({ jobId: message.jobId, version: 0 })).toEqual({ changed: false, attention: null });
    const dead = await ledger.markDead({ jobId: message.jobId, version: 1 });
    expect(dead).toMatchObject({ changed: true, attention: { kind: "category_sync", id: message.jobId, userId, status: "dead" } });
    expect(await jobOf(userId, message.jobId)).toMatchObject({ status: "dead", lastError: "retries exhausted" });
    expect(await ledger.markDead({ jobId: message.jobId, version: 1 })).toEqual({ changed: false, attention: null });
    expect((await countersOf(userId))[OUTBOX_COUNTERS.dead]).toBe(1);
  });

  it("retry and redrive re-open jobs to pending, send them with the user id, and take them out of the attention index", async () => {
    const { userId, transactionId, ledger } = await newUserWithTransaction();
    const sent = await recordLedgerQueue(userId);
    const dead = (await queueChange(userId, transactionId)).message;
    await ledger.markDead({ jobId: dead.jobId, version: 1 });
    const failedTx = await addTransaction(userId);
    const failed = (await queueChange(userId, failedTx)).message;
    await ledger.markFailed({ jobId: failed.jobId, version: 1, kind: "final", error: "400" });

    expect(await ledger.retry({ jobId: "nope" })).toEqual({ outcome: "not_found" });
    expect(await ledger.retry({ jobId: dead.jobId })).toEqual({ outcome: "queued", queued: 1, attention: [{ kind: "category_sync", remove: dead.jobId }] });
    expect(await jobOf(userId, dead.jobId)).toMatchObject({ status: "pending", lastError: "retries exhausted", attentionStatus: null });

    expect(await ledger.redrive({ status: "dead", limit: 10 })).toEqual({ queued: 0, attention: [] });
    expect(await ledger.redrive({ status: "failed", limit: 10 })).toEqual({ queued: 1, attention: [{ kind: "category_sync", remove: failed.jobId }] });
    expect(sent).toEqual([dead, failed]);
    expect((await countersOf(userId))[OUTBOX_COUNTERS.requeued]).toBe(2);
  });

  it("listJobs pages most recently changed first with the cursor; getJob reads one", async () => {
    const { userId, transactionId, ledger } = await newUserWithTransaction();
    const base = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const tx = i === 0 ? transactionId : await addTransaction(userId);
      ids.push((await queueChange(userId, tx, { now: new Date(base + i * 1000) })).message.jobId);
    }
    const first = await ledger.listJobs({ limit: 2 });
    expect(first.data.map((job) => job.id)).toEqual([ids[2], ids[1]]);
    expect(first.nextCursor).not.toBeNull();
    expect(parseJobCursor(first.nextCursor ?? "")).toBeTruthy();
    const second = await ledger.listJobs({ limit: 2, cursor: first.nextCursor ?? undefined });
    expect(second).toMatchObject({ data: [{ id: ids[0] }], nextCursor: null });
    expect(await ledger.listJobs({ status: "failed", limit: 5 })).toEqual({ data: [], nextCursor: null });
    expect(await ledger.getJob({ jobId: ids[1] ?? "" })).toMatchObject({ id: ids[1], status: "pending", version: 1 });
    expect(await ledger.getJob({ jobId: "nope" })).toBeNull();
    expect(() => parseJobCursor("tampered")).toThrow(/cursor/);
  });
});

describe("the ledger's alarm (the sweeper, per user)", () => {
  it("re-queues due pending jobs with the user id, bumps their due time, leaves jobs not yet due, and re-arms for the next", async () => {
    const { userId, transactionId } = await newUserWithTransaction();
    const sent = await recordLedgerQueue(userId);
    const due = (await queueChange(userId, transactionId)).message;
    const notDueAt = later(2 * 60 * MINUTE);
    const notDue = (await queueChange(userId, await addTransaction(userId), { dueAt: notDueAt })).message;
    // As if the Worker's send was lost and the due time has passed (written directly: no alarm moves).
    await inLedger(userId, (db) => db.update(categorySyncJobs).set({ dueAt: new Date(Date.now() - MINUTE).toISOString() }).where(eq(categorySyncJobs.id, due.jobId)).run());

    const before = Date.now();
    expect(await runDurableObjectAlarm(ledgerOf(userId))).toBe(true);
    expect(sent).toEqual([due]);
    expect(categorySyncMessage.safeParse(sent[0]).success).toBe(true);
    const bumped = await jobOf(userId, due.jobId);
    expect(Date.parse(bumped?.dueAt ?? "")).toBeGreaterThanOrEqual(before + SWEEP_AFTER_MS);
    expect((await jobOf(userId, notDue.jobId))?.dueAt).toBe(notDueAt.toISOString());
    expect((await countersOf(userId))[OUTBOX_COUNTERS.requeued]).toBe(1);
    // Armed for the next due job, or the counters' roll-up if that comes first; once rolled up, the job's.
    expect(await alarmOf(userId)).toBe(Math.min(Date.parse(bumped?.dueAt ?? ""), await rollupDueOf(userId)));
    await makeRollupDue(userId);
    await runDurableObjectAlarm(ledgerOf(userId));
    expect(await countersOf(userId)).toEqual({});
    expect(await alarmOf(userId)).toBe(Date.parse(bumped?.dueAt ?? ""));
  });

  it("leaves no alarm once nothing is pending", async () => {
    const { userId, transactionId, ledger } = await newUserWithTransaction();
    const sent = await recordLedgerQueue(userId);
    const { message } = await queueChange(userId, transactionId);
    await ledger.markSynced({ jobId: message.jobId, version: 1, pluggyCategoryId: "05070000", answer: { categoryId: null, category: null } });
    // What it counted is still owed to the catalog: the alarm stays armed for that roll-up.
    expect(await runDurableObjectAlarm(ledgerOf(userId))).toBe(true);
    expect(await alarmOf(userId)).toBe(await rollupDueOf(userId));
    await makeRollupDue(userId);
    expect(await runDurableObjectAlarm(ledgerOf(userId))).toBe(true);
    expect(sent).toEqual([]);
    expect(await alarmOf(userId)).toBeNull();
  });

  it("a failed send loses nothing: the job stays pending and the alarm comes back after a short backoff", async () => {
    const { userId, transactionId } = await newUserWithTransaction();
    await recordLedgerQueue(userId, { fail: true });
    const { message } = await queueChange(userId, transactionId);
    await inLedger(userId, (db) => db.update(categorySyncJobs).set({ dueAt: new Date(Date.now() - MINUTE).toISOString() }).where(eq(categorySyncJobs.id, message.jobId)).run());
    const before = Date.now();
    await runDurableObjectAlarm(ledgerOf(userId));
    const job = await jobOf(userId, message.jobId);
    expect(job?.status).toBe("pending");
    const retryAt = Date.parse(job?.dueAt ?? "");
    expect(retryAt).toBeGreaterThanOrEqual(before);
    expect(retryAt).toBeLessThan(before + SWEEP_AFTER_MS);
    expect(await alarmOf(userId)).toBe(retryAt);
    expect((await countersOf(userId))[OUTBOX_COUNTERS.requeued]).toBeUndefined();
  });
});

describe("attention: jobs that need an operator, findable without visiting users", () => {
  it("a job pending for more than 10 minutes is put in the catalog's index by the alarm, once, and taken out when it syncs", async () => {
    const { userId, transactionId, ledger } = await newUserWithTransaction();
    await recordLedgerQueue(userId);
    const { message } = await queueChange(userId, transactionId);
    const since = new Date(Date.now() - 11 * MINUTE).toISOString();
    await inLedger(userId, (db) => db.update(categorySyncJobs).set({ pendingSince: since }).where(eq(categorySyncJobs.id, message.jobId)).run());

    await runDurableObjectAlarm(ledgerOf(userId));
    expect(await attentionRow(message.jobId)).toMatchObject({ kind: "category_sync", id: message.jobId, userId, status: "pending", since });
    expect(await jobOf(userId, message.jobId)).toMatchObject({ attentionStatus: "pending" });
    const listed = await listAttention(catalog(), { kind: "category_sync", status: "pending", limit: 100 });
    expect(listed.data.some((row) => row.id === message.jobId)).toBe(true);

    // Still pending, still listed: a new change keeps it (the sync has been waiting all along).
    await queueChange(userId, transactionId, { categoryId: "cat-bar" });
    expect(await jobOf(userId, message.jobId)).toMatchObject({ version: 2, pendingSince: since, attentionStatus: "pending" });

    const synced = await ledger.markSynced({ jobId: message.jobId, version: 2, pluggyCategoryId: "05070000", answer: { categoryId: null, category: null } });
    expect(synced).toEqual({ outcome: "synced", attention: { kind: "category_sync", remove: message.jobId } });
    if (synced.outcome === "synced" && synced.attention) await applyAttention(catalog(), [synced.attention]);
    expect(await attentionRow(message.jobId)).toBeUndefined();
  });

  it("a job pending for less than 10 minutes is not listed, and the alarm is armed for the moment it would be", async () => {
    const { userId, transactionId } = await newUserWithTransaction();
    await recordLedgerQueue(userId);
    const now = new Date();
    const { message } = await queueChange(userId, transactionId, { now: new Date(now.getTime() - 5 * MINUTE), dueAt: later(60 * MINUTE, now) });
    await runDurableObjectAlarm(ledgerOf(userId));
    expect(await attentionRow(message.jobId)).toBeUndefined();
    expect(await alarmOf(userId)).toBe(now.getTime() + 5 * MINUTE);
  });

  it("failed and dead enter the index with what the ledger returns; a retry takes them out", async () => {
    const { userId, transactionId, ledger } = await newUserWithTransaction();
    await recordLedgerQueue(userId);
    const dead = (await queueChange(userId, transactionId)).message;
    const failed = (await queueChange(userId, await addTransaction(userId))).message;
    const changes: AttentionChange[] = [];
    for (const result of [await ledger.markDead({ jobId: dead.jobId, version: 1 }), await ledger.markFailed({ jobId: failed.jobId, version: 1, kind: "final", error: "400" })]) {
      if (result.attention) changes.push(result.attention);
    }
    await applyAttention(catalog(), changes);
    expect(await attentionRow(dead.jobId)).toMatchObject({ status: "dead", userId });
    expect(await attentionRow(failed.jobId)).toMatchObject({ status: "failed", userId });

    const retried = await ledger.retry({ jobId: dead.jobId });
    if (retried.outcome === "queued") await applyAttention(catalog(), retried.attention);
    expect(await attentionRow(dead.jobId)).toBeUndefined();
    expect(await attentionRow(failed.jobId)).toBeDefined();
  });

  it("listAttention pages one kind and status by since, newest first or oldest first", async () => {
    const userId = `user-${crypto.randomUUID()}`;
    const status = `test-${crypto.randomUUID()}`;
    const entries = [0, 1, 2].map((i) => ({ kind: "category_sync" as const, id: `job-${i}-${status}`, userId, status, since: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString() }));
    await applyAttention(catalog(), entries);
    const first = await listAttention(catalog(), { kind: "category_sync", status, limit: 2 });
    expect(first.data.map((row) => row.id)).toEqual([entries[2]?.id, entries[1]?.id]);
    const rest = await listAttention(catalog(), { kind: "category_sync", status, limit: 2, cursor: first.nextCursor ?? undefined });
    expect(rest).toMatchObject({ data: [{ id: entries[0]?.id }], nextCursor: null });
    const oldest = await listAttention(catalog(), { kind: "category_sync", status, limit: 1, order: "asc" });
    expect(oldest.data.map((row) => row.id)).toEqual([entries[0]?.id]);
  });
});

describe("per-ledger counters", () => {
  it("are counted with their transition and drained once", async () => {
    const { userId, transactionId, ledger } = await newUserWithTransaction();
    const now = new Date();
    const { message } = await queueChange(userId, transactionId, { now });
    await ledger.markSynced({ jobId: message.jobId, version: 1, pluggyCategoryId: "05070000", answer: { categoryId: null, category: null }, now });
    const drained = await ledger.drainCounters();
    expect(drained.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { bucket: hourBucket(now), name: OUTBOX_COUNTERS.queued, count: 1 },
      { bucket: hourBucket(now), name: OUTBOX_COUNTERS.succeeded, count: 1 },
    ]);
    expect(await ledger.drainCounters()).toEqual([]);
  });

  it("a transition whose counter cannot be written does not happen", async () => {
    const { userId, transactionId } = await newUserWithTransaction();
    const { message } = await queueChange(userId, transactionId);
    await inLedger(userId, (db) => db.run(sql.raw("create trigger fail_counter before insert on ledger_counters begin select raise(abort, 'injected failure'); end")));
    // Called in the ledger (not over RPC) so the expected error stays this test's.
    await expect(
      inLedger(userId, (_db, instance) => instance.markSynced({ jobId: message.jobId, version: 1, pluggyCategoryId: "05070000", answer: { categoryId: "05070000", category: "Food" } })),
    ).rejects.toThrow(/injected failure/);
    expect(await jobOf(userId, message.jobId)).toMatchObject({ status: "pending", attempts: 0 });
    expect(await transactionOf(userId, transactionId)).toMatchObject({ pluggyCategoryId: null });
  });

  it("use the catalog's counter names", () => {
    expect(OUTBOX_COUNTERS).toEqual(CATEGORY_SYNC_METRICS);
  });
});

describe("attentionJobIds: what erasing a ledger (or some of its items) must take out of the attention index", () => {
  it("lists the jobs published to the index, optionally only those on an item's transactions; a job never published is not listed", async () => {
    const { userId, transactionId, ledger } = await newUserWithTransaction();
    await recordLedgerQueue(userId);
    const onItem1 = (await queueChange(userId, transactionId)).message;
    const elsewhere = await addTransaction(userId);
    await inLedger(userId, (db) => db.update(transactions).set({ itemId: "item-2" }).where(eq(transactions.id, elsewhere)).run());
    const onItem2 = (await queueChange(userId, elsewhere)).message;
    const unpublished = (await queueChange(userId, await addTransaction(userId))).message;
    expect(await ledger.attentionJobIds()).toEqual([]);

    await ledger.markDead({ jobId: onItem1.jobId, version: 1 });
    await ledger.markFailed({ jobId: onItem2.jobId, version: 1, kind: "final", error: "400" });
    expect((await ledger.attentionJobIds()).sort()).toEqual([onItem1.jobId, onItem2.jobId].sort());
    expect(await ledger.attentionJobIds({ itemIds: ["item-1"] })).toEqual([onItem1.jobId]);
    expect(await ledger.attentionJobIds({ itemIds: ["item-2", "item-9"] })).toEqual([onItem2.jobId]);
    expect(await ledger.attentionJobIds({ itemIds: [] })).toEqual([]);
    expect(await ledger.attentionJobIds()).not.toContain(unpublished.jobId);
  });
});
