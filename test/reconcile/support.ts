import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { expect } from "vitest";
import worker from "../../src/index.ts";
import { itemDirectory } from "../../src/catalog/directory.schema.ts";
import { createDb } from "../../src/db/client.ts";
import { accounts, items, transactions } from "../../src/ledger/ledger.schema.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { toMinor } from "../../src/platform/money.ts";
import { createPluggyClient, type PluggyClientOptions } from "../../src/pluggy/pluggy.client.ts";
import type { EventsQueueMessage } from "../../src/queues/messages.ts";
import { syncItem, type SyncDeps } from "../../src/sync/item-sync.service.ts";
import { authHeaders } from "../helpers/auth.ts";
import { body, call } from "../helpers/http.ts";
import { inLedger, ledgerOf } from "../helpers/ledger.ts";
import { sim } from "../helpers/simulator.ts";

/*
 * Fixtures for reconciliation: items that exist at the simulator and were mirrored locally by a real
 * sync, drift made at the simulator with no webhook, and the admin metrics read back through the API.
 * D1 is per test file here (the simulator is shared), so counter deltas inside one file are exact. Rows
 * are read from the owner's ledger, owners and schedules from the catalog's item directory.
 */

export const db = createDb(env.DB);
export const EVENTS_QUEUE = "finance-hub-events";

/**
 * Service dependencies with a Pluggy client of its own simulator tenant (so `sim.requests({ clientId })`
 * shows only this test's calls); reads are tried once and never sleep, so a fault surfaces at once.
 */
export function deps(options: PluggyClientOptions = {}): SyncDeps & { clientId: string } {
  const clientId = `${env.PLUGGY_CLIENT_ID}+reconcile-${crypto.randomUUID()}`;
  const logger = createLogger({ test: "reconcile" });
  const pluggy = createPluggyClient({ ...env, PLUGGY_CLIENT_ID: clientId }, { maxReadAttempts: 1, sleep: async () => {}, logger, ...options });
  return { catalog: db, pluggy, logger, ledger: ledgerOf, clientId };
}

/** YYYY-MM-DD `days` ago (UTC). */
export const daysAgo = (days: number): string => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);

/**
 * An item at the simulator (one account unless told) with some transactions booked recently and long
 * ago, mirrored locally by a full sync: local and Pluggy agree before each test makes them drift.
 */
export async function mirroredItem(userId: string, options: { accounts?: number; transactionsPerAccount?: number } = {}) {
  const created = await sim.createItem({ clientUserId: userId, accounts: options.accounts ?? 1, transactionsPerAccount: options.transactionsPerAccount ?? 10 });
  const account = created.accounts[0];
  if (!account) throw new Error("simulator created no account");
  const [recent, older, old] = await sim.addTransactions(created.item.id, {
    accountId: account.id,
    transactions: [{ date: daysAgo(3) }, { date: daysAgo(12) }, { date: daysAgo(90) }],
  });
  if (!recent || !older || !old) throw new Error("simulator added no transactions");
  const synced = await syncItem(deps(), created.item.id);
  expect(synced.outcome).toBe("synced");
  return { item: created.item, account, recent, older, old };
}

/** The item as `userId`'s ledger holds it (undefined when it does not). */
export const localItem = (userId: string, itemId: string) => inLedger(userId, (ledger) => ledger.select().from(items).where(eq(items.id, itemId)).get());
export const localAccounts = (userId: string, itemId: string) => inLedger(userId, (ledger) => ledger.select().from(accounts).where(eq(accounts.itemId, itemId)).all());
export const localTransactions = (userId: string, itemId: string) => inLedger(userId, (ledger) => ledger.select().from(transactions).where(eq(transactions.itemId, itemId)).all());
export const localTransaction = (userId: string, pluggyId: string) => inLedger(userId, (ledger) => ledger.select().from(transactions).where(eq(transactions.pluggyId, pluggyId)).get());
/** The item's entry in the catalog's item directory (owner, next reconciliation). */
export const directoryEntry = (itemId: string) => db.select().from(itemDirectory).where(eq(itemDirectory.itemId, itemId)).get();

/** Asserts that the directory names `userId` and that their ledger holds exactly the simulator's accounts and transactions for the item. */
export async function expectInLineWithPluggy(itemId: string, userId: string): Promise<void> {
  const state = await sim.getItemState(itemId);
  expect(await directoryEntry(itemId)).toMatchObject({ userId });
  const localAccountRows = await localAccounts(userId, itemId);
  expect(localAccountRows.map((a) => a.pluggyId).sort()).toEqual(state.accounts.map((a) => a.id).sort());
  const accountByPluggy = new Map(localAccountRows.map((a) => [a.pluggyId, a]));
  const rows = await localTransactions(userId, itemId);
  expect(rows.map((r) => r.pluggyId).sort()).toEqual(state.transactions.map((t) => t.id).sort());
  const byPluggy = new Map(rows.map((r) => [r.pluggyId, r]));
  for (const t of state.transactions) {
    expect(byPluggy.get(t.id), `transaction ${t.id}`).toMatchObject({
      itemId,
      accountId: accountByPluggy.get(t.accountId)?.id,
      amountMinor: toMinor(t.amount),
      date: t.date.slice(0, 10),
      description: t.description,
      status: t.status,
      type: t.type,
    });
  }
}

export interface ReconciliationCounts {
  runs: number;
  items: number;
  added: number;
  updated: number;
  removed: number;
}

/**
 * The `reconciliation` block of GET /api/admin/metrics/?window=24h, checked against its hourly series
 * (the series must sum to the block).
 */
export async function reconciliationMetrics(): Promise<ReconciliationCounts> {
  const response = await call("/api/admin/metrics/?window=24h", { headers: await authHeaders("ops-admin", { admin: true }) });
  expect(response.status).toBe(200);
  const { data } = await body<{ data: { reconciliation: ReconciliationCounts; series: { reconciliation: ReconciliationCounts }[] } }>(response);
  const summed = { runs: 0, items: 0, added: 0, updated: 0, removed: 0 };
  for (const point of data.series) for (const key of Object.keys(summed) as (keyof ReconciliationCounts)[]) summed[key] += point.reconciliation[key];
  expect(summed).toEqual(data.reconciliation);
  return data.reconciliation;
}

/** Runs one message through the Worker's real `queue` handler and returns the broker's verdict. */
export async function deliver(message: EventsQueueMessage, options: { queue?: string; attempts?: number } = {}) {
  const id = crypto.randomUUID();
  const batch = createMessageBatch(options.queue ?? EVENTS_QUEUE, [{ id, timestamp: new Date(), attempts: options.attempts ?? 1, body: message }]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return { id, result: await getQueueResult(batch, ctx) };
}

/** A queue stand-in that records what a fan-out sends (sendBatch calls and their messages). */
export function recordingQueue() {
  const batches: MessageSendRequest<EventsQueueMessage>[][] = [];
  const queue = {
    send: async () => {
      throw new Error("fan-out must use sendBatch");
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<EventsQueueMessage>>) => {
      batches.push([...messages]);
    },
  } as unknown as Queue<EventsQueueMessage>;
  return { queue, batches, messages: () => batches.flat() };
}
