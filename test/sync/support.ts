import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { expect } from "vitest";
import { createDb } from "../../src/db/client.ts";
import { accounts, items, transactions } from "../../src/db/schema.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { toMinor } from "../../src/platform/money.ts";
import { createPluggyClient, type PluggyClientOptions } from "../../src/pluggy/pluggy.client.ts";
import type { SyncDeps } from "../../src/sync/item-sync.service.ts";
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
  return { catalog: db, pluggy, logger, clientId };
}

export const localItem = (itemId: string) => db.select().from(items).where(eq(items.id, itemId)).get();
export const localAccounts = (itemId: string) => db.select().from(accounts).where(eq(accounts.itemId, itemId));
export const localTransactions = (itemId: string) => db.select().from(transactions).where(eq(transactions.itemId, itemId));

/** Asserts that D1 holds exactly the simulator's accounts and transactions for the item, field by field. */
export async function expectLocalMatchesSimulator(itemId: string, userId: string): Promise<void> {
  const state = await sim.getItemState(itemId);
  const localAccountRows = await localAccounts(itemId);
  expect(localAccountRows.map((a) => a.pluggyId).sort()).toEqual(state.accounts.map((a) => a.id).sort());
  const accountByPluggy = new Map(localAccountRows.map((a) => [a.pluggyId, a]));
  for (const account of state.accounts) {
    expect(accountByPluggy.get(account.id)).toMatchObject({ userId, itemId, balanceMinor: toMinor(account.balance), currencyCode: account.currencyCode, type: account.type });
  }

  const rows = await localTransactions(itemId);
  expect(rows.length).toBe(state.transactions.length);
  const byPluggy = new Map(rows.map((r) => [r.pluggyId, r]));
  expect(byPluggy.size).toBe(rows.length); // no duplicates
  for (const t of state.transactions) {
    const row = byPluggy.get(t.id);
    expect(row, `transaction ${t.id}`).toBeDefined();
    expect(row).toMatchObject({
      userId,
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
