import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client.ts";
import { bookingDate } from "../../src/ledger/banking.inputs.ts";
import { items, transactions } from "../../src/ledger/ledger.schema.ts";
import type { PluggyItem, PluggyTransaction } from "../../src/pluggy/pluggy.schemas.ts";
import { createCategoryLookup } from "../../src/sync/category-lookup.ts";
import { writeAccounts, writeItem, writeTransactionsPage, type TransactionTarget } from "../../src/sync/upserts.ts";
import { makeAccount, makeCategory, makeItem } from "../helpers/factories.ts";
import { uniqueUser } from "../helpers/auth.ts";
import { inLedger, ledgerOf } from "../helpers/ledger.ts";

/*
 * The Worker side of the sync writes: Pluggy's shapes become the ledger's inputs, our category is looked
 * up in the catalog, and each unit lands in the owner's ledger. Rows are read back from that ledger.
 */

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
  const owner: TransactionTarget = { itemId: item.id, accounts: { [account.pluggyId]: { id: account.id, currencyCode: account.currencyCode } } };
  return { userId, item, account, owner, ledger: ledgerOf(userId) };
}

/** The user's transactions with these Pluggy ids, from their ledger. */
const rowsOf = (userId: string, pluggyIds: string[]) =>
  inLedger(userId, (ledger) =>
    ledger
      .select()
      .from(transactions)
      .all()
      .filter((row) => row.pluggyId !== null && pluggyIds.includes(row.pluggyId)),
  );
const lookup = () => createCategoryLookup({ catalog: db });

