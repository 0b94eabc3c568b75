import { createExecutionContext, createMessageBatch, getQueueResult, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { vi } from "vitest";
import worker from "../../src/index.ts";
import { createDb } from "../../src/db/client.ts";
import { applyAttention } from "../../src/catalog/attention.repo.ts";
import { attention } from "../../src/catalog/attention.schema.ts";
import { categorySyncJobs, ledgerMeta, transactions, type CategorySyncJobRow } from "../../src/ledger/ledger.schema.ts";
import type { CategorySyncMessage } from "../../src/queues/messages.ts";
import { makeAccount, makeCategory, makeItem, makeTransaction } from "../helpers/factories.ts";
import { inLedger, ledgerOf } from "../helpers/ledger.ts";
import { sentinelDelaySeconds } from "../helpers/queues.ts";
import { sim } from "../helpers/simulator.ts";

/*
 * Fixtures for the category-sync tests: a local transaction (in its user's ledger) that really exists at
 * the simulator, mapped categories, jobs written straight into the ledger's outbox (and, for failed and
 * dead ones, into the catalog's attention index, as the product would), and one-message batches run
 * through the Worker's real `queue` handler.
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

type Owned = { id: string; userId: string };
export type SyncJob = CategorySyncJobRow & { userId: string };

/**
 * Writes an outbox job into the transaction's ledger (and aligns the transaction's version), bypassing
 * the PATCH so no message is sent. A failed or dead job is also put in the attention index.
 */
export async function makeSyncJob(
  transaction: { id: string; userId: string; pluggyId: string | null },
  categoryId: string,
  overrides: Partial<typeof categorySyncJobs.$inferInsert> = {},
): Promise<SyncJob> {
  const at = new Date().toISOString();
  const status = overrides.status ?? "pending";
  const row: typeof categorySyncJobs.$inferInsert = {
    id: crypto.randomUUID(),
    transactionId: transaction.id,
    pluggyTransactionId: transaction.pluggyId ?? "missing",
    categoryId,
    version: 1,
    status,
    attempts: 0,
    dueAt: new Date(Date.now() + 3 * 60_000).toISOString(),
    pendingSince: status === "pending" ? at : null,
    attentionStatus: status === "failed" || status === "dead" ? status : null,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
  await inLedger(transaction.userId, (ledger) => {
    ledger.insert(ledgerMeta).values({ key: "user_id", value: transaction.userId }).onConflictDoNothing().run();
    ledger.insert(categorySyncJobs).values(row).run();
    ledger.update(transactions).set({ categoryId, categorySetByUser: true, categoryVersion: row.version }).where(eq(transactions.id, transaction.id)).run();
  });
  if (row.attentionStatus) {
    await applyAttention(db(), [{ kind: "category_sync", id: row.id as string, userId: transaction.userId, status: row.attentionStatus, since: row.updatedAt as string }]);
  }
  return { ...(row as CategorySyncJobRow), userId: transaction.userId };
}

export async function readJob(job: Owned): Promise<CategorySyncJobRow> {
  const row = await inLedger(job.userId, (ledger) => ledger.select().from(categorySyncJobs).where(eq(categorySyncJobs.id, job.id)).get());
  if (!row) throw new Error(`job ${job.id} not found`);
  return row;
}

export async function jobOf(transaction: Owned): Promise<CategorySyncJobRow | undefined> {
  return inLedger(transaction.userId, (ledger) => ledger.select().from(categorySyncJobs).where(eq(categorySyncJobs.transactionId, transaction.id)).get());
}

export async function readTransaction(transaction: Owned) {
  const row = await inLedger(transaction.userId, (ledger) => ledger.select().from(transactions).where(eq(transactions.id, transaction.id)).get());
  if (!row) throw new Error(`transaction ${transaction.id} not found`);
  return row;
}

/** The job's entry in the catalog's attention index, if any. */
export async function attentionOf(jobId: string) {
  const [row] = await db().select().from(attention).where(and(eq(attention.kind, "category_sync"), eq(attention.id, jobId)));
  return row;
}

export const messageOf = (job: { id: string; transactionId: string; version: number; userId: string }, version = job.version): CategorySyncMessage => ({
  kind: "category.sync",
  jobId: job.id,
  transactionId: job.transactionId,
  version,
  userId: job.userId,
});

/** Arms the ledger's alarm an hour ahead (jobs written straight into a ledger arm none), for runLedgerAlarm to run. */
export const armLedgerAlarm = (userId: string) => runInDurableObject(ledgerOf(userId), (_instance, state) => state.storage.setAlarm(Date.now() + 60 * 60_000));

/** Runs the user's ledger alarm now (the cron sweeper's successor); false when none was armed. */
export const runLedgerAlarm = (userId: string) => runDurableObjectAlarm(ledgerOf(userId));

/**
 * Makes the ledger's counter roll-up due now (as if its minute had passed) and runs its alarm, so the
 * catalog's metric_counters hold what the ledger counted.
 */
export async function rollUpNow(userId: string): Promise<void> {
  await inLedger(userId, (ledger) =>
    ledger
      .insert(ledgerMeta)
      .values({ key: "rollup_due_at", value: String(Date.now() - 1) })
      .onConflictDoUpdate({ target: ledgerMeta.key, set: { value: String(Date.now() - 1) } })
      .run(),
  );
  await runLedgerAlarm(userId);
}

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
  await vi.waitUntil(async () => (await readJob(job)).status === "synced", { timeout: 20_000, interval: 100 });
}
