import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { expect } from "vitest";
import { itemDirectory } from "../../src/catalog/directory.schema.ts";
import { createDb } from "../../src/db/client.ts";
import { accounts, items, transactions } from "../../src/ledger/ledger.schema.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { toMinor } from "../../src/platform/money.ts";
import { createPluggyClient, type PluggyClientOptions } from "../../src/pluggy/pluggy.client.ts";
import type { SyncDeps } from "../../src/sync/item-sync.service.ts";
import { inLedger, ledgerOf } from "../helpers/ledger.ts";
import { sim } from "../helpers/simulator.ts";

export const db = createDb(env.DB);

/**
 * Sync dependencies with a Pluggy client of its own simulator tenant (`sim-client-id+<tag>`), so
 * `sim.requests({ clientId })` shows only this test's calls. Reads are not retried and never sleep:
 * a fault surfaces at once as the PluggyError the caller would see.
 */
export function syncDeps(options: PluggyClientOptions = {}): SyncDeps & { clientId: string } {
  const clientId = `${env.PLUGGY_CLIENT_ID}+sync-${crypto.randomUUID()}`;
  const logger = createLogger({ test: "sync" });
  const pluggy = createPluggyClient({ ...env, PLUGGY_CLIENT_ID: clientId }, { maxReadAttempts: 1, sleep: async () => {}, logger, ...options });
  return { catalog: db, pluggy, logger, ledger: ledgerOf, clientId };
}

/** The item as `userId`'s ledger holds it (undefined when it does not). */
export const localItem = (userId: string, itemId: string) => inLedger(userId, (ledger) => ledger.select().from(items).where(eq(items.id, itemId)).get());
export const localAccounts = (userId: string, itemId: string) => inLedger(userId, (ledger) => ledger.select().from(accounts).where(eq(accounts.itemId, itemId)).all());
export const localTransactions = (userId: string, itemId: string) => inLedger(userId, (ledger) => ledger.select().from(transactions).where(eq(transactions.itemId, itemId)).all());
export const localTransaction = (userId: string, pluggyId: string) => inLedger(userId, (ledger) => ledger.select().from(transactions).where(eq(transactions.pluggyId, pluggyId)).get());
/** The item's entry in the catalog's item directory (its owner, when it is next reconciled). */
export const directoryEntry = (itemId: string) => db.select().from(itemDirectory).where(eq(itemDirectory.itemId, itemId)).get();

/**
 * Asserts that the item directory names `userId` as the item's owner and that `userId`'s ledger holds
 * exactly the simulator's item, accounts and transactions, field by field.
 */
export async function expectLocalMatchesSimulator(itemId: string, userId: string): Promise<void> {
  const state = await sim.getItemState(itemId);
  expect(await directoryEntry(itemId)).toMatchObject({ itemId, userId });
  expect(await localItem(userId, itemId)).toMatchObject({ id: itemId });
  const localAccountRows = await localAccounts(userId, itemId);
  expect(localAccountRows.map((a) => a.pluggyId).sort()).toEqual(state.accounts.map((a) => a.id).sort());
  const accountByPluggy = new Map(localAccountRows.map((a) => [a.pluggyId, a]));
  for (const account of state.accounts) {
    expect(accountByPluggy.get(account.id)).toMatchObject({ itemId, balanceMinor: toMinor(account.balance), currencyCode: account.currencyCode, type: account.type });
  }

  const rows = await localTransactions(userId, itemId);
  expect(rows.length).toBe(state.transactions.length);
  const byPluggy = new Map(rows.map((r) => [r.pluggyId, r]));
  expect(byPluggy.size).toBe(rows.length); // no duplicates
  for (const t of state.transactions) {
    const row = byPluggy.get(t.id);
    expect(row, `transaction ${t.id}`).toBeDefined();
    expect(row).toMatchObject({
      itemId,
      accountId: accountByPluggy.get(t.accountId)?.id,
      amountMinor: toMinor(t.amount),
      date: t.date.slice(0, 10),
      description: t.description,
      type: t.type,
      status: t.status,
      currencyCode: t.currencyCode,
      pluggyCategoryId: t.categoryId,
    });
  }
}
