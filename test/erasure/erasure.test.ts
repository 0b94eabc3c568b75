import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import { and, eq } from "drizzle-orm";
import { applyAttention } from "../../src/catalog/attention.repo.ts";
import { attention } from "../../src/catalog/attention.schema.ts";
import { claimItem, itemsOfUser } from "../../src/catalog/directory.repo.ts";
import { erasureRequests } from "../../src/db/schema.ts";
import { forgetErasedItem } from "../../src/erasure/erasure-guard.ts";
import { ERASURE_REPEAT_WINDOW_MS, eraseUser, requestErasure, requeueStaleErasures } from "../../src/erasure/erasure.service.ts";
import { accounts, categorySyncJobs, transactions } from "../../src/ledger/ledger.schema.ts";
import { createLogger } from "../../src/platform/logger.ts";
import type { EventsQueueMessage } from "../../src/queues/messages.ts";
import { reconcileItem } from "../../src/reconcile/reconcile.service.ts";
import { processWebhookPayload } from "../../src/sync/event-processor.ts";
import { uniqueUser } from "../helpers/auth.ts";
import { inLedger, ledgerOf } from "../helpers/ledger.ts";
import { sim } from "../helpers/simulator.ts";
import { archivedKeys, db, erasureDeps, erasureRequest, existsAtPluggy, footprint, ledgerFootprint, NOTHING, populatedUser, storeItem, storeWebhook, syncDeps, POPULATED_FOOTPRINT } from "./support.ts";

/*
 * eraseUser and the user.erase consumer against the simulator and this file's own D1, R2 and ledgers:
 * nothing of the user survives in any catalog table, in their ledger or under any R2 prefix, Pluggy no longer has their items, other users
 * are untouched, repeats are harmless, and a failure half-way is finished by the retry.
 */

const logger = createLogger({ test: "erasure" });

