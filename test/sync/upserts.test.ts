import { env } from "cloudflare:workers";
import { eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client.ts";
import { categorySyncJobs, items, transactions } from "../../src/db/schema.ts";
import type { PluggyItem, PluggyTransaction } from "../../src/pluggy/pluggy.schemas.ts";
import { createCategoryLookup } from "../../src/sync/category-lookup.ts";
import { bookingDate, deleteItemData, deleteTransactionsByPluggyIds, localAccountsOf, upsertAccounts, upsertItem, upsertTransactions } from "../../src/sync/upserts.ts";
import { makeAccount, makeCategory, makeItem } from "../helpers/factories.ts";
import { uniqueUser } from "../helpers/auth.ts";

const db = createDb(env.DB);

/** A Pluggy-shaped transaction with a unique id. */
function pluggyTx(accountId: string, overrides: Partial<PluggyTransaction> = {}): PluggyTransaction {
  return {
    id: crypto.randomUUID(),
    accountId,
    date: "2026-11-02T03:00:00.000Z",
    description: "Padaria São João",
    descriptionRaw: "PADARIA SAO JOAO",
    type: "DEBIT",
    amount: -12.34,
    currencyCode: "BRL",
    category: "Food",
    categoryId: "11010000",
    status: "POSTED",
    createdAt: "2026-11-02T10:00:00.000Z",
    ...overrides,
  };
}

async function setup() {
  const userId = uniqueUser("sync");
  const item = await makeItem(userId);
  const account = await makeAccount(userId, item.id);
  const owner = { userId, itemId: item.id, accounts: new Map([[account.pluggyId, { id: account.id, currencyCode: account.currencyCode }]]) };
  return { userId, item, account, owner };
}

const rowsOf = (pluggyIds: string[]) => db.select().from(transactions).where(inArray(transactions.pluggyId, pluggyIds.slice(0, 90)));

describe("upsertTransactions", () => {
  it("maps Pluggy's fields: minor units, booking date, description fallback, folded text, defaults", async () => {
    const { owner, account, userId, item } = await setup();
    const a = pluggyTx(account.pluggyId, { amount: 0.29, type: "CREDIT", status: null, description: null, descriptionRaw: "PIX RECEBIDO JOSÉ", currencyCode: null, category: null, categoryId: null });
    const b = pluggyTx(account.pluggyId, { amount: -1234.5, date: "2026-10-31", createdAt: "2026-11-03T01:02:03Z" });
    const counts = await upsertTransactions({ catalog: db }, owner, [a, b], createCategoryLookup({ catalog: db }));
    expect(counts).toMatchObject({ added: 2, updated: 0, unchanged: 0, skipped: 0, maxCreatedAt: "2026-11-03T01:02:03.000Z" });

    const rows = new Map((await rowsOf([a.id, b.id])).map((r) => [r.pluggyId, r]));
    expect(rows.get(a.id)).toMatchObject({
      userId,
      itemId: item.id,
      accountId: account.id,
      amountMinor: 29,
      type: "CREDIT",
      status: "POSTED",
      description: "PIX RECEBIDO JOSÉ",
      descriptionFolded: "pix recebido jose",
      currencyCode: "BRL",
      date: "2026-11-02",
      categoryId: null,
      pluggyCategoryId: null,
      categorySetByUser: false,
      categoryVersion: 0,
    });
    expect(rows.get(b.id)).toMatchObject({ amountMinor: -123450, date: "2026-10-31", pluggyCreatedAt: "2026-11-03T01:02:03.000Z", pluggyCategoryId: "11010000", pluggyCategoryName: "Food" });
  });

  it("is idempotent: a repeat writes nothing and counts no change; a real change counts as updated", async () => {
    const { owner, account } = await setup();
    const page = Array.from({ length: 30 }, (_, i) => pluggyTx(account.pluggyId, { amount: -(i + 1) }));
    expect(await upsertTransactions({ catalog: db }, owner, page, createCategoryLookup({ catalog: db }))).toMatchObject({ added: 30, updated: 0 });
    const before = await rowsOf(page.map((t) => t.id));

    expect(await upsertTransactions({ catalog: db }, owner, page, createCategoryLookup({ catalog: db }))).toMatchObject({ added: 0, updated: 0, unchanged: 30 });
    const after = await rowsOf(page.map((t) => t.id));
    expect(after).toEqual(before); // same ids, same updated_at: nothing was rewritten

    const changed = page.map((t, i) => (i < 3 ? { ...t, status: "PENDING" as const, amount: t.amount - 1 } : t));
    expect(await upsertTransactions({ catalog: db }, owner, changed, createCategoryLookup({ catalog: db }))).toMatchObject({ added: 0, updated: 3, unchanged: 27 });
    const [first] = await rowsOf([page[0]?.id ?? ""]);
    expect(first).toMatchObject({ status: "PENDING", amountMinor: -200, id: before.find((r) => r.pluggyId === page[0]?.id)?.id });
  });

  it("skips rows of accounts it does not know, and counts them", async () => {
    const { owner, account } = await setup();
    const counts = await upsertTransactions({ catalog: db }, owner, [pluggyTx(account.pluggyId), pluggyTx("unknown-account")], createCategoryLookup({ catalog: db }));
    expect(counts).toMatchObject({ added: 1, skipped: 1 });
  });

  it("stays within D1's 100-parameter limit for 1,000 rows in one call", async () => {
    const { owner, account, item } = await setup();
    const page = Array.from({ length: 1000 }, (_, i) => pluggyTx(account.pluggyId, { amount: i / 100, description: `Row ${i} ${"x".repeat(40)}` }));
    expect(await upsertTransactions({ catalog: db }, owner, page, createCategoryLookup({ catalog: db }))).toMatchObject({ added: 1000 });
    const [count] = await db.$count(transactions, eq(transactions.itemId, item.id)).then((n) => [n]);
    expect(count).toBe(1000);
  });

  it("sets our category from the mapping only while the user has not chosen one, on insert and update", async () => {
    const { owner, account } = await setup();
    const pluggyCategory = `9${crypto.randomUUID().replace(/\D/g, "").slice(0, 7).padEnd(7, "0")}`;
    const otherPluggyCategory = `8${crypto.randomUUID().replace(/\D/g, "").slice(0, 7).padEnd(7, "0")}`;
    const mapped = await makeCategory({ pluggyCategoryId: pluggyCategory });
    const mappedOther = await makeCategory({ pluggyCategoryId: otherPluggyCategory });
    const userChoice = await makeCategory();

    const auto = pluggyTx(account.pluggyId, { categoryId: pluggyCategory, category: "Mapped" });
    const chosen = pluggyTx(account.pluggyId, { categoryId: pluggyCategory, category: "Mapped" });
    const unmapped = pluggyTx(account.pluggyId, { categoryId: "99999999", category: "Nobody maps this" });
    await upsertTransactions({ catalog: db }, owner, [auto, chosen, unmapped], createCategoryLookup({ catalog: db }));
    let rows = new Map((await rowsOf([auto.id, chosen.id, unmapped.id])).map((r) => [r.pluggyId, r]));
    expect(rows.get(auto.id)?.categoryId).toBe(mapped.id);
    expect(rows.get(unmapped.id)?.categoryId).toBeNull();
    expect(rows.get(unmapped.id)?.pluggyCategoryId).toBe("99999999");

    // The user picks a category for `chosen` (what the PATCH route does).
    await db.update(transactions).set({ categoryId: userChoice.id, categorySetByUser: true, categoryVersion: 1 }).where(eq(transactions.pluggyId, chosen.id));

    // Pluggy recategorizes both: `auto` follows the mapping, `chosen` keeps the user's category.
    const recategorized = [auto, chosen].map((t) => ({ ...t, categoryId: otherPluggyCategory, category: "Other" }));
    expect(await upsertTransactions({ catalog: db }, owner, recategorized, createCategoryLookup({ catalog: db }))).toMatchObject({ updated: 2 });
    rows = new Map((await rowsOf([auto.id, chosen.id])).map((r) => [r.pluggyId, r]));
    expect(rows.get(auto.id)).toMatchObject({ categoryId: mappedOther.id, pluggyCategoryId: otherPluggyCategory, categorySetByUser: false });
    expect(rows.get(chosen.id)).toMatchObject({ categoryId: userChoice.id, pluggyCategoryId: otherPluggyCategory, categorySetByUser: true, categoryVersion: 1 });

    // A new mapping applies on the next sync even if Pluggy's row did not change.
    const lateCategory = await makeCategory({ pluggyCategoryId: "99999999" });
    expect(await upsertTransactions({ catalog: db }, owner, [unmapped], createCategoryLookup({ catalog: db }))).toMatchObject({ updated: 1 });
    expect((await rowsOf([unmapped.id]))[0]?.categoryId).toBe(lateCategory.id);
  });

  // How fast is the bench's business (initial-sync phase, goal 10 s for 10,000 rows); here only that it works.
  it("writes 10,000 rows in pages of 500, every one of them", async () => {
    const { owner, account, item } = await setup();
    const total = 10_000;
    const pageSize = 500;
    const lookup = createCategoryLookup({ catalog: db });
    const started = performance.now();
    for (let offset = 0; offset < total; offset += pageSize) {
      const page = Array.from({ length: pageSize }, (_, i) =>
        pluggyTx(account.pluggyId, { amount: -(offset + i) / 100, description: `Compra ${offset + i} no mercado`, createdAt: new Date(Date.UTC(2026, 0, 1) + offset + i).toISOString() }),
      );
      await upsertTransactions({ catalog: db }, owner, page, lookup);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`upsertTransactions: ${total} rows in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} rows/s`);
    expect(await db.$count(transactions, eq(transactions.itemId, item.id))).toBe(total);
  });
});

describe("upsertItem", () => {
  const pluggyItem = (overrides: Partial<PluggyItem> = {}): PluggyItem => ({
    id: crypto.randomUUID(),
    connector: { id: 212, name: "Nubank" },
    status: "UPDATED",
    executionStatus: "SUCCESS",
    createdAt: "2026-11-02T10:00:00.000Z",
    ...overrides,
  });

  it("reports created for the insert only, then refreshes the caller's row", async () => {
    const userId = uniqueUser("sync");
    const item = pluggyItem();
    expect(await upsertItem({ catalog: db }, item, userId)).toEqual({ owned: true, created: true });
    expect(await upsertItem({ catalog: db }, { ...item, status: "LOGIN_ERROR" }, userId)).toEqual({ owned: true, created: false });
    expect(await db.select().from(items).where(eq(items.id, item.id)).get()).toMatchObject({ userId, status: "LOGIN_ERROR" });
  });

  it("leaves another user's row alone and says so", async () => {
    const owner = uniqueUser("sync");
    const item = pluggyItem();
    await upsertItem({ catalog: db }, item, owner);
    expect(await upsertItem({ catalog: db }, { ...item, status: "LOGIN_ERROR" }, uniqueUser("other"))).toEqual({ owned: false, created: false });
    expect(await db.select().from(items).where(eq(items.id, item.id)).get()).toMatchObject({ userId: owner, status: "UPDATED" });
  });

  it("lets D1 decide created: of concurrent upserts of one new item exactly one created it", async () => {
    const userId = uniqueUser("sync");
    const item = pluggyItem();
    const results = await Promise.all(Array.from({ length: 8 }, () => upsertItem({ catalog: db }, item, userId)));
    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(results.every((result) => result.owned)).toBe(true);
  });
});

describe("upsertAccounts", () => {
  it("keeps our id stable, stores balances in minor units and returns the item's accounts by Pluggy id", async () => {
    const userId = uniqueUser("sync");
    const item = await makeItem(userId);
    const pluggyId = crypto.randomUUID();
    const first = await upsertAccounts({ catalog: db }, { userId, itemId: item.id }, [{ id: pluggyId, itemId: item.id, type: "BANK", subtype: "CHECKING_ACCOUNT", name: "Conta", balance: 1000.1, currencyCode: "BRL" }]);
    const second = await upsertAccounts({ catalog: db }, { userId, itemId: item.id }, [{ id: pluggyId, itemId: item.id, type: "BANK", subtype: "CHECKING_ACCOUNT", name: "Conta", balance: -5.05, currencyCode: "BRL" }]);
    expect(second.get(pluggyId)?.id).toBe(first.get(pluggyId)?.id);
    const local = await localAccountsOf({ catalog: db }, item.id);
    expect(local.size).toBe(1);
    const row = await db.query.accounts.findFirst({ where: (a, { eq: equals }) => equals(a.pluggyId, pluggyId) });
    expect(row).toMatchObject({ balanceMinor: -505, name: "Conta", userId, itemId: item.id });
  });
});

describe("deletes", () => {
  async function withJob(userId: string, transactionId: string, pluggyTransactionId: string, categoryId: string) {
    const now = new Date().toISOString();
    await db.insert(categorySyncJobs).values({ id: crypto.randomUUID(), transactionId, userId, pluggyTransactionId, categoryId, version: 1, status: "pending", dueAt: now, createdAt: now, updatedAt: now });
  }

  it("deleteTransactionsByPluggyIds removes the rows and their sync jobs, scoped to the item, repeat-safe", async () => {
    const { owner, account, userId, item } = await setup();
    const other = await setup();
    const page = Array.from({ length: 150 }, () => pluggyTx(account.pluggyId));
    await upsertTransactions({ catalog: db }, owner, page, createCategoryLookup({ catalog: db }));
    const foreign = pluggyTx(other.account.pluggyId);
    await upsertTransactions({ catalog: db }, other.owner, [foreign], createCategoryLookup({ catalog: db }));
    const category = await makeCategory();
    const [target] = await rowsOf([page[0]?.id ?? ""]);
    if (!target?.pluggyId) throw new Error("fixture missing");
    await withJob(userId, target.id, target.pluggyId, category.id);

    const ids = [...page.slice(0, 120).map((t) => t.id), foreign.id, "never-existed"];
    expect(await deleteTransactionsByPluggyIds({ catalog: db }, ids, { itemId: item.id })).toBe(120);
    expect(await db.$count(transactions, eq(transactions.itemId, item.id))).toBe(30);
    expect(await db.$count(transactions, eq(transactions.pluggyId, foreign.id))).toBe(1); // another item's row is out of scope
    expect(await db.$count(categorySyncJobs, eq(categorySyncJobs.transactionId, target.id))).toBe(0);
    expect(await deleteTransactionsByPluggyIds({ catalog: db }, ids, { itemId: item.id })).toBe(0);
  });

  it("deleteItemData removes the item, its accounts, transactions and sync jobs", async () => {
    const { owner, account, userId, item } = await setup();
    const page = Array.from({ length: 12 }, () => pluggyTx(account.pluggyId));
    await upsertTransactions({ catalog: db }, owner, page, createCategoryLookup({ catalog: db }));
    const [target] = await rowsOf([page[0]?.id ?? ""]);
    if (!target?.pluggyId) throw new Error("fixture missing");
    await withJob(userId, target.id, target.pluggyId, (await makeCategory()).id);

    expect(await deleteItemData({ catalog: db }, item.id)).toEqual({ item: true, accounts: 1, transactions: 12 });
    expect(await db.$count(items, eq(items.id, item.id))).toBe(0);
    expect(await db.$count(categorySyncJobs, eq(categorySyncJobs.transactionId, target.id))).toBe(0);
    expect(await deleteItemData({ catalog: db }, item.id)).toEqual({ item: false, accounts: 0, transactions: 0 });
  });
});

describe("bookingDate", () => {
  it("takes the calendar date Pluggy wrote", () => {
    expect(bookingDate("2026-11-02T03:00:00.000Z")).toBe("2026-11-02");
    expect(bookingDate("2026-11-02")).toBe("2026-11-02");
    expect(bookingDate("2026-11-02T23:30:00-03:00")).toBe("2026-11-02");
  });
});
