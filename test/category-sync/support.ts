import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { vi } from "vitest";
import worker from "../../src/index.ts";
import { createDb } from "../../src/db/client.ts";
import { categorySyncJobs, transactions, type CategorySyncJobRow } from "../../src/db/schema.ts";
import type { CategorySyncMessage } from "../../src/queues/messages.ts";
import { makeAccount, makeCategory, makeItem, makeTransaction } from "../helpers/factories.ts";
import { sentinelDelaySeconds } from "../helpers/queues.ts";
import { sim } from "../helpers/simulator.ts";

/*
 * Fixtures for the category-sync tests: a local transaction that really exists at the simulator, mapped
 * categories, jobs written straight into the outbox, and one-message batches run through the Worker's
 * real `queue` handler.
 */

export const db = () => createDb(env.DB);
export const SYNC_QUEUE = "finance-hub-category-sync";
export const SYNC_DLQ = "finance-hub-category-sync-dlq";

/** Pluggy category ids the simulator knows. */
export const PLUGGY = { pix: "05070000", ted: "05080000", transfers: "05000000", restaurants: "11010000", food: "11000000", salary: "01010000", groceries: "10000000" } as const;

/** A user whose item, account and one transaction exist both at the simulator and locally. */
export async function pluggyBackedTransaction(userId: string) {
  const created = await sim.createItem({ clientUserId: userId, accounts: 1, transactionsPerAccount: 1 });
  const pluggyAccount = created.accounts[0];
  const pluggyTransactionId = created.transactionIds[0];
  if (!pluggyAccount || !pluggyTransactionId) throw new Error("simulator created no transaction");
  const item = await makeItem(userId, { id: created.item.id });
  const account = await makeAccount(userId, item.id, { pluggyId: pluggyAccount.id });
  const transaction = await makeTransaction(userId, account, { pluggyId: pluggyTransactionId });
  return { item, account, transaction, pluggyTransactionId };
}

/** A local-only transaction (Pluggy never heard of it; no pluggy id unless given). */
export async function localTransaction(userId: string, overrides: Parameters<typeof makeTransaction>[2] = {}) {
  const item = await makeItem(userId);
  const account = await makeAccount(userId, item.id);
  return makeTransaction(userId, account, overrides);
}

export const mappedCategory = (pluggyCategoryId: string, overrides: Parameters<typeof makeCategory>[0] = {}) => makeCategory({ ...overrides, pluggyCategoryId });

/** Writes an outbox job (and aligns the transaction's version), bypassing the PATCH so no message is sent. */
export async function makeSyncJob(
  transaction: { id: string; userId: string; pluggyId: string | null },
  categoryId: string,
  overrides: Partial<typeof categorySyncJobs.$inferInsert> = {},
): Promise<CategorySyncJobRow> {
  const at = new Date().toISOString();
  const row: typeof categorySyncJobs.$inferInsert = {
    id: crypto.randomUUID(),
    transactionId: transaction.id,
    userId: transaction.userId,
    pluggyTransactionId: transaction.pluggyId ?? "missing",
    categoryId,
    version: 1,
    status: "pending",
    attempts: 0,
    dueAt: new Date(Date.now() + 3 * 60_000).toISOString(),
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
  await db().insert(categorySyncJobs).values(row);
  await db().update(transactions).set({ categoryId, categorySetByUser: true, categoryVersion: row.version }).where(eq(transactions.id, transaction.id));
  return row as CategorySyncJobRow;
}

export async function readJob(id: string): Promise<CategorySyncJobRow> {
  const row = await db().query.categorySyncJobs.findFirst({ where: eq(categorySyncJobs.id, id) });
  if (!row) throw new Error(`job ${id} not found`);
  return row;
}

export async function jobOf(transactionId: string): Promise<CategorySyncJobRow | undefined> {
  return db().query.categorySyncJobs.findFirst({ where: eq(categorySyncJobs.transactionId, transactionId) });
}

export async function readTransaction(id: string) {
  const row = await db().query.transactions.findFirst({ where: eq(transactions.id, id) });
  if (!row) throw new Error(`transaction ${id} not found`);
  return row;
}

export const messageOf = (job: { id: string; transactionId: string; version: number }, version = job.version): CategorySyncMessage => ({
  kind: "category.sync",
  jobId: job.id,
  transactionId: job.transactionId,
  version,
});

/**
 * Runs one message through the Worker's `queue` handler on `queue` and returns the broker's view, plus
 * the delay each `retry()` asked for (getQueueResult does not report delays, so the call is observed).
 */
export async function deliver(message: unknown, options: { queue?: string; attempts?: number } = {}) {
  const id = crypto.randomUUID();
  const batch = createMessageBatch(options.queue ?? SYNC_QUEUE, [{ id, timestamp: new Date(), attempts: options.attempts ?? 1, body: message }]);
  const retryDelays: Array<number | undefined> = [];
  for (const queued of batch.messages) {
    const retry = queued.retry.bind(queued);
    queued.retry = (retryOptions?: QueueRetryOptions) => {
      retryDelays.push(retryOptions?.delaySeconds);
      retry(retryOptions);
    };
  }
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return { id, result: await getQueueResult(batch, ctx), retryDelays };
}

/** The category the simulator holds for a Pluggy transaction. */
export async function simCategoryOf(itemId: string, pluggyTransactionId: string): Promise<string | null | undefined> {
  const state = await sim.getItemState(itemId);
  return state.transactions.find((t) => t.id === pluggyTransactionId)?.categoryId;
}

/** PATCH requests the simulator received for one Pluggy transaction. */
export const pluggyPatches = (pluggyTransactionId: string) => sim.requests({ path: `^/transactions/${pluggyTransactionId}$`, method: "PATCH" });

/**
 * Returns once a message sent to the category-sync queue now, held past every send delay and retry
 * backoff the tests configure, has been handled: a job of its own (a Pluggy-backed transaction, a
 * mapped category) ends `synced`. Whatever was queued or retried before it has been delivered by then —
 * the positive signal a "Pluggy got no further call" check waits for (test/helpers/queues.ts).
 */
export async function categorySyncQueueSettled(): Promise<void> {
  const userId = `sentinel-${crypto.randomUUID()}`;
  const { transaction } = await pluggyBackedTransaction(userId);
  const job = await makeSyncJob(transaction, (await mappedCategory(PLUGGY.food)).id);
  await env.CATEGORY_SYNC_QUEUE.send(messageOf(job), { delaySeconds: sentinelDelaySeconds() });
  await vi.waitUntil(async () => (await readJob(job.id)).status === "synced", { timeout: 20_000, interval: 100 });
}