describe("writeTransactionsPage", () => {
  it("maps Pluggy's fields: minor units, booking date, description fallback, folded text, defaults", async () => {
    const { owner, account, userId, item, ledger } = await setup();
    const a = pluggyTx(account.pluggyId, { amount: 0.29, type: "CREDIT", status: null, description: null, descriptionRaw: "PIX RECEBIDO JOSÉ", currencyCode: null, category: null, categoryId: null });
    const b = pluggyTx(account.pluggyId, { amount: -1234.5, date: "2026-10-31", createdAt: "2026-11-03T01:02:03Z" });
    const counts = await writeTransactionsPage(ledger, owner, [a, b], lookup());
    expect(counts).toMatchObject({ added: 2, updated: 0, unchanged: 0, skipped: 0, maxCreatedAt: "2026-11-03T01:02:03.000Z" });

    const rows = new Map((await rowsOf(userId, [a.id, b.id])).map((r) => [r.pluggyId, r]));
    expect(rows.get(a.id)).toMatchObject({
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
    const { owner, account, userId, ledger } = await setup();
    const page = Array.from({ length: 30 }, (_, i) => pluggyTx(account.pluggyId, { amount: -(i + 1) }));
    expect(await writeTransactionsPage(ledger, owner, page, lookup())).toMatchObject({ added: 30, updated: 0 });
    const before = await rowsOf(userId, page.map((t) => t.id));

    expect(await writeTransactionsPage(ledger, owner, page, lookup())).toMatchObject({ added: 0, updated: 0, unchanged: 30 });
    const after = await rowsOf(userId, page.map((t) => t.id));
    expect(after).toEqual(before); // same ids, same updated_at: nothing was rewritten

    const changed = page.map((t, i) => (i < 3 ? { ...t, status: "PENDING" as const, amount: t.amount - 1 } : t));
    expect(await writeTransactionsPage(ledger, owner, changed, lookup())).toMatchObject({ added: 0, updated: 3, unchanged: 27 });
    const [first] = await rowsOf(userId, [page[0]?.id ?? ""]);
    expect(first).toMatchObject({ status: "PENDING", amountMinor: -200, id: before.find((r) => r.pluggyId === page[0]?.id)?.id });
  });

  it("skips rows of accounts it does not know, and counts them (a page of only those costs no ledger call)", async () => {
    const { owner, account, userId, ledger } = await setup();
    const unknown = pluggyTx("unknown-account", { date: "not a date" }); // never converted: it is not sent
    const counts = await writeTransactionsPage(ledger, owner, [pluggyTx(account.pluggyId), unknown], lookup());
    expect(counts).toMatchObject({ added: 1, skipped: 1 });
    expect(await writeTransactionsPage(ledger, owner, [unknown, { ...unknown }], lookup())).toEqual({ added: 0, updated: 0, unchanged: 0, skipped: 1, maxCreatedAt: null });
    expect(await rowsOf(userId, [unknown.id])).toEqual([]);
  });

  it("writes 1,000 rows in one call, every one of them", async () => {
    const { owner, account, item, userId, ledger } = await setup();
    const page = Array.from({ length: 1000 }, (_, i) => pluggyTx(account.pluggyId, { amount: i / 100, description: `Row ${i} ${"x".repeat(40)}` }));
    expect(await writeTransactionsPage(ledger, owner, page, lookup())).toMatchObject({ added: 1000 });
    expect(await inLedger(userId, (l) => l.$count(transactions, eq(transactions.itemId, item.id)))).toBe(1000);
  });

  it("sets our category from the mapping only while the user has not chosen one, on insert and update", async () => {
    const { owner, account, userId, ledger } = await setup();
    const pluggyCategory = `9${crypto.randomUUID().replace(/\D/g, "").slice(0, 7).padEnd(7, "0")}`;
    const otherPluggyCategory = `8${crypto.randomUUID().replace(/\D/g, "").slice(0, 7).padEnd(7, "0")}`;
    const mapped = await makeCategory({ pluggyCategoryId: pluggyCategory });
    const mappedOther = await makeCategory({ pluggyCategoryId: otherPluggyCategory });
    const userChoice = await makeCategory();

    const auto = pluggyTx(account.pluggyId, { categoryId: pluggyCategory, category: "Mapped" });
    const chosen = pluggyTx(account.pluggyId, { categoryId: pluggyCategory, category: "Mapped" });
    const unmapped = pluggyTx(account.pluggyId, { categoryId: "99999999", category: "Nobody maps this" });
    await writeTransactionsPage(ledger, owner, [auto, chosen, unmapped], lookup());
    let rows = new Map((await rowsOf(userId, [auto.id, chosen.id, unmapped.id])).map((r) => [r.pluggyId, r]));
    expect(rows.get(auto.id)?.categoryId).toBe(mapped.id);
    expect(rows.get(unmapped.id)?.categoryId).toBeNull();
    expect(rows.get(unmapped.id)?.pluggyCategoryId).toBe("99999999");

    // The user picks a category for `chosen` (what the PATCH route does).
    await inLedger(userId, (l) => l.update(transactions).set({ categoryId: userChoice.id, categorySetByUser: true, categoryVersion: 1 }).where(eq(transactions.pluggyId, chosen.id)).run());

    // Pluggy recategorizes both: `auto` follows the mapping, `chosen` keeps the user's category.
    const recategorized = [auto, chosen].map((t) => ({ ...t, categoryId: otherPluggyCategory, category: "Other" }));
    expect(await writeTransactionsPage(ledger, owner, recategorized, lookup())).toMatchObject({ updated: 2 });
    rows = new Map((await rowsOf(userId, [auto.id, chosen.id])).map((r) => [r.pluggyId, r]));
    expect(rows.get(auto.id)).toMatchObject({ categoryId: mappedOther.id, pluggyCategoryId: otherPluggyCategory, categorySetByUser: false });
    expect(rows.get(chosen.id)).toMatchObject({ categoryId: userChoice.id, pluggyCategoryId: otherPluggyCategory, categorySetByUser: true, categoryVersion: 1 });

    // A new mapping applies on the next sync even if Pluggy's row did not change.
    const lateCategory = await makeCategory({ pluggyCategoryId: "99999999" });
    expect(await writeTransactionsPage(ledger, owner, [unmapped], lookup())).toMatchObject({ updated: 1 });
    expect((await rowsOf(userId, [unmapped.id]))[0]?.categoryId).toBe(lateCategory.id);
  });

  // How fast is the bench's business (initial-sync phase, goal 10 s for 10,000 rows); here only that it works.
  it("writes 10,000 rows in pages of 500, every one of them", async () => {
    const { owner, account, item, userId, ledger } = await setup();
    const total = 10_000;
    const pageSize = 500;
    const categories = lookup();
    const started = performance.now();
    for (let offset = 0; offset < total; offset += pageSize) {
      const page = Array.from({ length: pageSize }, (_, i) =>
        pluggyTx(account.pluggyId, { amount: -(offset + i) / 100, description: `Compra ${offset + i} no mercado`, createdAt: new Date(Date.UTC(2026, 0, 1) + offset + i).toISOString() }),
      );
      await writeTransactionsPage(ledger, owner, page, categories);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`writeTransactionsPage: ${total} rows in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} rows/s`);
    expect(await inLedger(userId, (l) => l.$count(transactions, eq(transactions.itemId, item.id)))).toBe(total);
  });
});

describe("writeItem", () => {
  const pluggyItem = (overrides: Partial<PluggyItem> = {}): PluggyItem => ({
    id: crypto.randomUUID(),
    connector: { id: 212, name: "Nubank", imageUrl: "https://cdn.pluggy.ai/nubank.svg" },
    status: "UPDATED",
    executionStatus: "SUCCESS",
    createdAt: "2026-11-02T10:00:00-03:00",
    lastUpdatedAt: "2026-11-03T10:00:00Z",
    ...overrides,
  });
  const storedItem = (userId: string, itemId: string) => inLedger(userId, (l) => l.select().from(items).where(eq(items.id, itemId)).get());

  it("reports created for the insert only, then refreshes the row with Pluggy's fields normalized", async () => {
    const userId = uniqueUser("sync");
    const item = pluggyItem();
    expect(await writeItem(ledgerOf(userId), userId, item)).toEqual({ created: true, updated: false });
    expect(await writeItem(ledgerOf(userId), userId, item)).toEqual({ created: false, updated: false });
    expect(await writeItem(ledgerOf(userId), userId, { ...item, status: "LOGIN_ERROR", error: { code: "INVALID_CREDENTIALS", message: "bad" } })).toEqual({ created: false, updated: true });
    expect(await storedItem(userId, item.id)).toMatchObject({
      connectorId: 212,
      connectorName: "Nubank",
      connectorImageUrl: "https://cdn.pluggy.ai/nubank.svg",
      status: "LOGIN_ERROR",
      executionStatus: "SUCCESS",
      errorCode: "INVALID_CREDENTIALS",
      errorMessage: "bad",
      pluggyCreatedAt: "2026-11-02T13:00:00.000Z",
      lastUpdatedAt: "2026-11-03T10:00:00.000Z",
      transactionsWatermark: null,
    });
  });

  it("of concurrent writes of one new item exactly one created it", async () => {
    const userId = uniqueUser("sync");
    const item = pluggyItem();
    const results = await Promise.all(Array.from({ length: 8 }, () => writeItem(ledgerOf(userId), userId, item)));
    expect(results.filter((result) => result.created)).toHaveLength(1);
  });
});

describe("writeAccounts", () => {
  it("keeps our id stable, stores balances in minor units and returns the item's accounts by Pluggy id", async () => {
    const userId = uniqueUser("sync");
    const item = await makeItem(userId);
    const ledger = ledgerOf(userId);
    const pluggyId = crypto.randomUUID();
    const first = await writeAccounts(ledger, item.id, [{ id: pluggyId, itemId: item.id, type: "BANK", subtype: "CHECKING_ACCOUNT", name: "Conta", balance: 1000.1, currencyCode: "BRL" }]);
    expect(first).toMatchObject({ added: 1, updated: 0 });
    const second = await writeAccounts(ledger, item.id, [{ id: pluggyId, itemId: item.id, type: "BANK", subtype: "CHECKING_ACCOUNT", name: "Conta", balance: -5.05, currencyCode: "BRL" }]);
    expect(second).toMatchObject({ added: 0, updated: 1 });
    expect(second.accounts[pluggyId]?.id).toBe(first.accounts[pluggyId]?.id);
    expect(Object.keys(await ledger.localAccounts(item.id))).toEqual([pluggyId]);
    expect(await ledger.getAccount(first.accounts[pluggyId]?.id ?? "")).toMatchObject({ balanceMinor: -505, name: "Conta", itemId: item.id, pluggyId });
  });

  it("with dropUnlisted removes the local accounts Pluggy no longer lists, with their transactions", async () => {
    const { userId, item, ledger, account, owner } = await setup();
    await writeTransactionsPage(ledger, owner, [pluggyTx(account.pluggyId), pluggyTx(account.pluggyId)], lookup());
    const listed = crypto.randomUUID();
    const result = await writeAccounts(ledger, item.id, [{ id: listed, itemId: item.id, type: "CREDIT", subtype: "CREDIT_CARD", name: "Cartão", balance: 10, currencyCode: "BRL" }], { dropUnlisted: true });
    expect(result).toMatchObject({ added: 1, removed: { accounts: 1, transactions: 2 }, unlistedKept: 0 });
    expect(Object.keys(result.accounts)).toEqual([listed]);
    expect(await inLedger(userId, (l) => l.$count(transactions, eq(transactions.itemId, item.id)))).toBe(0);
  });
});

describe("bookingDate", () => {
  it("takes the calendar date Pluggy wrote", () => {
    expect(bookingDate("2026-11-02T03:00:00.000Z")).toBe("2026-11-02");
    expect(bookingDate("2026-11-02")).toBe("2026-11-02");
    expect(bookingDate("2026-11-02T23:30:00-03:00")).toBe("2026-11-02");
  });
});
