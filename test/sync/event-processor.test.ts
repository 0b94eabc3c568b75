import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { forgetOwners } from "../../src/catalog/directory.repo.ts";
import { itemDirectory } from "../../src/catalog/directory.schema.ts";
import { accounts as accountsTable, transactions } from "../../src/ledger/ledger.schema.ts";
import { PluggyError } from "../../src/pluggy/pluggy.errors.ts";
import { processWebhookPayload, type WebhookPayloadLike } from "../../src/sync/event-processor.ts";
import { syncItem } from "../../src/sync/item-sync.service.ts";
import { uniqueUser } from "../helpers/auth.ts";
import { exactPath, sim } from "../helpers/simulator.ts";
import { inLedger } from "../helpers/ledger.ts";
import { db, directoryEntry, expectLocalMatchesSimulator, localAccounts, localItem, localTransaction, localTransactions, syncDeps } from "./support.ts";

const event = (name: string, fields: Record<string, unknown> = {}): WebhookPayloadLike => ({ event: name, eventId: crypto.randomUUID(), ...fields });
/** The outcome alone; `processWebhookPayload` itself also says why (see "reasons" below). */
const process = async (payload: WebhookPayloadLike, deps = syncDeps()) => (await processWebhookPayload(deps, payload)).outcome;

/** An item at the simulator, already fully synced locally. */
async function syncedItem(transactionsPerAccount = 10, accounts = 1) {
  const userId = uniqueUser("events");
  const created = await sim.createItem({ clientUserId: userId, accounts, transactionsPerAccount });
  await syncItem(syncDeps(), created.item.id);
  return { userId, ...created };
}

