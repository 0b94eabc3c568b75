import { describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { categorySyncJobs } from "../../src/ledger/ledger.schema.ts";
import { nextReconcileAfter } from "../../src/reconcile/reconcile.config.ts";
import { PluggyError } from "../../src/pluggy/pluggy.errors.ts";
import { reconcileItem } from "../../src/reconcile/reconcile.service.ts";
import { uniqueUser } from "../helpers/auth.ts";
import { makeAccount, makeItem, makeTransaction } from "../helpers/factories.ts";
import { inLedger } from "../helpers/ledger.ts";
import { sim } from "../helpers/simulator.ts";
import {
  deliver,
  directoryEntry,
  deps,
  daysAgo,
  expectInLineWithPluggy,
  localAccounts,
  localItem,
  localTransaction,
  localTransactions,
  mirroredItem,
  reconciliationMetrics,
} from "./support.ts";

/*
 * reconcileItem against the simulator: each kind of drift a missed webhook leaves behind is made at the
 * simulator with no webhook, then healed, counted, and shown in the admin metrics. Tests in this file run
 * one after another on this file's own D1, so metric deltas are exact.
 */

/** A regex matching only this account's incremental read (`createdAtFrom`), not its window read. */
const incrementalRead = (accountId: string) => `^/v2/transactions\\?(?=.*accountId=${accountId})(?=.*createdAtFrom=)`;

describe("reconcileItem heals drift", () => {
  it("missed creates: rows Pluggy added with no webhook, booked recently or long ago", async () => {
    const userId = uniqueUser("reconcile");
    const { item, account } = await mirroredItem(userId);
    const before = await reconciliationMetrics();
    // Booked today, last week, and 200 days ago but only ingested now (reached by the watermark read, not the window).
    const added = await sim.addTransactions(item.id, { accountId: account.id, count: 2, transactions: [{ date: daysAgo(6) }, { date: daysAgo(200) }] });

    const d = deps();
    const result = await reconcileItem(d, item.id);
    expect(result).toMatchObject({ outcome: "reconciled", added: 4, updated: 0, removed: 0, comparedDeletions: true });
    await expectInLineWithPluggy(item.id, userId);
    for (const t of added) expect(await localTransaction(userId, t.id)).toBeDefined();

    // Two reads per account: the window by booking date, then the watermark by ingestion time.
    const reads = await sim.requests({ path: "^/v2/transactions$", clientId: d.clientId });
    expect(reads.map((r) => Object.keys(r.query).filter((k) => k !== "after").sort())).toEqual([
      ["accountId", "dateFrom"],
      ["accountId", "createdAtFrom"],
    ]);
    expect(reads[0]?.query.dateFrom).toBe(daysAgo(31));

    const row = await localItem(userId, item.id);
    const newest = (await sim.getItemState(item.id)).transactions.map((t) => new Date(t.createdAt).toISOString()).sort().at(-1);
    expect(row?.transactionsWatermark).toBe(newest);
    expect(row?.lastReconciledAt).not.toBeNull();
    // The item is next due the minimum interval after this run.
    expect(await directoryEntry(item.id)).toMatchObject({ userId, nextReconcileAt: nextReconcileAfter(row?.lastReconciledAt ?? "") });

    const after = await reconciliationMetrics();
    expect(after).toEqual({ ...before, items: before.items + 1, added: before.added + 4 });
  });

  it("missed updates: amount, description and status changed at Pluggy (only changed rows count)", async () => {
    const userId = uniqueUser("reconcile");
    const { item, recent, older } = await mirroredItem(userId);
    await sim.updateTransaction(recent.id, { amount: -321.09, description: "MERCADO CORRIGIDO" });
    await sim.updateTransaction(older.id, { status: "PENDING" });

    const result = await reconcileItem(deps(), item.id);
    expect(result).toMatchObject({ outcome: "reconciled", added: 0, updated: 2, removed: 0 });
    expect(await localTransaction(userId, recent.id)).toMatchObject({ amountMinor: -32109, description: "MERCADO CORRIGIDO", descriptionFolded: "mercado corrigido" });
    expect(await localTransaction(userId, older.id)).toMatchObject({ status: "PENDING" });
    await expectInLineWithPluggy(item.id, userId);
  });

  it("missed deletes: a row Pluggy dropped inside the 30-day window goes (with its sync job); one outside it stays", async () => {
    const userId = uniqueUser("reconcile");
    const { item, recent, old } = await mirroredItem(userId);
    const row = await localTransaction(userId, recent.id);
    if (!row) throw new Error("fixture");
    const now = new Date().toISOString();
    await inLedger(userId, (ledger) =>
      ledger
        .insert(categorySyncJobs)
        .values({ id: crypto.randomUUID(), transactionId: row.id, pluggyTransactionId: recent.id, categoryId: crypto.randomUUID(), version: 1, status: "failed", dueAt: now, createdAt: now, updatedAt: now })
        .run(),
    );
    await sim.deleteTransaction(recent.id);
    await sim.deleteTransaction(old.id);

    const result = await reconcileItem(deps(), item.id);
    expect(result).toMatchObject({ outcome: "reconciled", added: 0, updated: 0, removed: 1 });
    expect(await localTransaction(userId, recent.id)).toBeUndefined();
    expect(await inLedger(userId, (ledger) => ledger.select().from(categorySyncJobs).where(eq(categorySyncJobs.transactionId, row.id)).all())).toEqual([]);
    // Outside the compared window a row is never removed: Pluggy's history is not complete that far back.
    expect(await localTransaction(userId, old.id)).toBeDefined();
  });

  it("missed item deletion: Pluggy answers 404, so the item, its accounts and transactions go and are counted", async () => {
    const userId = uniqueUser("reconcile");
    const { item } = await mirroredItem(userId, { accounts: 2, transactionsPerAccount: 5 });
    const rows = (await localTransactions(userId, item.id)).length;
    expect(rows).toBe(13);
    await sim.deleteItem(item.id);

    const result = await reconcileItem(deps(), item.id);
    expect(result).toMatchObject({ outcome: "removed", added: 0, updated: 0, removed: 1 + 2 + 13 });
    expect(await localItem(userId, item.id)).toBeUndefined();
    expect(await localAccounts(userId, item.id)).toEqual([]);
    expect(await localTransactions(userId, item.id)).toEqual([]);
    expect(await directoryEntry(item.id)).toBeUndefined(); // and out of the item directory: nothing left to reconcile
  });

  it("an account Pluggy no longer lists goes with its transactions; a changed item status counts as an update", async () => {
    const userId = uniqueUser("reconcile");
    const { item } = await mirroredItem(userId);
    const stray = await makeAccount(userId, item.id);
    await makeTransaction(userId, { id: stray.id, itemId: item.id }, { date: daysAgo(400) });
    await sim.updateItem(item.id, { status: "OUTDATED", executionStatus: "SITE_NOT_AVAILABLE" });

    const result = await reconcileItem(deps(), item.id);
    expect(result).toMatchObject({ outcome: "reconciled", added: 0, updated: 1, removed: 2 });
    expect((await localAccounts(userId, item.id)).map((a) => a.id)).not.toContain(stray.id);
    expect(await localItem(userId, item.id)).toMatchObject({ status: "OUTDATED", executionStatus: "SITE_NOT_AVAILABLE" });
    await expectInLineWithPluggy(item.id, userId);
  });

  it("removes nothing while Pluggy is mid-update, and catches up on the next run", async () => {
    const userId = uniqueUser("reconcile");
    const { item, recent } = await mirroredItem(userId);
    await sim.deleteTransaction(recent.id);
    await sim.updateItem(item.id, { status: "MERGING" });
    expect(await reconcileItem(deps(), item.id)).toMatchObject({ removed: 0, comparedDeletions: false });
    expect(await localTransaction(userId, recent.id)).toBeDefined();

    await sim.updateItem(item.id, { status: "UPDATED" });
    expect(await reconcileItem(deps(), item.id)).toMatchObject({ removed: 1, comparedDeletions: true });
  });

  it("is idempotent: a second run over healed drift of every kind counts 0/0/0", async () => {
    const userId = uniqueUser("reconcile");
    const { item, account, recent, older } = await mirroredItem(userId, { accounts: 2 });
    await sim.addTransactions(item.id, { accountId: account.id, count: 3 });
    await sim.updateTransaction(recent.id, { amount: -1.23 });
    await sim.deleteTransaction(older.id);

    expect(await reconcileItem(deps(), item.id)).toMatchObject({ added: 3, updated: 1, removed: 1 });
    const snapshot = await localTransactions(userId, item.id);
    const before = await reconciliationMetrics();

    expect(await reconcileItem(deps(), item.id)).toMatchObject({ outcome: "reconciled", added: 0, updated: 0, removed: 0 });
    expect(await localTransactions(userId, item.id)).toEqual(expect.arrayContaining(snapshot)); // same rows, same updated_at
    expect((await localTransactions(userId, item.id)).length).toBe(snapshot.length);
    expect(await reconciliationMetrics()).toEqual({ ...before, items: before.items + 1 });
    await expectInLineWithPluggy(item.id, userId);
  });
});

describe("ownership", () => {
  it("an item whose directory owner is not Pluggy's clientUserId is skipped: neither ledger is written, and its next run is scheduled", async () => {
    const claimed = uniqueUser("reconcile");
    const owner = uniqueUser("owner");
    const { item } = await sim.createItem({ clientUserId: claimed, accounts: 1, transactionsPerAccount: 3 });
    const local = await makeItem(owner, { id: item.id, status: "OUTDATED" });
    const before = await localItem(owner, item.id);

    const started = new Date();
    expect(await reconcileItem(deps(), item.id, { now: started })).toMatchObject({ outcome: "skipped", added: 0, updated: 0, removed: 0 });
    expect(await localItem(owner, item.id)).toEqual(before);
    expect(before).toMatchObject({ status: "OUTDATED", updatedAt: local.updatedAt, lastReconciledAt: null });
    expect(await inLedger(owner, (_db, ledger) => ledger.footprint())).toEqual({ items: 1, accounts: 0, transactions: 0, categorySyncJobs: 0 });
    expect(await inLedger(claimed, (_db, ledger) => ledger.footprint())).toEqual({ items: 0, accounts: 0, transactions: 0, categorySyncJobs: 0 });
    // Skipped is a finished run: not due again before the minimum interval.
    expect(await directoryEntry(item.id)).toMatchObject({ userId: owner, nextReconcileAt: nextReconcileAfter(started) });
  });
});

describe("the watermark", () => {
  it("advances only when the whole run succeeds: a 503 mid-run leaves it (and last_reconciled_at) alone", async () => {
    const userId = uniqueUser("reconcile");
    const { item, account } = await mirroredItem(userId);
    const start = await localItem(userId, item.id);
    const scheduled = await directoryEntry(item.id);
    await sim.addTransactions(item.id, { accountId: account.id, count: 2 });
    const before = await reconciliationMetrics();

    // The window read succeeds (and heals the two new rows); the watermark read fails.
    const fault = await sim.fault({ path: incrementalRead(account.id), status: 503, times: 1 });
    const failed = reconcileItem(deps(), item.id);
    await expect(failed).rejects.toBeInstanceOf(PluggyError);
    await sim.clearFault(fault);
    expect(await localItem(userId, item.id)).toMatchObject({ transactionsWatermark: start?.transactionsWatermark, lastReconciledAt: null });
    expect(await directoryEntry(item.id)).toEqual(scheduled); // not rescheduled: the run did not finish
    // What was healed before the failure is counted once; the item is not counted as done.
    expect(await reconciliationMetrics()).toEqual({ ...before, added: before.added + 2 });

    const retried = await reconcileItem(deps(), item.id);
    expect(retried).toMatchObject({ outcome: "reconciled", added: 0 });
    const newest = (await sim.getItemState(item.id)).transactions.map((t) => new Date(t.createdAt).toISOString()).sort().at(-1);
    const row = await localItem(userId, item.id);
    expect(row?.transactionsWatermark).toBe(newest);
    expect(row?.transactionsWatermark && start?.transactionsWatermark && row.transactionsWatermark > start.transactionsWatermark).toBe(true);
    expect(row?.lastReconciledAt).not.toBeNull();
  });

  it("through the queue: a transient failure is retried, and the retry finishes and advances it", async () => {
    const userId = uniqueUser("reconcile");
    const { item, account } = await mirroredItem(userId);
    const start = await localItem(userId, item.id);
    await sim.addTransactions(item.id, { accountId: account.id, count: 1 });

    // The consumer's client tries a read three times before giving up.
    const fault = await sim.fault({ path: incrementalRead(account.id), status: 503, times: 3 });
    const first = await deliver({ kind: "item.reconcile", itemId: item.id, trigger: "admin" });
    await sim.clearFault(fault);
    expect(first.result.retryMessages.map((m) => m.msgId)).toEqual([first.id]);
    expect(first.result.explicitAcks).toEqual([]);
    expect(await localItem(userId, item.id)).toMatchObject({ transactionsWatermark: start?.transactionsWatermark, lastReconciledAt: null });

    const second = await deliver({ kind: "item.reconcile", itemId: item.id, trigger: "admin" }, { attempts: 2 });
    expect(second.result.explicitAcks).toEqual([second.id]);
    const row = await localItem(userId, item.id);
    expect(row?.lastReconciledAt).not.toBeNull();
    expect(row?.transactionsWatermark && start?.transactionsWatermark && row.transactionsWatermark > start.transactionsWatermark).toBe(true);
    await expectInLineWithPluggy(item.id, userId);
  });

  it("a permanent refusal (403) is acked, not retried, and changes nothing", async () => {
    const userId = uniqueUser("reconcile");
    const { item } = await mirroredItem(userId);
    const fault = await sim.fault({ path: `^/items/${item.id}$`, method: "GET", status: 403, times: 1 });
    const { id, result } = await deliver({ kind: "item.reconcile", itemId: item.id, trigger: "cron" });
    await sim.clearFault(fault);
    expect(result.explicitAcks).toEqual([id]);
    expect(await localItem(userId, item.id)).toMatchObject({ lastReconciledAt: null });
  });

  it("an item we no longer have is nothing to compare (counted as done, nothing asked of Pluggy)", async () => {
    const d = deps();
    const itemId = crypto.randomUUID();
    expect(await reconcileItem(d, itemId)).toMatchObject({ outcome: "unknown", added: 0, updated: 0, removed: 0 });
    expect(await sim.requests({ clientId: d.clientId })).toEqual([]);
    expect(await directoryEntry(itemId)).toBeUndefined();
  });
});