async function deliver(message: EventsQueueMessage, options: { queue?: string; attempts?: number } = {}) {
  const id = crypto.randomUUID();
  const batch = createMessageBatch(options.queue ?? "finance-hub-events", [{ id, timestamp: new Date(), attempts: options.attempts ?? 1, body: message }]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return { id, result: await getQueueResult(batch, ctx) };
}

/** A queue stand-in that records sends. */
function recordingQueue() {
  const sent: EventsQueueMessage[] = [];
  const queue = {
    send: async (body: EventsQueueMessage) => void sent.push(body),
    sendBatch: async (messages: Iterable<MessageSendRequest<EventsQueueMessage>>) => void sent.push(...[...messages].map((m) => m.body)),
  } as unknown as Queue<EventsQueueMessage>;
  return { queue, sent };
}

describe("eraseUser", () => {
  it("leaves nothing of the user in D1 (every table), their ledger, R2 (both prefixes) or at Pluggy, and nothing else is touched", async () => {
    const userId = uniqueUser("erase");
    const otherId = uniqueUser("keep");
    const mine = await populatedUser(userId);
    const theirs = await populatedUser(otherId, 1);
    const theirFootprint = await footprint(otherId, theirs.itemIds);
    // Seen present first: in the catalog, 2 directory entries, the failed job's attention entry and
    // 2 items × 3 webhook events plus the rejected delivery without an item id whose body names the
    // user, each event's bytes in R2; in the ledger, 2 items with 2 accounts and 12 transactions each,
    // the 2 jobs and the ledger's owner record.
    expect(await footprint(userId, mine.itemIds)).toEqual(POPULATED_FOOTPRINT);
    await requestErasure({ catalog: db, eventsQueue: recordingQueue().queue, logger }, userId);

    const result = await eraseUser(erasureDeps(), userId);
    expect(result).toMatchObject({
      pluggy: { deleted: 2, alreadyGone: 0, refused: 0 },
      items: 2,
      accounts: 4,
      transactions: 24,
      categorySyncJobs: 2,
      webhookEvents: 7,
      webhookBodies: 7,
      directoryEntries: 2,
      attentionEntries: 1,
    });
    expect(result.itemIds.sort()).toEqual([...mine.itemIds].sort());

    expect(await footprint(userId, mine.itemIds)).toEqual(NOTHING);
    const keys = await archivedKeys();
    for (const key of mine.keys) expect(keys.has(key), key).toBe(false);
    for (const itemId of mine.itemIds) expect(await existsAtPluggy(itemId)).toBe(false);
    expect(await erasureRequest(userId)).toMatchObject({ status: "done", completedAt: expect.any(String) });

    expect(await footprint(otherId, theirs.itemIds)).toEqual(theirFootprint);
    for (const key of theirs.keys) expect(keys.has(key), key).toBe(true);
    for (const itemId of theirs.itemIds) expect(await existsAtPluggy(itemId)).toBe(true);
  });

  it("afterwards the user's ledger is empty and answers as a new one: lists are empty, not an error", async () => {
    const userId = uniqueUser("erase");
    await populatedUser(userId, 1);
    await eraseUser(erasureDeps(), userId);
    const ledger = ledgerOf(userId);
    expect(await ledger.footprint()).toEqual({ items: 0, accounts: 0, transactions: 0, categorySyncJobs: 0 });
    expect(await ledgerFootprint(userId)).toEqual({});
    expect(await ledger.owner()).toBeNull();
    expect(await ledger.listItems({ limit: 10 })).toEqual({ rows: [], nextCursor: null });
    expect(await ledger.listAccounts({ limit: 10 })).toEqual({ rows: [], nextCursor: null });
    expect(await ledger.listTransactions({ limit: 10 })).toEqual({ rows: [], nextCursor: null, jobs: [] });
    expect(await ledger.listItemIds()).toEqual([]);
    expect(await runInDurableObject(ledger, (_instance, state) => state.storage.getAlarm())).toBeNull();
  });

  it("erasing one user leaves another's ledger, directory entries, attention entry and R2 objects exactly as they were", async () => {
    const userA = uniqueUser("erase");
    const userB = uniqueUser("keep");
    await populatedUser(userA, 2);
    const b = await populatedUser(userB, 1);
    const bLedger = { "ledger.items": 1, "ledger.accounts": 2, "ledger.transactions": 12, "ledger.category_sync_jobs": 2, "ledger.ledger_meta": 1 };
    expect(await ledgerFootprint(userB)).toEqual(bLedger);
    await eraseUser(erasureDeps(), userA);
    expect(await ledgerFootprint(userB)).toEqual(bLedger);
    expect(await itemsOfUser(db, userB)).toEqual(b.itemIds);
    const [failedJob] = b.jobIds.slice(1);
    expect(await db.select().from(attention).where(eq(attention.userId, userB))).toEqual([expect.objectContaining({ id: failedJob, status: "failed" })]);
    const keys = await archivedKeys();
    expect(b.keys.filter((key) => keys.has(key))).toEqual(b.keys);
    expect(b.keys).toHaveLength(4);
    for (const itemId of b.itemIds) expect(await existsAtPluggy(itemId)).toBe(true);
  });

  it("is harmless to repeat: a second run finds nothing and says so", async () => {
    const userId = uniqueUser("erase");
    const { itemIds } = await populatedUser(userId, 1);
    await eraseUser(erasureDeps(), userId);
    const again = await eraseUser(erasureDeps(), userId);
    expect(again).toMatchObject({
      itemIds: [],
      items: 0,
      accounts: 0,
      transactions: 0,
      categorySyncJobs: 0,
      webhookEvents: 0,
      directoryEntries: 0,
      attentionEntries: 0,
      pluggy: { deleted: 0, alreadyGone: 0, refused: 0 },
    });
    expect(await footprint(userId, itemIds)).toEqual(NOTHING);
    expect(await erasureRequest(userId)).toMatchObject({ status: "done" });
  });

  it("a failure at Pluggy half-way is retried through the queue, nothing local is touched until Pluggy is done, and the retry finishes", async () => {
    const userId = uniqueUser("erase");
    const { itemIds } = await populatedUser(userId, 2);
    const [first, second] = itemIds;
    if (!first || !second) throw new Error("fixture");
    await requestErasure({ catalog: db, eventsQueue: recordingQueue().queue, logger }, userId);
    const before = await footprint(userId, itemIds);

    const fault = await sim.fault({ path: `^/items/${second}$`, method: "DELETE", status: 503, times: 1 });
    const failed = await deliver({ kind: "user.erase", userId });
    await sim.clearFault(fault);
    expect(failed.result.retryMessages.map((m) => m.msgId)).toEqual([failed.id]);
    expect(await existsAtPluggy(first)).toBe(false); // the first delete went through
    expect(await existsAtPluggy(second)).toBe(true);
    expect(await footprint(userId, itemIds)).toEqual(before);
    expect(await erasureRequest(userId)).toMatchObject({ status: "queued" });

    const retried = await deliver({ kind: "user.erase", userId }, { attempts: 2 });
    expect(retried.result.explicitAcks).toEqual([retried.id]);
    expect(await existsAtPluggy(second)).toBe(false);
    expect(await footprint(userId, itemIds)).toEqual(NOTHING);
    expect(await erasureRequest(userId)).toMatchObject({ status: "done" });
  });

  it("a refusal Pluggy will repeat forever (403) does not block the local erasure", async () => {
    const userId = uniqueUser("erase");
    const { itemIds } = await populatedUser(userId, 1);
    const [itemId] = itemIds;
    if (!itemId) throw new Error("fixture");
    const fault = await sim.fault({ path: `^/items/${itemId}$`, method: "DELETE", status: 403, times: 1 });
    const result = await eraseUser(erasureDeps(), userId);
    await sim.clearFault(fault);
    expect(result.pluggy).toEqual({ deleted: 0, alreadyGone: 0, refused: 1 });
    expect(await footprint(userId, itemIds)).toEqual(NOTHING);
  });

  it("finds items only webhooks know about (never synced) by asking Pluggy whose they are, and deletes them at Pluggy too", async () => {
    const userId = uniqueUser("erase");
    // Bodies as Pluggy sends them: no clientUserId, only ids.
    const { item } = await sim.createItem({ clientUserId: userId, accounts: 1, transactionsPerAccount: 1 });
    const stored = await storeWebhook({ event: "item/created", eventId: crypto.randomUUID(), id: item.id, itemId: item.id, triggeredBy: "USER" });
    const second = await sim.createItem({ clientUserId: userId, accounts: 1, transactionsPerAccount: 1 });
    const storedTx = await storeWebhook({ event: "transactions/created", eventId: crypto.randomUUID(), itemId: second.item.id, accountId: second.accounts[0]?.id ?? null });
    const someoneElses = await sim.createItem({ clientUserId: uniqueUser("keep"), accounts: 1, transactionsPerAccount: 1 });
    const notMine = await storeWebhook({ event: "item/created", eventId: crypto.randomUUID(), id: someoneElses.item.id, itemId: someoneElses.item.id, triggeredBy: "USER" });
    await requestErasure({ catalog: db, eventsQueue: recordingQueue().queue, logger }, userId);

    const result = await eraseUser(erasureDeps(), userId);
    expect(result.itemIds.sort()).toEqual([item.id, second.item.id].sort());
    expect(await existsAtPluggy(item.id)).toBe(false);
    expect(await existsAtPluggy(second.item.id)).toBe(false);
    const keys = await archivedKeys();
    expect(keys.has(stored.key)).toBe(false);
    expect(keys.has(storedTx.key)).toBe(false);
    expect(keys.has(notMine.key)).toBe(true);
    expect(await existsAtPluggy(someoneElses.item.id)).toBe(true);
  });

  it("the sweep pass erases webhooks that arrived after the first pass, but never a connection made after the request", async () => {
    const userId = uniqueUser("erase");
    const { itemIds } = await populatedUser(userId, 1);
    await requestErasure({ catalog: db, eventsQueue: recordingQueue().queue, logger }, userId);
    const first = await eraseUser(erasureDeps(), userId);
    // Pluggy's own item/deleted for the item we just deleted lands afterwards.
    const late = await storeWebhook({ event: "item/deleted", eventId: crypto.randomUUID(), itemId: itemIds[0] });
    // The user comes back and connects a bank again (a new consent).
    await new Promise((resolve) => setTimeout(resolve, 5));
    const { item: fresh } = await sim.createItem({ clientUserId: userId, accounts: 1, transactionsPerAccount: 3 });
    await storeItem(userId, fresh.id);

    const sweep = await eraseUser(erasureDeps(), userId, { sweep: true, itemIds: first.itemIds });
    expect(sweep.webhookEvents).toBe(1);
    expect((await archivedKeys()).has(late.key)).toBe(false);
    expect(await existsAtPluggy(fresh.id)).toBe(true);
    expect(await footprint(userId, [fresh.id])).toEqual({
      item_directory: 1,
      "ledger.items": 1,
      "ledger.accounts": 1,
      "ledger.transactions": 3,
      "ledger.ledger_meta": 1,
    });
    expect(await erasureRequest(userId)).toMatchObject({ status: "done" });
  });

  it("the sweep pass removes what a racing writer put back for an erased item: its ledger rows, its attention entry, its directory entry", async () => {
    const userId = uniqueUser("erase");
    const { itemIds } = await populatedUser(userId, 1);
    const [oldItem] = itemIds;
    if (!oldItem) throw new Error("fixture");
    await requestErasure({ catalog: db, eventsQueue: recordingQueue().queue, logger }, userId);
    const first = await eraseUser(erasureDeps(), userId);
    // A writer that read Pluggy before the erasure lands after it: the item, an account, a transaction, a failed job.
    const at = new Date().toISOString();
    const jobId = crypto.randomUUID();
    await claimItem(db, { itemId: oldItem, userId, nextReconcileAt: at, now: at });
    await ledgerOf(userId).applyItem(userId, { id: oldItem, connectorId: 0, connectorName: "Pluggy Bank", connectorImageUrl: null, status: "UPDATED", executionStatus: "SUCCESS", errorCode: null, errorMessage: null, lastUpdatedAt: at, pluggyCreatedAt: new Date(Date.now() - 3_600_000).toISOString() });
    await inLedger(userId, (ledgerDb) => {
      ledgerDb.insert(accounts).values({ id: "acc-back", pluggyId: `p-${jobId}`, itemId: oldItem, createdAt: at, updatedAt: at }).run();
      ledgerDb.insert(transactions).values({ id: "tx-back", pluggyId: `t-${jobId}`, accountId: "acc-back", itemId: oldItem, date: "2026-01-01", description: "x", descriptionFolded: "x", amountMinor: 1, currencyCode: "BRL", type: "DEBIT", status: "POSTED", createdAt: at, updatedAt: at }).run();
      ledgerDb.insert(categorySyncJobs).values({ id: jobId, transactionId: "tx-back", pluggyTransactionId: `t-${jobId}`, categoryId: "c", version: 1, status: "failed", dueAt: at, attentionStatus: "failed", createdAt: at, updatedAt: at }).run();
    });
    await applyAttention(db, [{ kind: "category_sync", id: jobId, userId, status: "failed", since: at }]);
    expect(await footprint(userId, itemIds)).toMatchObject({ item_directory: 1, attention: 1, "ledger.items": 1, "ledger.accounts": 1, "ledger.transactions": 1, "ledger.category_sync_jobs": 1 });

    const sweep = await eraseUser(erasureDeps(), userId, { sweep: true, itemIds: first.itemIds });
    expect(sweep).toMatchObject({ items: 1, accounts: 1, transactions: 1, directoryEntries: 1, attentionEntries: 1 });
    expect(await footprint(userId, itemIds)).toEqual(NOTHING);
    expect(await db.select().from(attention).where(and(eq(attention.kind, "category_sync"), eq(attention.id, jobId)))).toEqual([]);
  });

  it("the consumer queues the sweep pass ten minutes out with the erased item ids", async () => {
    const userId = uniqueUser("erase");
    const { itemIds } = await populatedUser(userId, 1);
    const sends: { body: unknown; options: unknown }[] = [];
    const queue = { send: async (body: unknown, options: unknown) => void sends.push({ body, options }) } as unknown as Queue;
    const batch = createMessageBatch("finance-hub-events", [{ id: "m1", timestamp: new Date(), attempts: 1, body: { kind: "user.erase", userId } }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, EVENTS_QUEUE: queue }, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["m1"]);
    expect(sends).toEqual([{ body: { kind: "user.erase", userId, sweep: true, itemIds }, options: { delaySeconds: 600 } }]);
  });
});

describe("an erased user stays erased", () => {
  it("item/created for an item already gone at Pluggy re-reads it, gets 404, and writes nothing", async () => {
    const userId = uniqueUser("erase");
    const { itemIds } = await populatedUser(userId, 1);
    const [itemId] = itemIds;
    if (!itemId) throw new Error("fixture");
    await requestErasure({ catalog: db, eventsQueue: recordingQueue().queue, logger }, userId);
    await eraseUser(erasureDeps(), userId);

    expect((await processWebhookPayload(syncDeps(), { event: "item/created", eventId: crypto.randomUUID(), itemId })).outcome).toBe("processed");
    expect(await footprint(userId, itemIds)).toEqual(NOTHING);
  });

  it("an item created before the request that erasure never saw is deleted at Pluggy instead of synced", async () => {
    const userId = uniqueUser("erase");
    const { item } = await sim.createItem({ clientUserId: userId, accounts: 1, transactionsPerAccount: 4 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await requestErasure({ catalog: db, eventsQueue: recordingQueue().queue, logger }, userId);
    await eraseUser(erasureDeps(), userId); // no local trace and no webhook yet: it cannot see the item

    expect((await processWebhookPayload(syncDeps(), { event: "item/created", eventId: crypto.randomUUID(), itemId: item.id })).outcome).toBe("ignored");
    expect(await existsAtPluggy(item.id)).toBe(false);
    expect(await footprint(userId, [item.id])).toEqual(NOTHING);
    expect((await processWebhookPayload(syncDeps(), { event: "item/error", eventId: crypto.randomUUID(), itemId: item.id })).outcome).toBe("processed");
    expect(await footprint(userId, [item.id])).toEqual(NOTHING);
  });

  it("a status webhook in flight does not bring an erased user's item back", async () => {
    const userId = uniqueUser("erase");
    const { item } = await sim.createItem({ clientUserId: userId, accounts: 1, transactionsPerAccount: 4 });
    await storeItem(userId, item.id);
    await new Promise((resolve) => setTimeout(resolve, 5));
    // The request is recorded; the consumer has not run yet when this writer acts.
    await requestErasure({ catalog: db, eventsQueue: recordingQueue().queue, logger }, userId);

    expect((await processWebhookPayload(syncDeps(), { event: "item/login_succeeded", eventId: crypto.randomUUID(), itemId: item.id })).outcome).toBe("ignored");
    expect(await existsAtPluggy(item.id)).toBe(false);
    expect(await footprint(userId, [item.id])).toEqual(NOTHING);
  });

  it("a reconciliation in flight does not bring an erased user's item back", async () => {
    const userId = uniqueUser("erase");
    await requestErasure({ catalog: db, eventsQueue: recordingQueue().queue, logger }, userId);
    // An item from before a (renewed) request, stored before the erasure ran.
    const { item: another } = await sim.createItem({ clientUserId: userId, accounts: 1, transactionsPerAccount: 2 });
    await storeItem(userId, another.id);
    await new Promise((resolve) => setTimeout(resolve, 5));
    // A repeat within 10 minutes changes nothing: the renewal comes later than that.
    await db.update(erasureRequests).set({ requestedAt: new Date(Date.now() - ERASURE_REPEAT_WINDOW_MS - 1_000).toISOString() }).where(eq(erasureRequests.userId, userId));
    await requestErasure({ catalog: db, eventsQueue: recordingQueue().queue, logger }, userId);
    expect(await reconcileItem(syncDeps(), another.id)).toMatchObject({ outcome: "erased" });
    expect(await existsAtPluggy(another.id)).toBe(false);
    expect(await footprint(userId, [another.id])).toEqual(NOTHING);
  });

  it("forgetErasedItem deletes the item at Pluggy, then its ledger rows, its jobs' attention entries and its directory entry, and nothing else of the user", async () => {
    const userId = uniqueUser("erase");
    const { itemIds, jobIds } = await populatedUser(userId, 2);
    const failedJob = jobIds[1] ?? "";
    // The item whose transaction carries the failed job (the one in the attention index).
    const target = await inLedger(userId, (ledgerDb) =>
      ledgerDb.select({ itemId: transactions.itemId }).from(categorySyncJobs).innerJoin(transactions, eq(transactions.id, categorySyncJobs.transactionId)).where(eq(categorySyncJobs.id, failedJob)).get()?.itemId,
    );
    const survivor = itemIds.find((id) => id !== target);
    if (!target || !survivor) throw new Error("fixture");
    expect(await db.select().from(attention).where(eq(attention.id, failedJob))).toHaveLength(1);
    const before = await ledgerOf(userId).footprint();

    await forgetErasedItem(syncDeps(), target, userId);
    expect(await existsAtPluggy(target)).toBe(false);
    expect(await ledgerOf(userId).getItem(target)).toBeNull();
    expect(await ledgerOf(userId).listItemIds()).toEqual([survivor]);
    expect(await itemsOfUser(db, userId)).toEqual([survivor]);
    expect(await db.select().from(attention).where(eq(attention.id, failedJob))).toEqual([]);
    const after = await ledgerOf(userId).footprint();
    expect(after).toMatchObject({ items: before.items - 1, accounts: before.accounts - 2, transactions: before.transactions - 12 });
    expect(await existsAtPluggy(survivor)).toBe(true);

    // Without the owner, the directory names it; a repeat (404 at Pluggy, nothing local) is harmless.
    await forgetErasedItem(syncDeps(), survivor);
    await forgetErasedItem(syncDeps(), survivor);
    expect(await existsAtPluggy(survivor)).toBe(false);
    expect(await ledgerOf(userId).listItemIds()).toEqual([]);
    expect(await itemsOfUser(db, userId)).toEqual([]);
  });
});

describe("requests", () => {
  it("requestErasure records a queued request and queues user.erase; renewing moves requested_at forward", async () => {
    const userId = uniqueUser("erase");
    const { queue, sent } = recordingQueue();
    await requestErasure({ catalog: db, eventsQueue: queue, logger }, userId, new Date("2026-01-01T00:00:00.000Z"));
    expect(await erasureRequest(userId)).toEqual({ userId, status: "queued", requestedAt: "2026-01-01T00:00:00.000Z", completedAt: null });
    await db.update(erasureRequests).set({ status: "done", completedAt: "2026-01-01T00:01:00.000Z" }).where(eq(erasureRequests.userId, userId));
    await requestErasure({ catalog: db, eventsQueue: queue, logger }, userId, new Date("2026-02-01T00:00:00.000Z"));
    expect(await erasureRequest(userId)).toEqual({ userId, status: "queued", requestedAt: "2026-02-01T00:00:00.000Z", completedAt: null });
    expect(sent).toEqual([
      { kind: "user.erase", userId },
      { kind: "user.erase", userId },
    ]);
  });

  it("the hourly job queues again an erasure still queued after an hour, not a recent one", async () => {
    const stuck = uniqueUser("stuck");
    const recent = uniqueUser("recent");
    await db.insert(erasureRequests).values([
      { userId: stuck, status: "queued", requestedAt: new Date(Date.now() - 2 * 3_600_000).toISOString() },
      { userId: recent, status: "queued", requestedAt: new Date().toISOString() },
    ]);
    const { queue, sent } = recordingQueue();
    await requeueStaleErasures({ catalog: db, eventsQueue: queue, logger });
    expect(sent).toContainEqual({ kind: "user.erase", userId: stuck });
    expect(sent).not.toContainEqual({ kind: "user.erase", userId: recent });
  });

  it("a dead user.erase is acked on the dead-letter queue (the request stays queued for the hourly job)", async () => {
    const userId = uniqueUser("erase");
    await requestErasure({ catalog: db, eventsQueue: recordingQueue().queue, logger }, userId);
    const { id, result } = await deliver({ kind: "user.erase", userId }, { queue: "finance-hub-events-dlq", attempts: 9 });
    expect(result.explicitAcks).toEqual([id]);
    expect(await erasureRequest(userId)).toMatchObject({ status: "queued" });
  });
});