describe("processWebhookPayload", () => {
  it("item/created links the item to clientUserId and syncs accounts and transactions (full on first sight)", async () => {
    const userId = uniqueUser("events");
    const { item } = await sim.createItem({ clientUserId: userId, accounts: 2, transactionsPerAccount: 30 });
    // Pluggy's body has no clientUserId: the owner comes from GET /items/{id}.
    expect(await process(event("item/created", { itemId: item.id, triggeredBy: "USER" }))).toBe("processed");
    expect(await localItem(userId, item.id)).toMatchObject({ id: item.id, status: item.status });
    expect(await directoryEntry(item.id)).toMatchObject({ userId });
    await expectLocalMatchesSimulator(item.id, userId);
  });

  it("item/updated reads new transactions since the watermark", async () => {
    const { item, userId, accounts } = await syncedItem();
    await sim.addTransactions(item.id, { accountId: accounts[0]?.id, count: 4 });
    const deps = syncDeps();
    expect(await process(event("item/updated", { itemId: item.id }), deps)).toBe("processed");
    expect(await localTransactions(userId, item.id)).toHaveLength(14);
    const reads = await sim.requests({ path: "^/v2/transactions$", clientId: deps.clientId });
    expect(reads.every((r) => typeof r.query.createdAtFrom === "string")).toBe(true);
    await expectLocalMatchesSimulator(item.id, userId);
  });

  it("a duplicate delivery changes nothing", async () => {
    const userId = uniqueUser("events");
    const { item } = await sim.createItem({ clientUserId: userId, accounts: 1, transactionsPerAccount: 12 });
    const payload = event("item/created", { itemId: item.id });
    await process(payload);
    const before = await localTransactions(userId, item.id);
    expect(await process(payload)).toBe("processed");
    expect(await localTransactions(userId, item.id)).toEqual(expect.arrayContaining(before));
    expect(await localTransactions(userId, item.id)).toHaveLength(12);
  });

  describe.each(["item/error", "item/waiting_user_input", "item/waiting_user_action", "item/login_succeeded"])("%s", (name) => {
    it("re-reads the item and records status, execution status and error", async () => {
      const { item, userId } = await syncedItem(2);
      const error = name === "item/error" ? { code: "INVALID_CREDENTIALS", message: "Wrong password" } : null;
      const status = name === "item/error" ? "LOGIN_ERROR" : name === "item/login_succeeded" ? "UPDATING" : "WAITING_USER_INPUT";
      const executionStatus = name === "item/error" ? "INVALID_CREDENTIALS" : name === "item/login_succeeded" ? "LOGIN_IN_PROGRESS" : "WAITING_USER_INPUT";
      await sim.updateItem(item.id, { status, executionStatus, error });
      // The payload's copy is stale on purpose: the processor must not trust it.
      expect(await process(event(name, { itemId: item.id, error: { code: "STALE", message: "from the payload" } }))).toBe("processed");
      expect(await localItem(userId, item.id)).toMatchObject({ status, executionStatus, errorCode: error?.code ?? null, errorMessage: error?.message ?? null });
    });
  });

  it("a status event for an item we do not have yet creates its row for the clientUserId owner", async () => {
    const userId = uniqueUser("events");
    const { item } = await sim.createItem({ clientUserId: userId, accounts: 1, transactionsPerAccount: 3 });
    await sim.updateItem(item.id, { status: "LOGIN_ERROR", executionStatus: "INVALID_CREDENTIALS", error: { code: "INVALID_CREDENTIALS", message: "bad" } });
    expect(await process(event("item/error", { itemId: item.id }))).toBe("processed");
    expect(await localItem(userId, item.id)).toMatchObject({ id: item.id, status: "LOGIN_ERROR", transactionsWatermark: null });
    expect(await directoryEntry(item.id)).toMatchObject({ userId });
    // item/created later still runs the first (full) sync.
    await sim.updateItem(item.id, { status: "UPDATED", executionStatus: "SUCCESS", error: null });
    expect(await process(event("item/created", { itemId: item.id }))).toBe("processed");
    await expectLocalMatchesSimulator(item.id, userId);
    expect(await localItem(userId, item.id)).toMatchObject({ status: "UPDATED", errorCode: null });
  });

  it("connector/status_updated is processed with no local change", async () => {
    const { item, userId } = await syncedItem(1);
    const before = await localItem(userId, item.id);
    expect(await process(event("connector/status_updated", { connectorId: item.connector.id, data: { status: "UNSTABLE" } }))).toBe("processed");
    expect(await localItem(userId, item.id)).toEqual(before);
  });

  it("transactions/created fetches from transactionsCreatedAtFrom for that account", async () => {
    const { item, userId, accounts } = await syncedItem(5, 2);
    const target = accounts[1];
    if (!target) throw new Error("fixture");
    const added = await sim.addTransactions(item.id, { accountId: target.id, count: 6 });
    const from = added.map((t) => t.createdAt).sort()[0];
    const deps = syncDeps();
    expect(await process(event("transactions/created", { itemId: item.id, accountId: target.id, transactionsCreatedAtFrom: from }), deps)).toBe("processed");
    const reads = await sim.requests({ path: "^/v2/transactions$", clientId: deps.clientId });
    expect(reads.map((r) => [r.query.accountId, r.query.createdAtFrom])).toEqual([[target.id, from]]);
    await expectLocalMatchesSimulator(item.id, userId);
  });

  it.each(["not-a-date", "2026-13-45T99:00:00Z", "yesterday"])(
    "transactions/created with transactionsCreatedAtFrom %j falls back to the incremental sync from the watermark instead of failing",
    async (bad) => {
      const { item, userId, accounts } = await syncedItem(5, 2);
      const target = accounts[0];
      if (!target) throw new Error("fixture");
      await sim.addTransactions(item.id, { accountId: target.id, count: 3 });
      const watermark = (await localItem(userId, item.id))?.transactionsWatermark;
      if (!watermark) throw new Error("fixture: the first sync sets the watermark");
      const deps = syncDeps();
      expect(await process(event("transactions/created", { itemId: item.id, accountId: target.id, transactionsCreatedAtFrom: bad }), deps)).toBe("processed");
      const reads = await sim.requests({ path: "^/v2/transactions$", clientId: deps.clientId });
      expect(reads.length).toBeGreaterThan(0);
      // Never Pluggy's 400 for the bad value: every read is the incremental window, before the watermark.
      expect(reads.every((r) => typeof r.query.createdAtFrom === "string" && r.query.createdAtFrom < watermark)).toBe(true);
      await expectLocalMatchesSimulator(item.id, userId);
    },
  );

  it("transactions/created sends a valid transactionsCreatedAtFrom with an offset to Pluggy as the same instant in UTC", async () => {
    const { item, userId, accounts } = await syncedItem(2, 1);
    const target = accounts[0];
    if (!target) throw new Error("fixture");
    const deps = syncDeps();
    expect(await process(event("transactions/created", { itemId: item.id, accountId: target.id, transactionsCreatedAtFrom: "2026-11-02T07:00:00-03:00" }), deps)).toBe("processed");
    const reads = await sim.requests({ path: "^/v2/transactions$", clientId: deps.clientId });
    expect(reads.map((r) => [r.query.accountId, r.query.createdAtFrom])).toEqual([[target.id, "2026-11-02T10:00:00.000Z"]]);
    await expectLocalMatchesSimulator(item.id, userId);
  });

  it("transactions/created for an account we have not seen refreshes the item's accounts first", async () => {
    const { item, userId, accounts } = await syncedItem(3, 2);
    // Forget one account locally, as if it appeared at Pluggy after our last sync.
    const forgotten = accounts[1];
    if (!forgotten) throw new Error("fixture");
    await inLedger(userId, (ledger) => {
      ledger.delete(transactions).where(eq(transactions.itemId, item.id)).run();
      ledger.delete(accountsTable).where(eq(accountsTable.pluggyId, forgotten.id)).run();
    });
    expect((await localAccounts(userId, item.id)).map((a) => a.pluggyId)).not.toContain(forgotten.id);

    const from = new Date(Date.parse(item.createdAt) - 400 * 86_400_000).toISOString();
    expect(await process(event("transactions/created", { itemId: item.id, accountId: forgotten.id, transactionsCreatedAtFrom: from }))).toBe("processed");
    expect((await localAccounts(userId, item.id)).map((a) => a.pluggyId)).toContain(forgotten.id);
    const state = await sim.getItemState(item.id);
    const ofForgotten = state.transactions.filter((t) => t.accountId === forgotten.id).map((t) => t.id).sort();
    expect((await localTransactions(userId, item.id)).map((t) => t.pluggyId).sort()).toEqual(ofForgotten);
  });

  it("transactions/updated re-reads the listed ids and upserts them", async () => {
    const { item, userId, transactionIds } = await syncedItem(8);
    const [a, b] = transactionIds;
    if (!a || !b) throw new Error("fixture");
    await sim.updateTransaction(a, { amount: -77.7, status: "POSTED", description: "Atualizada A" });
    await sim.updateTransaction(b, { status: "PENDING" });
    const deps = syncDeps();
    expect(await process(event("transactions/updated", { itemId: item.id, accountId: (await sim.getItemState(item.id)).accounts[0]?.id, transactionIds: [a, b] }), deps)).toBe("processed");
    const reads = await sim.requests({ path: "^/v2/transactions$", clientId: deps.clientId });
    expect(reads.map((r) => r.query.ids?.split(",").sort())).toEqual([[a, b].sort()]);
    expect(await localTransaction(userId, a)).toMatchObject({ amountMinor: -7770, description: "Atualizada A" });
    await expectLocalMatchesSimulator(item.id, userId);
  });

  it("transactions/deleted removes exactly the listed rows of that item, and repeats harmlessly", async () => {
    const { item, userId, transactionIds } = await syncedItem(6);
    const gone = transactionIds.slice(0, 2);
    for (const id of gone) await sim.deleteTransaction(id);
    const payload = event("transactions/deleted", { itemId: item.id, transactionIds: gone });
    expect(await process(payload)).toBe("processed");
    expect(await process(payload)).toBe("processed");
    await expectLocalMatchesSimulator(item.id, userId);
  });

  describe("null means absent (Pluggy sends null for fields it has no value for)", () => {
    it("transactions/updated with accountId null re-reads the listed ids in every account of the item", async () => {
      const { item, userId, transactionIds } = await syncedItem(4, 2);
      const [a] = transactionIds;
      if (!a) throw new Error("fixture");
      await sim.updateTransaction(a, { amount: -12.34, description: "Atualizada com accountId null" });
      const payload = event("transactions/updated", { itemId: item.id, accountId: null, clientId: null, triggeredBy: null, transactionIds: [a] });
      expect(await processWebhookPayload(syncDeps(), payload)).toEqual({ outcome: "processed" });
      expect(await localTransaction(userId, a)).toMatchObject({ amountMinor: -1234, description: "Atualizada com accountId null" });
      await expectLocalMatchesSimulator(item.id, userId);
    });

    it("transactions/deleted with accountId null removes what Pluggy deleted", async () => {
      const { item, userId, transactionIds } = await syncedItem(4);
      const gone = transactionIds.slice(0, 1);
      for (const id of gone) await sim.deleteTransaction(id);
      expect(await processWebhookPayload(syncDeps(), event("transactions/deleted", { itemId: item.id, accountId: null, clientId: null, transactionIds: gone }))).toEqual({ outcome: "processed" });
      await expectLocalMatchesSimulator(item.id, userId);
    });

    it("transactions/created with accountId null reads every account from transactionsCreatedAtFrom; with that null too, an incremental sync", async () => {
      const { item, userId, accounts } = await syncedItem(3, 2);
      await sim.addTransactions(item.id, { accountId: accounts[1]?.id, count: 2 });
      const from = "2026-01-02T03:04:05.000Z";
      const deps = syncDeps();
      const payload = event("transactions/created", { itemId: item.id, accountId: null, transactionsCreatedAtFrom: from, createdTransactionsLink: null });
      expect(await processWebhookPayload(deps, payload)).toEqual({ outcome: "processed" });
      const reads = await sim.requests({ path: "^/v2/transactions$", clientId: deps.clientId });
      expect(reads.map((r) => [r.query.accountId, r.query.createdAtFrom]).sort()).toEqual(accounts.map((a) => [a.id, from]).sort());
      await expectLocalMatchesSimulator(item.id, userId);

      const incremental = syncDeps();
      expect(await processWebhookPayload(incremental, event("transactions/created", { itemId: item.id, accountId: null, transactionsCreatedAtFrom: null }))).toEqual({ outcome: "processed" });
      expect((await sim.requests({ path: "^/items/", clientId: incremental.clientId })).length).toBeGreaterThan(0);
    });

    it("item events with triggeredBy, clientId and error null are processed", async () => {
      const { item } = await syncedItem(1);
      for (const name of ["item/updated", "item/error", "item/login_succeeded"]) {
        expect(await processWebhookPayload(syncDeps(), event(name, { itemId: item.id, triggeredBy: null, clientId: null, error: null }))).toEqual({ outcome: "processed" });
      }
      expect(await process(event("connector/status_updated", { connectorId: null, data: null }))).toBe("processed");
    });
  });

  describe("deletions are confirmed with Pluggy", () => {
    it("item/deleted for an item Pluggy still has (forged or replayed) removes nothing and says why", async () => {
      const { item, userId } = await syncedItem(3);
      const result = await processWebhookPayload(syncDeps(), event("item/deleted", { itemId: item.id }));
      expect(result).toEqual({ outcome: "ignored", reason: `deletion not confirmed: GET /items/{id} still answers the item (status ${item.status}); nothing was removed` });
      expect(await localItem(userId, item.id)).toMatchObject({ id: item.id });
      expect(await directoryEntry(item.id)).toMatchObject({ userId });
      await expectLocalMatchesSimulator(item.id, userId);
    });

    it("item/deleted waits for Pluggy: a 503 on GET /items/{id} surfaces (retried), nothing removed meanwhile", async () => {
      const { item, userId } = await syncedItem(2);
      const faultId = await sim.fault({ path: exactPath(`/items/${item.id}`), method: "GET", status: 503 });
      try {
        await expect(process(event("item/deleted", { itemId: item.id }))).rejects.toMatchObject({ status: 503, transient: true });
      } finally {
        await sim.clearFault(faultId);
      }
      expect(await localTransactions(userId, item.id)).toHaveLength(2);
    });

    it("transactions/deleted of transactions Pluggy still lists removes nothing and says why", async () => {
      const { item, userId, transactionIds } = await syncedItem(5);
      const live = transactionIds.slice(0, 3);
      const result = await processWebhookPayload(syncDeps(), event("transactions/deleted", { itemId: item.id, transactionIds: live }));
      expect(result).toEqual({ outcome: "ignored", reason: "deletion not confirmed: Pluggy still lists all 3 of the listed transactions held here; nothing was removed" });
      expect(await localTransactions(userId, item.id)).toHaveLength(5);
      await expectLocalMatchesSimulator(item.id, userId);
    });

    it("transactions/deleted removes only the ids Pluggy no longer returns, asking each account of ours (never the payload's accountId)", async () => {
      const { item, userId, transactionIds } = await syncedItem(3, 2);
      const state = await sim.getItemState(item.id);
      const inOther = state.transactions.find((t) => t.accountId === state.accounts[1]?.id)?.id;
      const [deleted, live] = transactionIds;
      if (!deleted || !live || !inOther) throw new Error("fixture");
      await sim.deleteTransaction(deleted);
      const deps = syncDeps();
      // The payload names the first account for all of them: a transaction of the second one must still be checked there.
      const payload = event("transactions/deleted", { itemId: item.id, accountId: state.accounts[0]?.id, transactionIds: [deleted, live, inOther, "never-held"] });
      const result = await processWebhookPayload(deps, payload);
      expect(result).toEqual({ outcome: "processed", reason: "2 of the 3 listed transactions held here were kept: Pluggy still lists them" });
      const held = (await localTransactions(userId, item.id)).map((t) => t.pluggyId);
      expect(held).not.toContain(deleted);
      expect(held).toEqual(expect.arrayContaining([live, inOther]));
      await expectLocalMatchesSimulator(item.id, userId);
      const asked = await sim.requests({ path: "^/v2/transactions$", clientId: deps.clientId });
      expect(asked.every((r) => typeof r.query.ids === "string" && !r.query.ids.includes("never-held"))).toBe(true);
    });
  });

  it("item/deleted removes the item's data; a repeat and late events are harmless", async () => {
    const { item, userId, transactionIds } = await syncedItem(5);
    await sim.deleteItem(item.id);
    expect(await process(event("item/deleted", { itemId: item.id }))).toBe("processed");
    expect(await localItem(userId, item.id)).toBeUndefined();
    expect(await localAccounts(userId, item.id)).toHaveLength(0);
    expect(await localTransactions(userId, item.id)).toHaveLength(0);
    expect(await directoryEntry(item.id)).toBeUndefined(); // and out of the item directory
    expect(await process(event("item/deleted", { itemId: item.id }))).toBe("processed");
    // A late transactions/updated cannot resurrect it: GET /items answers 404.
    expect(await process(event("transactions/updated", { itemId: item.id, transactionIds: transactionIds.slice(0, 1) }))).toBe("processed");
    expect(await localItem(userId, item.id)).toBeUndefined();
    expect(await directoryEntry(item.id)).toBeUndefined();
  });

  it("a 404 on GET /items/{id} for another event means the item is gone: its data is removed", async () => {
    const { item, userId } = await syncedItem(4);
    await sim.deleteItem(item.id);
    expect(await process(event("item/updated", { itemId: item.id }))).toBe("processed");
    expect(await localItem(userId, item.id)).toBeUndefined();
    expect(await localTransactions(userId, item.id)).toHaveLength(0);
    expect(await directoryEntry(item.id)).toBeUndefined();
  });

  it("out of order: transactions/updated before item/created syncs the item first, then item/created adds nothing", async () => {
    const userId = uniqueUser("events");
    const { item, transactionIds } = await sim.createItem({ clientUserId: userId, accounts: 1, transactionsPerAccount: 9 });
    expect(await process(event("transactions/updated", { itemId: item.id, transactionIds: transactionIds.slice(0, 3) }))).toBe("processed");
    expect(await localItem(userId, item.id)).toMatchObject({ id: item.id });
    expect(await directoryEntry(item.id)).toMatchObject({ userId });
    await expectLocalMatchesSimulator(item.id, userId);

    const before = await localTransactions(userId, item.id);
    expect(await process(event("item/created", { itemId: item.id }))).toBe("processed");
    expect(await localTransactions(userId, item.id)).toEqual(expect.arrayContaining(before));
    expect(await localTransactions(userId, item.id)).toHaveLength(9);
  });

  it("out of order: transactions/created before item/created runs the full sync", async () => {
    const userId = uniqueUser("events");
    const { item, accounts } = await sim.createItem({ clientUserId: userId, accounts: 2, transactionsPerAccount: 7 });
    expect(await process(event("transactions/created", { itemId: item.id, accountId: accounts[0]?.id, transactionsCreatedAtFrom: new Date().toISOString() }))).toBe("processed");
    await expectLocalMatchesSimulator(item.id, userId);
  });

  it("ignores unknown events and events missing what they need, and says why", async () => {
    expect(await processWebhookPayload(syncDeps(), event("payment_intent/created", { itemId: crypto.randomUUID() }))).toEqual({
      outcome: "ignored",
      reason: 'event kind "payment_intent/created" is not one we act on',
    });
    for (const itemId of [undefined, null, ""]) {
      expect(await processWebhookPayload(syncDeps(), event("item/updated", { itemId }))).toEqual({ outcome: "ignored", reason: "no itemId: item/updated is about an item and names none" });
    }
    for (const transactionIds of [undefined, null, "a,b"]) {
      expect(await processWebhookPayload(syncDeps(), event("transactions/updated", { itemId: crypto.randomUUID(), transactionIds }))).toEqual({
        outcome: "ignored",
        reason: "no transactionIds list: transactions/updated names the transactions to re-read",
      });
      expect(await processWebhookPayload(syncDeps(), event("transactions/deleted", { itemId: crypto.randomUUID(), transactionIds }))).toEqual({
        outcome: "ignored",
        reason: "no transactionIds list: transactions/deleted names the transactions to remove",
      });
    }
  });

  it("an item whose directory owner is not Pluggy's clientUserId is ignored with that reason, for sync and status events alike, and neither ledger is written", async () => {
    const { item, userId, accounts } = await syncedItem(1);
    const someoneElse = uniqueUser("someone-else");
    await db.update(itemDirectory).set({ userId: someoneElse }).where(eq(itemDirectory.itemId, item.id));
    forgetOwners([item.id]); // the directory's owner is cached per isolate, and this test's isolate runs the processor
    // Pluggy changed since the sync: a write to either ledger would show.
    await sim.updateItem(item.id, { status: "LOGIN_ERROR", executionStatus: "INVALID_CREDENTIALS", error: { code: "INVALID_CREDENTIALS", message: "bad" } });
    await sim.addTransactions(item.id, { accountId: accounts[0]?.id, count: 2 });
    const before = { item: await localItem(userId, item.id), transactions: await localTransactions(userId, item.id) };

    const reason = "Pluggy's clientUserId for the item differs from its owner in the item directory; nothing written";
    expect(await processWebhookPayload(syncDeps(), event("item/updated", { itemId: item.id }))).toEqual({ outcome: "ignored", reason });
    expect(await processWebhookPayload(syncDeps(), event("item/error", { itemId: item.id }))).toEqual({ outcome: "ignored", reason });

    expect(await localItem(userId, item.id)).toEqual(before.item);
    expect(await localTransactions(userId, item.id)).toEqual(before.transactions);
    expect(await inLedger(someoneElse, (_db, ledger) => ledger.footprint())).toEqual({ items: 0, accounts: 0, transactions: 0, categorySyncJobs: 0 });
    expect(await directoryEntry(item.id)).toMatchObject({ userId: someoneElse });
  });

  it("lets a Pluggy 503 surface as a transient PluggyError", async () => {
    const { item, userId } = await syncedItem(2);
    const faultId = await sim.fault({ path: exactPath(`/items/${item.id}`), method: "GET", status: 503 });
    try {
      const error = await process(event("item/updated", { itemId: item.id })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PluggyError);
      expect(error).toMatchObject({ status: 503, transient: true });
    } finally {
      await sim.clearFault(faultId);
    }
    expect(await localItem(userId, item.id)).toBeDefined();
  });

  it("lets a Pluggy 429 surface with its reset", async () => {
    const { item, accounts } = await syncedItem(2);
    const faultId = await sim.fault({ path: `^/v2/transactions\\?.*accountId=${accounts[0]?.id}`, status: 429, rateLimitReset: 30, method: "GET" });
    try {
      const error = await process(event("transactions/created", { itemId: item.id, accountId: accounts[0]?.id, transactionsCreatedAtFrom: item.createdAt })).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: "PluggyError", status: 429, transient: true, retryAfterSeconds: 30 });
    } finally {
      await sim.clearFault(faultId);
    }
  });
});
