import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { SWEEP_BATCH_SIZE, SWEEP_MAX_BATCHES } from "../../src/category-sync/category-sync.config.ts";
import { categorySyncJobs } from "../../src/ledger/ledger.schema.ts";
import type { AppBindings } from "../../src/platform/env.ts";
import { uniqueUser } from "../helpers/auth.ts";
import { inLedger, ledgerOf } from "../helpers/ledger.ts";
import { PLUGGY, armLedgerAlarm, localTransaction, makeSyncJob, mappedCategory, pluggyBackedTransaction, readJob, runLedgerAlarm, simCategoryOf } from "./support.ts";

/*
 * The cron sweeper is gone: each user's ledger re-queues its own pending jobs whose due time passed (a
 * lost send) from its alarm, in bounded batches, and the real consumer then syncs them. The alarm is run
 * with runDurableObjectAlarm; jobs are due in the past or far in the future, never "soon".
 */

const past = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

/**
 * Replaces the ledger's queue binding with one that records what it sends and delivers nothing. Each
 * message is also recorded under `phases[phase.now]`, so a test can tell one alarm run from the next.
 */
async function recordOnly(userId: string, phase: { now: number } = { now: 0 }, phases: unknown[][] = []): Promise<unknown[]> {
  const sent: unknown[] = [];
  const record = (bodies: unknown[]) => {
    sent.push(...bodies);
    (phases[phase.now] ??= []).push(...bodies);
  };
  const recording = {
    async send(body: unknown) {
      record([body]);
    },
    async sendBatch(messages: Iterable<MessageSendRequest>) {
      record([...messages].map((message) => message.body));
    },
  } as unknown as Queue;
  await runInDurableObject(ledgerOf(userId), (instance) => {
    const holder = instance as unknown as { env: AppBindings };
    holder.env = { ...holder.env, CATEGORY_SYNC_QUEUE: recording };
  });
  return sent;
}

describe("the ledger's alarm re-queues due pending jobs (the cron sweeper's successor)", () => {
  it("re-queues an overdue pending job when the alarm runs, and the consumer syncs it", async () => {
    const userId = uniqueUser();
    const { transaction, item, pluggyTransactionId } = await pluggyBackedTransaction(userId);
    const category = await mappedCategory(PLUGGY.salary);
    // As if the PATCH committed but its queue send was lost: no message exists for this job.
    const job = await makeSyncJob(transaction, category.id, { dueAt: past(10) });
    await armLedgerAlarm(userId);

    expect(await runLedgerAlarm(userId)).toBe(true);

    await vi.waitUntil(async () => (await readJob(job)).status === "synced", { timeout: 10_000, interval: 100 });
    expect(await simCategoryOf(item.id, pluggyTransactionId)).toBe(PLUGGY.salary);
  });

  it("bumps the due time before sending, so a second run does not queue the job twice", async () => {
    const userId = uniqueUser();
    const sent = await recordOnly(userId);
    const transaction = await localTransaction(userId);
    const category = await mappedCategory(PLUGGY.pix);
    const job = await makeSyncJob(transaction, category.id, { dueAt: past(10) });
    await armLedgerAlarm(userId);
    const now = Date.now();
    await runLedgerAlarm(userId);
    expect(sent).toEqual([{ kind: "category.sync", jobId: job.id, transactionId: transaction.id, version: 1, userId }]);
    expect(Date.parse((await readJob(job)).dueAt)).toBeGreaterThan(now);
    expect(await runLedgerAlarm(userId)).toBe(true);
    expect(sent).toHaveLength(1);
  });

  it("works in bounded batches, oldest due first, and comes back for the rest", async () => {
    const userId = uniqueUser();
    const phase = { now: 1 };
    const phases: unknown[][] = [];
    const sent = await recordOnly(userId, phase, phases);
    const category = await mappedCategory(PLUGGY.pix);
    const perRun = SWEEP_BATCH_SIZE * SWEEP_MAX_BATCHES;
    const transaction = await localTransaction(userId);
    // perRun + 1 overdue jobs (one per made-up transaction id: the outbox holds one job per transaction).
    const at = new Date().toISOString();
    const newestDue = past(1);
    await inLedger(userId, (db) => {
      for (let i = 0; i <= perRun; i++) {
        db.insert(categorySyncJobs)
          .values({
            id: `job-${i}-${transaction.id}`,
            transactionId: i === 0 ? transaction.id : `tx-${i}-${transaction.id}`,
            pluggyTransactionId: `ptx-${i}`,
            categoryId: category.id,
            version: 1,
            status: "pending",
            attempts: 0,
            dueAt: i === perRun ? newestDue : past(1000 - i / 10),
            pendingSince: at,
            createdAt: at,
            updatedAt: at,
          })
          .run();
      }
    });
    await armLedgerAlarm(userId);
    await runLedgerAlarm(userId);
    phase.now = 2;
    // One run sends at most SWEEP_MAX_BATCHES batches, oldest due first: the newest overdue job is left.
    expect(phases[1]).toHaveLength(perRun);
    expect((phases[1] ?? []).some((body) => (body as { jobId: string }).jobId === `job-${perRun}-${transaction.id}`)).toBe(false);
    // The alarm comes back for it at once (it is due), without any cron.
    await vi.waitUntil(() => sent.length === perRun + 1, { timeout: 10_000, interval: 50 });
    expect((sent.at(-1) as { jobId: string }).jobId).toBe(`job-${perRun}-${transaction.id}`);
    expect((await readJob({ id: `job-${perRun}-${transaction.id}`, userId })).dueAt > newestDue).toBe(true);
  });

  it("leaves jobs that are not yet due, and jobs that are not pending", async () => {
    const userId = uniqueUser();
    const sent = await recordOnly(userId);
    const category = await mappedCategory(PLUGGY.pix);
    const notDue = await makeSyncJob(await localTransaction(userId), category.id);
    const dead = await makeSyncJob(await localTransaction(userId), category.id, { status: "dead", dueAt: past(30) });
    const failed = await makeSyncJob(await localTransaction(userId), category.id, { status: "failed", dueAt: past(30) });
    await armLedgerAlarm(userId);
    await runLedgerAlarm(userId);
    expect(sent).toEqual([]);
    expect((await readJob(notDue)).dueAt).toBe(notDue.dueAt);
    expect((await readJob(dead)).status).toBe("dead");
    expect((await readJob(failed)).status).toBe("failed");
  });

  it("leaves no alarm behind once nothing is pending or counted", async () => {
    const userId = uniqueUser();
    await recordOnly(userId);
    const category = await mappedCategory(PLUGGY.pix);
    await makeSyncJob(await localTransaction(userId), category.id, { status: "failed" });
    await armLedgerAlarm(userId);
    await runLedgerAlarm(userId);
    expect(await runInDurableObject(ledgerOf(userId), (_instance, state) => state.storage.getAlarm())).toBeNull();
  });
});
