import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { FREQUENT_CRON } from "../../src/scheduled.ts";
import { sweepPendingCategorySyncs } from "../../src/category-sync/sync-jobs.service.ts";
import { uniqueUser } from "../helpers/auth.ts";
import { PLUGGY, db, localTransaction, makeSyncJob, mappedCategory, pluggyBackedTransaction, readJob, simCategoryOf } from "./support.ts";

/*
 * The outbox sweeper: pending jobs whose due time passed (a lost send) are re-queued, in bounded
 * batches, and then synced by the real consumer. Storage is per test file, so the only overdue jobs
 * here are the ones these tests make (each test sweeps "now", later than every earlier due time).
 */

const past = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
const logger = createLogger({ test: "sweeper" });

describe("category sync sweeper", () => {
  it("re-queues an overdue pending job from the FREQUENT_CRON trigger, and the consumer syncs it", async () => {
    const userId = uniqueUser();
    const { transaction, item, pluggyTransactionId } = await pluggyBackedTransaction(userId);
    const category = await mappedCategory(PLUGGY.salary);
    // As if the PATCH committed but its queue send was lost: no message exists for this job.
    const job = await makeSyncJob(transaction, category.id, { dueAt: past(10) });

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: FREQUENT_CRON, scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);

    await vi.waitUntil(async () => (await readJob(job.id)).status === "synced", { timeout: 10_000, interval: 100 });
    expect(await simCategoryOf(item.id, pluggyTransactionId)).toBe(PLUGGY.salary);
  });

  it("bumps the due time before sending, so overlapping runs do not queue a job twice", async () => {
    const userId = uniqueUser();
    const transaction = await localTransaction(userId);
    const category = await mappedCategory(PLUGGY.pix);
    const job = await makeSyncJob(transaction, category.id, { dueAt: past(10) });
    const now = new Date();
    const first = await sweepPendingCategorySyncs({ catalog: db(), categorySyncQueue: env.CATEGORY_SYNC_QUEUE, logger }, now);
    expect(first.requeued).toBeGreaterThanOrEqual(1);
    expect(Date.parse((await readJob(job.id)).dueAt)).toBeGreaterThan(now.getTime());
    const second = await sweepPendingCategorySyncs({ catalog: db(), categorySyncQueue: env.CATEGORY_SYNC_QUEUE, logger }, now);
    expect(second.requeued).toBe(0);
  });

  it("works in bounded batches and leaves the rest for the next run", async () => {
    const userId = uniqueUser();
    const category = await mappedCategory(PLUGGY.pix);
    const jobs = [];
    for (let i = 0; i < 5; i++) jobs.push(await makeSyncJob(await localTransaction(userId), category.id, { dueAt: past(20 - i) }));
    const now = new Date();
    const run = await sweepPendingCategorySyncs({ catalog: db(), categorySyncQueue: env.CATEGORY_SYNC_QUEUE, logger }, now, { batchSize: 2, maxBatches: 2 });
    expect(run.requeued).toBe(4);
    // Oldest due first: the newest overdue one is left for the next run.
    const left = jobs.at(-1);
    expect(left && Date.parse((await readJob(left.id)).dueAt)).toBeLessThan(now.getTime());
    const next = await sweepPendingCategorySyncs({ catalog: db(), categorySyncQueue: env.CATEGORY_SYNC_QUEUE, logger }, now, { batchSize: 2, maxBatches: 2 });
    expect(next.requeued).toBe(1);
  });

  it("leaves jobs that are not yet due, and jobs that are not pending", async () => {
    const userId = uniqueUser();
    const category = await mappedCategory(PLUGGY.pix);
    const notDue = await makeSyncJob(await localTransaction(userId), category.id);
    const dead = await makeSyncJob(await localTransaction(userId), category.id, { status: "dead", dueAt: past(30) });
    const failed = await makeSyncJob(await localTransaction(userId), category.id, { status: "failed", dueAt: past(30) });
    const run = await sweepPendingCategorySyncs({ catalog: db(), categorySyncQueue: env.CATEGORY_SYNC_QUEUE, logger }, new Date());
    expect(run.requeued).toBe(0);
    expect((await readJob(notDue.id)).dueAt).toBe(notDue.dueAt);
    expect((await readJob(dead.id)).status).toBe("dead");
    expect((await readJob(failed.id)).status).toBe("failed");
  });
});
