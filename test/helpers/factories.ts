import { env } from "cloudflare:workers";
import { createDb } from "../../src/db/client.ts";
import { categories, categoryMappings } from "../../src/db/schema.ts";
import { itemDirectory } from "../../src/catalog/directory.schema.ts";
import { accounts, items, ledgerMeta, transactions } from "../../src/ledger/ledger.schema.ts";
import { foldForSearch } from "../../src/banking/transactions.service.ts";
import { inLedger } from "./ledger.ts";

/*
 * Fixture factories: every row gets unique ids, so tests never depend on order or on each other.
 * Banking rows go straight into the user's own ledger (a SQLite Durable Object) and items into the
 * catalog's item directory, as the product writes them; the thing under test reads them back through
 * the API. Rows come back with their `userId`, which the ledger itself does not store.
 */

const db = () => createDb(env.DB);
const now = () => new Date().toISOString();
const uid = () => crypto.randomUUID();

export async function makeItem(userId: string, overrides: Partial<typeof items.$inferInsert> = {}) {
  const row: typeof items.$inferInsert = {
    id: uid(),
    connectorId: 0,
    connectorName: "Pluggy Bank",
    connectorImageUrl: "https://cdn.pluggy.ai/assets/connector-icons/sandbox.svg",
    status: "UPDATED",
    executionStatus: "SUCCESS",
    lastUpdatedAt: now(),
    pluggyCreatedAt: now(),
    createdAt: now(),
    updatedAt: now(),
    ...overrides,
  };
  await inLedger(userId, (ledger) => {
    ledger.insert(ledgerMeta).values({ key: "user_id", value: userId }).onConflictDoNothing().run();
    ledger.insert(items).values(row).run();
  });
  await db()
    .insert(itemDirectory)
    .values({ itemId: row.id as string, userId, nextReconcileAt: now(), createdAt: now() })
    .onConflictDoNothing();
  return { ...(row as typeof items.$inferSelect), userId };
}

export async function makeAccount(userId: string, itemId: string, overrides: Partial<typeof accounts.$inferInsert> = {}) {
  const row: typeof accounts.$inferInsert = {
    id: uid(),
    pluggyId: uid(),
    itemId,
    name: "Conta Corrente",
    type: "BANK",
    subtype: "CHECKING_ACCOUNT",
    number: "0001/12345-0",
    balanceMinor: 123456,
    currencyCode: "BRL",
    createdAt: now(),
    updatedAt: now(),
    ...overrides,
  };
  await inLedger(userId, (ledger) => ledger.insert(accounts).values(row).run());
  return { ...(row as typeof accounts.$inferSelect), userId };
}

export async function makeTransaction(
  userId: string,
  account: { id: string; itemId: string },
  overrides: Partial<typeof transactions.$inferInsert> = {},
) {
  const description = overrides.description ?? `Compra ${uid().slice(0, 8)}`;
  const row: typeof transactions.$inferInsert = {
    id: uid(),
    pluggyId: uid(),
    accountId: account.id,
    itemId: account.itemId,
    date: "2026-11-01",
    description,
    descriptionFolded: foldForSearch(description),
    amountMinor: -4599,
    currencyCode: "BRL",
    type: "DEBIT",
    status: "POSTED",
    createdAt: now(),
    updatedAt: now(),
    ...overrides,
  };
  await inLedger(userId, (ledger) => ledger.insert(transactions).values(row).run());
  return { ...(row as typeof transactions.$inferSelect), userId };
}

export async function makeCategory(overrides: Partial<typeof categories.$inferInsert> & { pluggyCategoryId?: string } = {}) {
  const { pluggyCategoryId, ...rest } = overrides;
  const row: typeof categories.$inferInsert = { id: uid(), name: `Category ${uid().slice(0, 6)}`, parentId: null, createdAt: now(), updatedAt: now(), ...rest };
  await db().insert(categories).values(row);
  if (pluggyCategoryId) {
    await db().insert(categoryMappings).values({ categoryId: row.id, pluggyCategoryId, createdAt: now(), updatedAt: now() });
  }
  return row as typeof categories.$inferSelect;
}

/** A user with one item, one account and `count` transactions on consecutive days. */
export async function makeUserWithTransactions(userId: string, count: number) {
  const item = await makeItem(userId);
  const account = await makeAccount(userId, item.id);
  const rows = [];
  for (let i = 0; i < count; i++) {
    const day = new Date(Date.UTC(2026, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
    rows.push(await makeTransaction(userId, account, { date: day }));
  }
  return { item, account, transactions: rows };
}
