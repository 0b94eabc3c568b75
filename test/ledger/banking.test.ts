import { runInDurableObject } from "cloudflare:test";
import { eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/durable-sqlite";
import { describe, expect, it } from "vitest";
import * as banking from "../../src/ledger/banking.repo.ts";
import {
  decodeTransactionCursor,
  decodeItemCursor,
  decodeAccountCursor,
  transactionInputFromPluggy,
  type AccountInput,
  type ItemInput,
  type TransactionInput,
} from "../../src/ledger/banking.inputs.ts";
import * as schema from "../../src/ledger/ledger.schema.ts";
import { accounts, categorySyncJobs, items, ledgerMeta, transactions } from "../../src/ledger/ledger.schema.ts";
import type { UserLedger } from "../../src/ledger/user-ledger.ts";
import { encodeCursor } from "../../src/platform/cursor.ts";
import { inLedger, ledgerOf } from "../helpers/ledger.ts";

const uid = () => crypto.randomUUID();

function itemInput(overrides: Partial<ItemInput> = {}): ItemInput {
  return {
    id: uid(),
    connectorId: 0,
    connectorName: "Pluggy Bank",
    connectorImageUrl: null,
    status: "UPDATED",
    executionStatus: "SUCCESS",
    errorCode: null,
    errorMessage: null,
    lastUpdatedAt: "2026-11-02T10:00:00.000Z",
    pluggyCreatedAt: "2026-11-01T10:00:00.000Z",
    ...overrides,
  };
}

function accountInput(overrides: Partial<AccountInput> = {}): AccountInput {
  return { pluggyId: uid(), name: "Conta Corrente", type: "BANK", subtype: "CHECKING_ACCOUNT", number: "0001", balanceMinor: 10_000, currencyCode: "BRL", ...overrides };
}

function txInput(accountPluggyId: string, overrides: Partial<TransactionInput> = {}): TransactionInput {
  return {
    pluggyId: uid(),
    accountPluggyId,
    date: "2026-11-02",
    description: "Padaria São João",
    amountMinor: -1234,
    currencyCode: "BRL",
    type: "DEBIT",
    status: "POSTED",
    categoryId: null,
    pluggyCategoryId: "11010000",
    pluggyCategoryName: "Food",
    pluggyCreatedAt: "2026-11-02T10:00:00.000Z",
    ...overrides,
  };
}

/** A user whose ledger holds one item with one account. */
async function setup(accountOverrides: Partial<AccountInput> = {}) {
  const userId = uid();
  const ledger = ledgerOf(userId);
  const item = itemInput();
  await ledger.applyItem(userId, item);
  const account = accountInput(accountOverrides);
  const { accounts: local } = await ledger.applyAccounts(item.id, [account]);
  const accountId = local[account.pluggyId]?.id ?? "";
  return { userId, ledger, item, account, accountId, local };
}

const txRows = (userId: string) => inLedger(userId, (db) => db.select().from(transactions).orderBy(transactions.pluggyId).all());

function job(transactionId: string, overrides: Partial<typeof categorySyncJobs.$inferInsert> = {}): typeof categorySyncJobs.$inferInsert {
  return {
    id: uid(),
    transactionId,
    pluggyTransactionId: uid(),
    categoryId: uid(),
    version: 1,
    status: "pending",
    dueAt: "2026-11-02T10:00:00.000Z",
    createdAt: "2026-11-02T10:00:00.000Z",
    updatedAt: "2026-11-02T10:00:00.000Z",
    ...overrides,
  };
}

async function transactionIdOf(userId: string, pluggyId: string): Promise<string> {
  const row = await inLedger(userId, (db) => db.select({ id: transactions.id }).from(transactions).where(eq(transactions.pluggyId, pluggyId)).get());
  if (!row) throw new Error(`no transaction ${pluggyId}`);
  return row.id;
}

describe("ledger items", () => {
  it("applyItem creates once, refreshes only on change, never rewrites created_at or the watermark, and binds the ledger to its user", async () => {
    const userId = uid();
    const ledger = ledgerOf(userId);
    const item = itemInput();
    expect(await ledger.applyItem(userId, item, "2026-11-02T10:00:00.000Z")).toEqual({ created: true, updated: false });
    expect(await ledger.owner()).toBe(userId);
    await ledger.advanceWatermark(item.id, "2026-11-02T09:00:00.000Z");

    expect(await ledger.applyItem(userId, item, "2026-11-02T11:00:00.000Z")).toEqual({ created: false, updated: false });
    expect(await ledger.getItem(item.id)).toMatchObject({ updatedAt: "2026-11-02T10:00:00.000Z" });

    expect(await ledger.applyItem(userId, { ...item, status: "LOGIN_ERROR", errorCode: "INVALID_CREDENTIALS" }, "2026-11-02T12:00:00.000Z")).toEqual({ created: false, updated: true });
    expect(await ledger.getItem(item.id)).toEqual({
      ...item,
      status: "LOGIN_ERROR",
      errorCode: "INVALID_CREDENTIALS",
      transactionsWatermark: "2026-11-02T09:00:00.000Z",
      lastReconciledAt: null,
      createdAt: "2026-11-02T10:00:00.000Z",
      updatedAt: "2026-11-02T12:00:00.000Z",
    });
    expect(await ledger.getItem(uid())).toBeNull();
  });

  it("applyItem refuses another user's id: a ledger never holds two users' data", async () => {
    const userId = uid();
    const ledger = ledgerOf(userId);
    await ledger.applyItem(userId, itemInput());
    const other = itemInput();
    // Called in the object: a rejecting RPC through the test harness leaks an unhandled rejection
    // (cloudflare/workers-sdk#14736), while the refusal itself is what matters here.
    await inLedger(userId, (_db, instance) => expect(() => instance.applyItem(uid(), other)).toThrow(/another user/));
    expect(await ledger.getItem(other.id)).toBeNull();
    expect(await ledger.owner()).toBe(userId);
  });

  it("lists items newest first, ties by id descending, with the API's cursor, page after page", async () => {
    const userId = uid();
    const ledger = ledgerOf(userId);
    const older = itemInput();
    await ledger.applyItem(userId, older, "2026-11-01T00:00:00.000Z");
    const tied = [itemInput(), itemInput(), itemInput()];
    for (const item of tied) await ledger.applyItem(userId, item, "2026-11-02T00:00:00.000Z");
    const expected = [...tied.map((i) => i.id).sort().reverse(), older.id];

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: banking.Page<schema.ItemRow> = await ledger.listItems({ limit: 2, after: cursor ? decodeItemCursor(cursor) : undefined });
      seen.push(...page.rows.map((r) => r.id));
      const last = page.rows.at(-1);
      if (page.nextCursor && last) expect(page.nextCursor).toBe(encodeCursor({ c: last.createdAt, i: last.id }));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(expected);
  });

  it("advanceWatermark only moves forward; markReconciled stamps the run and moves the watermark the same way", async () => {
    const { ledger, item } = await setup();
    expect(await ledger.advanceWatermark(item.id, "2026-11-02T10:00:00.000Z")).toBe("2026-11-02T10:00:00.000Z");
    expect(await ledger.advanceWatermark(item.id, "2026-11-01T10:00:00.000Z")).toBe("2026-11-02T10:00:00.000Z");
    expect(await ledger.advanceWatermark(item.id, "2026-11-03T10:00:00.000Z")).toBe("2026-11-03T10:00:00.000Z");
    expect(await ledger.advanceWatermark(uid(), "2026-11-03T10:00:00.000Z")).toBeNull();

    expect(await ledger.markReconciled(item.id, "2026-11-04T00:00:00.000Z", null)).toBe("2026-11-03T10:00:00.000Z");
    expect(await ledger.getItem(item.id)).toMatchObject({ lastReconciledAt: "2026-11-04T00:00:00.000Z" });
    expect(await ledger.markReconciled(item.id, "2026-11-05T00:00:00.000Z", "2026-11-01T00:00:00.000Z")).toBe("2026-11-03T10:00:00.000Z");
    expect(await ledger.markReconciled(item.id, "2026-11-06T00:00:00.000Z", "2026-11-05T00:00:00.000Z")).toBe("2026-11-05T00:00:00.000Z");
    expect(await ledger.getItem(item.id)).toMatchObject({ lastReconciledAt: "2026-11-06T00:00:00.000Z", transactionsWatermark: "2026-11-05T00:00:00.000Z" });
  });

  it("listItemIds finds items by their rows, accounts and transactions; the sweep's cut-off keeps later connections", async () => {
    const { userId, ledger, item, account } = await setup();
    await ledger.applyTransactionsPage(item.id, await ledger.localAccounts(item.id), [txInput(account.pluggyId)]);
    const later = itemInput({ pluggyCreatedAt: "2026-12-01T00:00:00.000Z" });
    const unknownCreation = itemInput({ pluggyCreatedAt: null });
    await ledger.applyItem(userId, later);
    await ledger.applyItem(userId, unknownCreation);
    // An item whose row went first: its accounts and transactions still name it.
    await inLedger(userId, (db) => db.delete(items).where(eq(items.id, item.id)).run());

    expect((await ledger.listItemIds()).sort()).toEqual([item.id, later.id, unknownCreation.id].sort());
    expect((await ledger.listItemIds({ createdUpTo: "2026-11-15T00:00:00.000Z" })).sort()).toEqual([unknownCreation.id]);
    expect((await ledger.listItemIds({ createdUpTo: "2026-12-01T00:00:00.000Z" })).sort()).toEqual([later.id, unknownCreation.id].sort());
  });
});

describe("ledger accounts", () => {
  it("applyAccounts inserts, refreshes only what changed, keeps our ids, and returns the item's accounts by Pluggy id", async () => {
    const { ledger, item, account, accountId } = await setup();
    const second = accountInput({ currencyCode: "USD" });
    const first = await ledger.applyAccounts(item.id, [account, second], { now: "2026-11-03T00:00:00.000Z" });
    expect(first).toMatchObject({ added: 1, updated: 0, removed: { accounts: 0, transactions: 0 }, unlistedKept: 0 });
    expect(first.accounts[account.pluggyId]).toEqual({ id: accountId, currencyCode: "BRL" });
    expect(first.accounts[second.pluggyId]).toMatchObject({ currencyCode: "USD" });

    const again = await ledger.applyAccounts(item.id, [account, { ...second, balanceMinor: 1 }], { now: "2026-11-04T00:00:00.000Z" });
    expect(again).toMatchObject({ added: 0, updated: 1 });
    expect(again.accounts).toEqual(first.accounts);
    expect(await ledger.getAccount(accountId)).toMatchObject({ updatedAt: expect.not.stringMatching(/^2026-11-04/) });
    expect(await ledger.getAccount(first.accounts[second.pluggyId]?.id ?? "")).toMatchObject({ balanceMinor: 1, updatedAt: "2026-11-04T00:00:00.000Z" });
    expect(await ledger.localAccounts(item.id)).toEqual(first.accounts);
  });

  it("with dropUnlisted removes the accounts Pluggy no longer lists, with their transactions and jobs; an empty list keeps them", async () => {
    const { userId, ledger, item, account, accountId } = await setup();
    const kept = accountInput();
    const { accounts: local } = await ledger.applyAccounts(item.id, [account, kept]);
    const rows = [txInput(account.pluggyId), txInput(account.pluggyId), txInput(kept.pluggyId)];
    await ledger.applyTransactionsPage(item.id, local, rows);
    const doomedTx = await transactionIdOf(userId, rows[0]?.pluggyId ?? "");
    const keptTx = await transactionIdOf(userId, rows[2]?.pluggyId ?? "");
    await inLedger(userId, (db) => db.insert(categorySyncJobs).values([job(doomedTx), job(keptTx)]).run());

    const none = await ledger.applyAccounts(item.id, [], { dropUnlisted: true });
    expect(none).toMatchObject({ removed: { accounts: 0, transactions: 0 }, unlistedKept: 2 });
    expect(Object.keys(none.accounts).sort()).toEqual([account.pluggyId, kept.pluggyId].sort());

    const dropped = await ledger.applyAccounts(item.id, [kept], { dropUnlisted: true });
    expect(dropped).toMatchObject({ removed: { accounts: 1, transactions: 2 }, unlistedKept: 0 });
    expect(Object.keys(dropped.accounts)).toEqual([kept.pluggyId]);
    expect(await ledger.getAccount(accountId)).toBeNull();
    expect((await txRows(userId)).map((r) => r.pluggyId)).toEqual([rows[2]?.pluggyId]);
    expect(await inLedger(userId, (db) => db.select({ t: categorySyncJobs.transactionId }).from(categorySyncJobs).all())).toEqual([{ t: keptTx }]);

    // Without the option nothing is dropped.
    const plain = await ledger.applyAccounts(item.id, [accountInput()]);
    expect(Object.keys(plain.accounts)).toHaveLength(2);
  });

  it("lists accounts by (item id, id) with the API's cursor, optionally of one item", async () => {
    const userId = uid();
    const ledger = ledgerOf(userId);
    const [a, b] = [itemInput(), itemInput()];
    await ledger.applyItem(userId, a);
    await ledger.applyItem(userId, b);
    await ledger.applyAccounts(a.id, [accountInput(), accountInput(), accountInput()]);
    await ledger.applyAccounts(b.id, [accountInput(), accountInput()]);
    const all = await inLedger(userId, (db) => db.select().from(accounts).all());
    const expected = all.sort((x, y) => (x.itemId + x.id < y.itemId + y.id ? -1 : 1)).map((r) => r.id);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: banking.Page<schema.AccountRow> = await ledger.listAccounts({ limit: 2, after: cursor ? decodeAccountCursor(cursor) : undefined });
      seen.push(...page.rows.map((r) => r.id));
      const last = page.rows.at(-1);
      if (page.nextCursor && last) expect(page.nextCursor).toBe(encodeCursor({ t: last.itemId, i: last.id }));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(expected);

    const ofB = await ledger.listAccounts({ itemId: b.id, limit: 10 });
    expect(ofB.rows.map((r) => r.itemId)).toEqual([b.id, b.id]);
    expect(ofB.nextCursor).toBeNull();
  });
});

describe("ledger transaction sync writes", () => {
  it("maps the rows: our account, the folded description, the account's currency then BRL, our category", async () => {
    const { userId, ledger, item, account, accountId, local } = await setup({ currencyCode: "USD" });
    const categoryId = uid();
    const a = txInput(account.pluggyId, { description: "PIX RECEBIDO JOSÉ", currencyCode: null, categoryId });
    const counts = await ledger.applyTransactionsPage(item.id, local, [a], "2026-11-03T00:00:00.000Z");
    expect(counts).toEqual({ added: 1, updated: 0, unchanged: 0, skipped: 0, maxCreatedAt: "2026-11-02T10:00:00.000Z" });
    expect((await txRows(userId))[0]).toMatchObject({
      pluggyId: a.pluggyId,
      accountId,
      itemId: item.id,
      descriptionFolded: "pix recebido jose",
      currencyCode: "USD",
      categoryId,
      categorySetByUser: false,
      categoryVersion: 0,
      createdAt: "2026-11-03T00:00:00.000Z",
      updatedAt: "2026-11-03T00:00:00.000Z",
    });

    const noCurrency = await setup({ currencyCode: null });
    const b = txInput(noCurrency.account.pluggyId, { currencyCode: null });
    await noCurrency.ledger.applyTransactionsPage(noCurrency.item.id, noCurrency.local, [b]);
    expect((await txRows(noCurrency.userId))[0]).toMatchObject({ currencyCode: "BRL" });
  });

  it("is idempotent: a second identical page writes nothing and counts unchanged; a real change counts updated", async () => {
    const { userId, ledger, item, account, local } = await setup();
    const page = Array.from({ length: 30 }, (_, i) => txInput(account.pluggyId, { amountMinor: -(i + 1), pluggyCreatedAt: `2026-11-02T10:00:${String(i).padStart(2, "0")}.000Z` }));
    expect(await ledger.applyTransactionsPage(item.id, local, page, "2026-11-03T00:00:00.000Z")).toEqual({
      added: 30,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      maxCreatedAt: "2026-11-02T10:00:29.000Z",
    });
    const before = await txRows(userId);

    expect(await ledger.applyTransactionsPage(item.id, local, page, "2026-11-04T00:00:00.000Z")).toMatchObject({ added: 0, updated: 0, unchanged: 30 });
    expect(await txRows(userId)).toEqual(before);

    const changed = page.map((t, i) => (i < 3 ? { ...t, status: "PENDING" as const } : t));
    expect(await ledger.applyTransactionsPage(item.id, local, changed, "2026-11-05T00:00:00.000Z")).toMatchObject({ added: 0, updated: 3, unchanged: 27 });
    const after = await txRows(userId);
    expect(after.filter((r) => r.updatedAt === "2026-11-05T00:00:00.000Z")).toHaveLength(3);
    expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
  });

  it("skips (and counts) rows of accounts it is not told about; the last of a repeated Pluggy id wins", async () => {
    const { userId, ledger, item, account, local } = await setup();
    const t = txInput(account.pluggyId);
    const counts = await ledger.applyTransactionsPage(item.id, local, [txInput(uid()), t, { ...t, amountMinor: -999 }]);
    expect(counts).toMatchObject({ added: 1, skipped: 1, unchanged: 0 });
    expect(await txRows(userId)).toMatchObject([{ pluggyId: t.pluggyId, amountMinor: -999 }]);
  });

  it("never overwrites a category the user chose, while a mapped category still follows the mapping", async () => {
    const { userId, ledger, item, account, local } = await setup();
    const [chosen, mapped] = [txInput(account.pluggyId, { categoryId: uid() }), txInput(account.pluggyId, { categoryId: uid() })];
    await ledger.applyTransactionsPage(item.id, local, [chosen, mapped]);
    const userCategory = uid();
    await inLedger(userId, (db) =>
      db.update(transactions).set({ categoryId: userCategory, categorySetByUser: true, categoryVersion: 1 }).where(eq(transactions.pluggyId, chosen.pluggyId)).run(),
    );

    const remapped = uid();
    const counts = await ledger.applyTransactionsPage(item.id, local, [
      { ...chosen, categoryId: remapped },
      { ...mapped, categoryId: remapped },
    ]);
    expect(counts).toMatchObject({ updated: 1, unchanged: 1 });
    const rows = new Map((await txRows(userId)).map((r) => [r.pluggyId, r]));
    expect(rows.get(chosen.pluggyId)).toMatchObject({ categoryId: userCategory, categorySetByUser: true, categoryVersion: 1 });
    expect(rows.get(mapped.pluggyId)).toMatchObject({ categoryId: remapped });

    // A real change to a user-categorized row still updates it, and still keeps the user's category.
    expect(await ledger.applyTransactionsPage(item.id, local, [{ ...chosen, description: "Padaria Nova", categoryId: remapped }])).toMatchObject({ updated: 1 });
    expect((await txRows(userId)).find((r) => r.pluggyId === chosen.pluggyId)).toMatchObject({ description: "Padaria Nova", categoryId: userCategory });
  });

  it("writes a page larger than one statement (500 rows) in full", async () => {
    const { userId, ledger, item, account, local } = await setup();
    const page = Array.from({ length: 620 }, () => txInput(account.pluggyId));
    expect(await ledger.applyTransactionsPage(item.id, local, page)).toMatchObject({ added: 620 });
    expect(await ledger.footprint()).toMatchObject({ transactions: 620 });
    expect(await ledger.applyTransactionsPage(item.id, local, page)).toMatchObject({ unchanged: 620 });
    expect(await inLedger(userId, (db) => db.get<{ n: number }>(sql`select count(distinct id) as n from transactions`).n)).toBe(620);
  });

  it("transactionInputFromPluggy normalizes Pluggy's wire values the way the D1 sync did", () => {
    const input = transactionInputFromPluggy(
      {
        id: "tx-1",
        accountId: "acc-1",
        date: "2026-11-02T03:00:00.000Z",
        description: null,
        descriptionRaw: "PIX RECEBIDO",
        type: "CREDIT",
        amount: 0.29,
        currencyCode: null,
        category: "Food",
        categoryId: "11010000",
        status: null,
        createdAt: "2026-11-03T01:02:03Z",
      },
      "local-cat",
    );
    expect(input).toEqual({
      pluggyId: "tx-1",
      accountPluggyId: "acc-1",
      date: "2026-11-02",
      description: "PIX RECEBIDO",
      amountMinor: 29,
      currencyCode: null,
      type: "CREDIT",
      status: "POSTED",
      categoryId: "local-cat",
      pluggyCategoryId: "11010000",
      pluggyCategoryName: "Food",
      pluggyCreatedAt: "2026-11-03T01:02:03.000Z",
    });
  });
});

describe("ledger transaction reads", () => {
  it("pages over ties on date by id descending with the API's cursor, no row twice, none missed", async () => {
    const { ledger, item, account, local } = await setup();
    const rows = [
      ...Array.from({ length: 5 }, () => txInput(account.pluggyId, { date: "2026-11-02" })),
      txInput(account.pluggyId, { date: "2026-11-03" }),
      txInput(account.pluggyId, { date: "2026-11-01" }),
    ];
    await ledger.applyTransactionsPage(item.id, local, rows);
    const all = await ledger.listTransactions({ limit: 100 });
    const expected = [...all.rows].sort((a, b) => (a.date === b.date ? (a.id < b.id ? 1 : -1) : a.date < b.date ? 1 : -1)).map((r) => r.id);
    expect(all.rows.map((r) => r.id)).toEqual(expected);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: banking.TransactionPage = await ledger.listTransactions({ limit: 2, after: cursor ? decodeTransactionCursor(cursor) : undefined });
      seen.push(...page.rows.map((r) => r.id));
      const last = page.rows.at(-1);
      if (page.nextCursor && last) expect(page.nextCursor).toBe(encodeCursor({ d: last.date, i: last.id }));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(expected);
  });

  it("filters by account, item, category (and none), date range and an accent-insensitive search", async () => {
    const userId = uid();
    const ledger = ledgerOf(userId);
    const [itemA, itemB] = [itemInput(), itemInput()];
    await ledger.applyItem(userId, itemA);
    await ledger.applyItem(userId, itemB);
    const [acc1, acc2, acc3] = [accountInput(), accountInput(), accountInput()];
    const localA = (await ledger.applyAccounts(itemA.id, [acc1, acc2])).accounts;
    const localB = (await ledger.applyAccounts(itemB.id, [acc3])).accounts;
    const category = uid();
    const cafe = txInput(acc1.pluggyId, { description: "Café Açaí", date: "2026-10-01", categoryId: category });
    const padaria = txInput(acc2.pluggyId, { description: "Padaria", date: "2026-10-15" });
    const cafeteria = txInput(acc3.pluggyId, { description: "CAFETERIA", date: "2026-11-01", categoryId: category });
    await ledger.applyTransactionsPage(itemA.id, localA, [cafe, padaria]);
    await ledger.applyTransactionsPage(itemB.id, localB, [cafeteria]);

    const ids = async (query: Omit<banking.TransactionListQuery, "limit">) => (await ledger.listTransactions({ limit: 50, ...query })).rows.map((r) => r.pluggyId);
    expect(await ids({ accountId: localA[acc2.pluggyId]?.id })).toEqual([padaria.pluggyId]);
    expect(await ids({ itemId: itemA.id })).toEqual([padaria.pluggyId, cafe.pluggyId]);
    expect(await ids({ categoryId: category })).toEqual([cafeteria.pluggyId, cafe.pluggyId]);
    expect(await ids({ categoryId: "none" })).toEqual([padaria.pluggyId]);
    expect(await ids({ dateFrom: "2026-10-15", dateTo: "2026-10-31" })).toEqual([padaria.pluggyId]);
    expect(await ids({ dateFrom: "2026-10-15" })).toEqual([cafeteria.pluggyId, padaria.pluggyId]);
    expect(await ids({ dateTo: "2026-10-15" })).toEqual([padaria.pluggyId, cafe.pluggyId]);
    expect(await ids({ search: "cafe" })).toEqual([cafeteria.pluggyId, cafe.pluggyId]);
    expect(await ids({ search: "AÇAI" })).toEqual([cafe.pluggyId]);
    expect(await ids({ search: "café", itemId: itemB.id })).toEqual([cafeteria.pluggyId]);
    expect(await ids({ search: "mercado" })).toEqual([]);
  });

  it("returns the page's category-sync jobs beside the rows, and a single transaction with its job", async () => {
    const { userId, ledger, item, account, local } = await setup();
    const [a, b] = [txInput(account.pluggyId), txInput(account.pluggyId)];
    await ledger.applyTransactionsPage(item.id, local, [a, b]);
    const aId = await transactionIdOf(userId, a.pluggyId);
    const bId = await transactionIdOf(userId, b.pluggyId);
    const aJob = job(aId, { status: "failed", lastError: "boom", attempts: 2 });
    await inLedger(userId, (db) => db.insert(categorySyncJobs).values(aJob).run());

    const page = await ledger.listTransactions({ limit: 10 });
    expect(page.jobs).toEqual([{ ...aJob, pluggyCategoryId: null, syncedAt: null, pendingSince: null, attentionStatus: null }]);
    expect(await ledger.getTransaction(aId)).toMatchObject({ row: { id: aId, pluggyId: a.pluggyId }, job: { id: aJob.id, status: "failed" } });
    expect(await ledger.getTransaction(bId)).toMatchObject({ row: { id: bId }, job: null });
    expect(await ledger.getTransaction(uid())).toBeNull();
  });
});

describe("ledger deletions", () => {
  it("heldTransactionAccounts answers only for the item's own rows, with their account's Pluggy id", async () => {
    const { userId, ledger, item, account, local } = await setup();
    const other = itemInput();
    await ledger.applyItem(userId, other);
    const otherAccount = accountInput();
    const otherLocal = (await ledger.applyAccounts(other.id, [otherAccount])).accounts;
    const [mine, theirs] = [txInput(account.pluggyId), txInput(otherAccount.pluggyId)];
    await ledger.applyTransactionsPage(item.id, local, [mine]);
    await ledger.applyTransactionsPage(other.id, otherLocal, [theirs]);
    expect(await ledger.heldTransactionAccounts(item.id, [mine.pluggyId, theirs.pluggyId, uid()])).toEqual({ [mine.pluggyId]: account.pluggyId });
    expect(await ledger.heldTransactionAccounts(item.id, [])).toEqual({});
  });

  it("deleteTransactionsByPluggyIds removes the rows with their jobs, only within the item when scoped, and counts them", async () => {
    const { userId, ledger, item, account, local } = await setup();
    const other = itemInput();
    await ledger.applyItem(userId, other);
    const otherAccount = accountInput();
    const otherLocal = (await ledger.applyAccounts(other.id, [otherAccount])).accounts;
    const [a, b, keep] = [txInput(account.pluggyId), txInput(account.pluggyId), txInput(account.pluggyId)];
    const foreign = txInput(otherAccount.pluggyId);
    await ledger.applyTransactionsPage(item.id, local, [a, b, keep]);
    await ledger.applyTransactionsPage(other.id, otherLocal, [foreign]);
    const ids = await Promise.all([a, keep, foreign].map((t) => transactionIdOf(userId, t.pluggyId)));
    await inLedger(userId, (db) => db.insert(categorySyncJobs).values(ids.map((id) => job(id))).run());

    expect(await ledger.deleteTransactionsByPluggyIds([a.pluggyId, b.pluggyId, foreign.pluggyId, uid()], { itemId: item.id })).toBe(2);
    expect((await txRows(userId)).map((r) => r.pluggyId).sort()).toEqual([keep.pluggyId, foreign.pluggyId].sort());
    expect((await inLedger(userId, (db) => db.select({ t: categorySyncJobs.transactionId }).from(categorySyncJobs).all())).map((r) => r.t).sort()).toEqual([ids[1], ids[2]].sort());
    expect(await ledger.deleteTransactionsByPluggyIds([a.pluggyId], { itemId: item.id })).toBe(0);
    expect(await ledger.deleteTransactionsByPluggyIds([])).toBe(0);

    // Unscoped, any item's row goes.
    expect(await ledger.deleteTransactionsByPluggyIds([foreign.pluggyId])).toBe(1);
    expect(await ledger.footprint()).toMatchObject({ transactions: 1, categorySyncJobs: 1 });
  });

  it("deleteItemData removes the item, its accounts, transactions and jobs, and nothing of another item", async () => {
    const { userId, ledger, item, account, local } = await setup();
    const other = itemInput();
    await ledger.applyItem(userId, other);
    const otherAccount = accountInput();
    const otherLocal = (await ledger.applyAccounts(other.id, [otherAccount])).accounts;
    const mine = [txInput(account.pluggyId), txInput(account.pluggyId)];
    const theirs = txInput(otherAccount.pluggyId);
    await ledger.applyTransactionsPage(item.id, local, mine);
    await ledger.applyTransactionsPage(other.id, otherLocal, [theirs]);
    const jobIds = await Promise.all([mine[0], theirs].map((t) => transactionIdOf(userId, t?.pluggyId ?? "")));
    await inLedger(userId, (db) => db.insert(categorySyncJobs).values(jobIds.map((id) => job(id))).run());

    expect(await ledger.deleteItemData(item.id)).toEqual({ item: true, accounts: 1, transactions: 2 });
    expect(await ledger.footprint()).toEqual({ items: 1, accounts: 1, transactions: 1, categorySyncJobs: 1 });
    expect(await ledger.getItem(other.id)).not.toBeNull();
    expect(await ledger.deleteItemData(item.id)).toEqual({ item: false, accounts: 0, transactions: 0 });
  });

  it("removeVanished removes the account's window rows Pluggy did not return, only those stored before the run", async () => {
    const { userId, ledger, item, account, accountId, local } = await setup();
    const other = accountInput();
    const both = (await ledger.applyAccounts(item.id, [account, other])).accounts;
    const seen = txInput(account.pluggyId, { date: "2026-11-10" });
    const vanished = txInput(account.pluggyId, { date: "2026-11-10" });
    const beforeWindow = txInput(account.pluggyId, { date: "2026-10-01" });
    const otherAccount = txInput(other.pluggyId, { date: "2026-11-10" });
    await ledger.applyTransactionsPage(item.id, both, [seen, vanished, beforeWindow, otherAccount], "2026-11-11T00:00:00.000Z");
    const fresh = txInput(account.pluggyId, { date: "2026-11-10" });
    await ledger.applyTransactionsPage(item.id, local, [fresh], "2026-11-12T00:00:00.000Z");
    const vanishedId = await transactionIdOf(userId, vanished.pluggyId);
    await inLedger(userId, (db) => db.insert(categorySyncJobs).values(job(vanishedId)).run());

    const scope = { itemId: item.id, accountId, windowStart: "2026-11-01", storedBefore: "2026-11-12T00:00:00.000Z", seen: [seen.pluggyId] };
    expect(await ledger.removeVanished(scope)).toBe(1);
    expect((await txRows(userId)).map((r) => r.pluggyId).sort()).toEqual([seen, beforeWindow, otherAccount, fresh].map((t) => t.pluggyId).sort());
    expect(await ledger.footprint()).toMatchObject({ categorySyncJobs: 0 });
    expect(await ledger.removeVanished(scope)).toBe(0);
  });

  it("clearCategory uncategorizes that category's transactions only, and stamps them", async () => {
    const { userId, ledger, item, account, local } = await setup();
    const [gone, kept] = [uid(), uid()];
    const rows = [txInput(account.pluggyId, { categoryId: gone }), txInput(account.pluggyId, { categoryId: gone }), txInput(account.pluggyId, { categoryId: kept })];
    await ledger.applyTransactionsPage(item.id, local, rows, "2026-11-01T00:00:00.000Z");
    expect(await ledger.clearCategory(gone, "2026-11-05T00:00:00.000Z")).toBe(2);
    const after = await txRows(userId);
    expect(after.filter((r) => r.categoryId === null).map((r) => r.updatedAt)).toEqual(["2026-11-05T00:00:00.000Z", "2026-11-05T00:00:00.000Z"]);
    expect(after.filter((r) => r.categoryId === kept).map((r) => r.updatedAt)).toEqual(["2026-11-01T00:00:00.000Z"]);
    expect(await ledger.clearCategory(gone)).toBe(0);
  });
});

describe("the whole ledger", () => {
  it("footprint counts the rows; eraseAll returns them and leaves an empty ledger that works again", async () => {
    const { userId, ledger, item, account, local } = await setup();
    await ledger.applyTransactionsPage(item.id, local, [txInput(account.pluggyId), txInput(account.pluggyId)]);
    const txId = (await txRows(userId))[0]?.id ?? "";
    await inLedger(userId, (db) => db.insert(categorySyncJobs).values(job(txId)).run());
    const held = { items: 1, accounts: 1, transactions: 2, categorySyncJobs: 1 };
    expect(await ledger.footprint()).toEqual(held);

    expect(await ledger.eraseAll()).toEqual(held);
    expect(await ledger.footprint()).toEqual({ items: 0, accounts: 0, transactions: 0, categorySyncJobs: 0 });
    expect(await ledger.owner()).toBeNull();
    expect(await ledger.getItem(item.id)).toBeNull();
    expect((await ledger.listTransactions({ limit: 10 })).rows).toEqual([]);

    // Usable again, as a new ledger.
    expect(await ledger.applyItem(userId, item)).toEqual({ created: true, updated: false });
    expect(await ledger.owner()).toBe(userId);
  });

  it("eraseIfEmpty erases a ledger with no banking rows (owner record included) and leaves one that holds any", async () => {
    const { userId, ledger, item } = await setup();
    expect(await ledger.eraseIfEmpty()).toBe(false);
    expect(await ledger.getItem(item.id)).not.toBeNull();
    expect(await ledger.owner()).toBe(userId);

    await ledger.deleteItemData(item.id);
    expect(await ledger.owner()).toBe(userId);
    expect(await ledger.eraseIfEmpty()).toBe(true);
    expect(await ledger.owner()).toBeNull();
    expect(await inLedger(userId, (db) => db.select().from(ledgerMeta).all())).toEqual([]);
    expect(await ledger.applyItem(userId, item)).toEqual({ created: true, updated: false });
  });

  it("two users' ledgers never see each other's rows", async () => {
    const alice = await setup();
    const bob = await setup();
    await alice.ledger.applyTransactionsPage(alice.item.id, alice.local, [txInput(alice.account.pluggyId)]);
    await bob.ledger.applyTransactionsPage(bob.item.id, bob.local, [txInput(bob.account.pluggyId)]);
    const aliceTx = (await txRows(alice.userId))[0]?.id ?? "";

    expect((await bob.ledger.listItems({ limit: 10 })).rows.map((r) => r.id)).toEqual([bob.item.id]);
    expect(await bob.ledger.getItem(alice.item.id)).toBeNull();
    expect(await bob.ledger.getAccount(alice.accountId)).toBeNull();
    expect(await bob.ledger.getTransaction(aliceTx)).toBeNull();
    expect((await bob.ledger.listTransactions({ limit: 10, itemId: alice.item.id })).rows).toEqual([]);
    expect(await bob.ledger.deleteItemData(alice.item.id)).toEqual({ item: false, accounts: 0, transactions: 0 });
    expect(await alice.ledger.footprint()).toEqual({ items: 1, accounts: 1, transactions: 1, categorySyncJobs: 0 });
  });
});

describe("ledger query plans", () => {
  /**
   * Runs every repository read and write once on a ledger with data, through a drizzle instance that
   * records each statement, then asks SQLite for each one's plan: no banking table may be read by a
   * full scan, only through an index (or its primary key). Whole-table answers (footprint, the item
   * list of erasure, the items' own list) are the only index scans over a whole table.
   */
  it("serves every statement from an index", async () => {
    const { userId, ledger, item, account, accountId, local } = await setup();
    await ledger.applyTransactionsPage(item.id, local, [txInput(account.pluggyId), txInput(account.pluggyId, { categoryId: uid() })]);
    const logged: { sql: string; params: unknown[] }[] = [];
    const plans = await runInDurableObject(ledgerOf(userId), (_instance: UserLedger, state) => {
      const db = drizzle(state.storage, { schema, logger: { logQuery: (query, params) => logged.push({ sql: query, params }) } });
      const after = { d: "2026-12-01", i: "z" };
      banking.listItems(db, { limit: 10 });
      banking.listItems(db, { limit: 10, after: { c: "2026-12-01", i: "z" } });
      banking.getItem(db, item.id);
      banking.listAccounts(db, { limit: 10 });
      banking.listAccounts(db, { limit: 10, itemId: item.id, after: { t: item.id, i: "0" } });
      banking.getAccount(db, accountId);
      banking.localAccountsOf(db, item.id);
      banking.listTransactions(db, { limit: 10, after });
      banking.listTransactions(db, { limit: 10, accountId, after });
      banking.listTransactions(db, { limit: 10, itemId: item.id, after });
      banking.listTransactions(db, { limit: 10, categoryId: "none", after });
      banking.listTransactions(db, { limit: 10, categoryId: uid(), dateFrom: "2026-01-01", dateTo: "2026-12-31" });
      banking.listTransactions(db, { limit: 10, search: "padaria" });
      banking.getTransaction(db, uid());
      banking.heldTransactionAccounts(db, item.id, [uid()]);
      banking.applyItem(db, itemInput({ id: item.id, status: "UPDATING" }), "2026-11-09T00:00:00.000Z");
      banking.applyAccounts(db, item.id, [account, accountInput()], "2026-11-09T00:00:00.000Z", { dropUnlisted: true });
      banking.applyTransactionsPage(db, item.id, local, [txInput(account.pluggyId)], "2026-11-09T00:00:00.000Z");
      banking.advanceWatermark(db, item.id, "2026-11-09T00:00:00.000Z");
      banking.markReconciled(db, item.id, "2026-11-09T00:00:00.000Z", "2026-11-09T00:00:00.000Z");
      banking.removeVanished(db, { itemId: item.id, accountId, windowStart: "2026-10-01", storedBefore: "2026-11-09T00:00:00.000Z", seen: [] });
      banking.deleteTransactionsByPluggyIds(db, [uid()], { itemId: item.id });
      banking.clearCategory(db, uid(), "2026-11-09T00:00:00.000Z");
      banking.listItemIds(db);
      banking.footprint(db);
      banking.deleteItemData(db, item.id);
      return logged
        .filter((q) => !/^select changes\(\)/i.test(q.sql))
        .map((q) => ({ sql: q.sql, plan: state.storage.sql.exec(`EXPLAIN QUERY PLAN ${q.sql}`, ...(q.params as SqlStorageValue[])).toArray().map((r) => String(r.detail)) }));
    });
    expect(plans.length).toBeGreaterThan(25);
    const fullScans = plans.filter((p) => p.plan.some((line) => /^SCAN (items|accounts|transactions|category_sync_jobs)$/.test(line)));
    expect(fullScans).toEqual([]);
    // The list reads walk their index in order. The item list sorts only ties on created_at by id
    // (`items_created_idx` has no id; a user has a handful of items).
    const sorted = plans.filter((p) => p.plan.some((line) => /TEMP B-TREE/.test(line)) && !/^select .* from "items"/.test(p.sql));
    expect(sorted).toEqual([]);
    // Lists of Pluggy ids are looked up by Pluggy id, never by walking the item's rows.
    const byPluggyIds = plans.filter((p) => /"pluggy_id" IN \(SELECT value FROM json_each/.test(p.sql));
    expect(byPluggyIds.length).toBeGreaterThanOrEqual(3);
    for (const p of byPluggyIds) expect(p.plan.join("\n")).toMatch(/SEARCH transactions USING INDEX transactions_pluggy_id_uq \(pluggy_id=\?\)/);
    // The reconciliation window is read from the account's own index.
    const window = plans.filter((p) => /^select "pluggy_id" from "transactions"/.test(p.sql));
    expect(window.map((p) => p.plan)).toEqual([[expect.stringMatching(/^SEARCH transactions USING INDEX transactions_account_date_idx \(account_id=\? AND date>\?\)/)]]);
  });
});
