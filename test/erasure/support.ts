import { env } from "cloudflare:workers";
import { eq, inArray } from "drizzle-orm";
import { createDb } from "../../src/db/client.ts";
import { accounts, categorySyncJobs, erasureRequests, items, transactions, webhookEvents } from "../../src/db/schema.ts";
import type { ErasureDeps } from "../../src/erasure/erasure.service.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createPluggyClient } from "../../src/pluggy/pluggy.client.ts";
import { syncItem } from "../../src/sync/item-sync.service.ts";
import { eventArchiveKey, rejectedArchiveKey } from "../../src/webhooks/webhook-archive.ts";
import { sim } from "../helpers/simulator.ts";

/*
 * Fixtures for erasure: a user with real (simulator-backed, synced) items, a category-sync job, and the
 * webhook traces a real intake leaves — event rows in D1 and their raw bodies in R2 under `events/` and
 * `rejected/`. Written directly (not through intake) so these tests depend only on the storage layout.
 */

export const db = createDb(env.DB);
export const bucket = env.WEBHOOK_ARCHIVE;

export function erasureDeps(): ErasureDeps {
  const logger = createLogger({ test: "erasure" });
  return { db, bucket, pluggy: createPluggyClient(env, { maxReadAttempts: 1, sleep: async () => {}, logger }), logger };
}

export const syncDeps = () => {
  const logger = createLogger({ test: "erasure" });
  return { db, pluggy: createPluggyClient(env, { maxReadAttempts: 1, sleep: async () => {}, logger }), logger };
};

/** A stored webhook delivery: its row and its exact bytes in R2. */
export async function storeWebhook(
  payload: Record<string, unknown>,
  options: { rejected?: boolean; itemId?: string | null; receivedAt?: string } = {},
): Promise<{ eventId: string; key: string }> {
  const receivedAt = options.receivedAt ?? new Date().toISOString();
  const bytes = new TextEncoder().encode(JSON.stringify(payload));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const sha256 = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  const id = crypto.randomUUID();
  const eventId = options.rejected ? `rejected:${id}` : typeof payload.eventId === "string" ? payload.eventId : id;
  const key = options.rejected ? rejectedArchiveKey(id, receivedAt) : await eventArchiveKey(eventId, receivedAt);
  const itemId = options.itemId !== undefined ? options.itemId : typeof payload.itemId === "string" ? payload.itemId : null;
  await bucket.put(key, bytes, { httpMetadata: { contentType: "application/json" }, customMetadata: { sha256 } });
  await db.insert(webhookEvents).values({
    eventId,
    event: typeof payload.event === "string" ? payload.event : "(invalid)",
    itemId,
    status: options.rejected ? "rejected" : "processed",
    receivedAt,
    bodySha256: sha256,
    r2Key: key,
    contentType: "application/json",
    updatedAt: receivedAt,
  });
  return { eventId, key };
}

/**
 * A user as a real one looks: `itemCount` items at the simulator, synced locally, a category-sync job on
 * one transaction, and webhook traces about each item (an accepted event, a rejected delivery naming the
 * item, and a rejected one without item id whose body mentions the user).
 */
export async function populatedUser(userId: string, itemCount = 2) {
  const itemIds: string[] = [];
  const keys: string[] = [];
  const eventIds: string[] = [];
  for (let i = 0; i < itemCount; i++) {
    const { item } = await sim.createItem({ clientUserId: userId, accounts: 2, transactionsPerAccount: 6 });
    const synced = await syncItem(syncDeps(), item.id);
    if (synced.outcome !== "synced") throw new Error(`fixture sync: ${synced.outcome}`);
    itemIds.push(item.id);
    for (const stored of [
      await storeWebhook({ event: "item/updated", eventId: crypto.randomUUID(), id: item.id, itemId: item.id, triggeredBy: "SYNC" }),
      await storeWebhook({ event: "transactions/created", eventId: crypto.randomUUID(), itemId: item.id, accountId: "x" }),
      await storeWebhook({ event: "item/updated", itemId: item.id }, { rejected: true }),
    ]) {
      keys.push(stored.key);
      eventIds.push(stored.eventId);
    }
  }
  const unattributedRejected = await storeWebhook({ evnt: "item/created", clientUserId: userId }, { rejected: true, itemId: null });
  keys.push(unattributedRejected.key);
  eventIds.push(unattributedRejected.eventId);

  const [transaction] = await db.select().from(transactions).where(eq(transactions.userId, userId)).limit(1);
  if (!transaction) throw new Error("fixture: no transaction");
  const now = new Date().toISOString();
  await db.insert(categorySyncJobs).values({
    id: crypto.randomUUID(),
    transactionId: transaction.id,
    userId,
    pluggyTransactionId: transaction.pluggyId ?? "none",
    categoryId: crypto.randomUUID(),
    version: 1,
    status: "pending",
    dueAt: now,
    createdAt: now,
    updatedAt: now,
  });
  return { itemIds, keys, eventIds };
}

/** Everything D1 holds about a user and their items, table by table. */
export async function footprint(userId: string, itemIds: readonly string[]) {
  const ids = itemIds.length > 0 ? [...itemIds] : ["none"];
  return {
    items: new Set([...(await db.select({ id: items.id }).from(items).where(eq(items.userId, userId))), ...(await db.select({ id: items.id }).from(items).where(inArray(items.id, ids)))].map((row) => row.id)).size,
    accounts: (await db.select({ id: accounts.id }).from(accounts).where(eq(accounts.userId, userId))).length,
    transactions: (await db.select({ id: transactions.id }).from(transactions).where(eq(transactions.userId, userId))).length,
    categorySyncJobs: (await db.select({ id: categorySyncJobs.id }).from(categorySyncJobs).where(eq(categorySyncJobs.userId, userId))).length,
    webhookEvents: (await db.select({ id: webhookEvents.eventId }).from(webhookEvents).where(inArray(webhookEvents.itemId, ids))).length,
  };
}

export const NOTHING = { items: 0, accounts: 0, transactions: 0, categorySyncJobs: 0, webhookEvents: 0 };

/** Every key in the archive bucket under the webhook prefixes (listing until not truncated). */
export async function archivedKeys(): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const prefix of ["events/", "rejected/"]) {
    let cursor: string | undefined;
    do {
      const page = await bucket.list({ prefix, cursor, limit: 1000 });
      for (const object of page.objects) keys.add(object.key);
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }
  return keys;
}

export const erasureRequest = (userId: string) => db.select().from(erasureRequests).where(eq(erasureRequests.userId, userId)).get();

/** Whether the simulator (Pluggy) still has the item. */
export async function existsAtPluggy(itemId: string): Promise<boolean> {
  try {
    await sim.getItemState(itemId);
    return true;
  } catch {
    return false;
  }
}
