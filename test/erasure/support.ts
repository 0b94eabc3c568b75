import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { createDb } from "../../src/db/client.ts";
import { categorySyncJobs, erasureRequests, transactions, webhookEvents } from "../../src/db/schema.ts";
import type { ErasureDeps } from "../../src/erasure/erasure.service.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createPluggyClient } from "../../src/pluggy/pluggy.client.ts";
import { syncItem } from "../../src/sync/item-sync.service.ts";
import { eventArchiveKey, rejectedArchiveKey } from "../../src/webhooks/webhook-archive.ts";
import { SIM_URL, sim } from "../helpers/simulator.ts";

/*
 * Fixtures for erasure: a user with real (simulator-backed, synced) items, a category-sync job, and the
 * webhook traces a real intake leaves — event rows in D1 and their raw bodies in R2 under `events/` and
 * `rejected/`. Written directly (not through intake) so these tests depend only on the storage layout.
 */

export const db = createDb(env.DB);
export const bucket = env.WEBHOOK_ARCHIVE;

export function erasureDeps(): ErasureDeps {
  const logger = createLogger({ test: "erasure" });
  return { catalog: db, bucket, pluggy: createPluggyClient(env, { maxReadAttempts: 1, sleep: async () => {}, logger }), logger };
}

export const syncDeps = () => {
  const logger = createLogger({ test: "erasure" });
  return { catalog: db, pluggy: createPluggyClient(env, { maxReadAttempts: 1, sleep: async () => {}, logger }), logger };
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

/**
 * Tables that keep a row naming an erased user by design: `erasure_requests` is the record that the user
 * asked (status and times, nothing else), which lets a repeated request be harmless.
 */
const KEPT_BY_DESIGN = new Set(["erasure_requests"]);

/** Every table of the app's schema in this D1 (not SQLite's, D1's or the migration runner's own). */
async function appTables(): Promise<string[]> {
  const { results } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%' ORDER BY name",
  ).all<{ name: string }>();
  return results.map((row) => row.name).filter((name) => !KEPT_BY_DESIGN.has(name));
}

/** What an earlier footprint() saw for a user: exact rows per table, and R2 keys. */
const seenBefore = new Map<string, { rows: Map<string, Set<string>>; keys: Set<string> }>();

/**
 * Everything this file's D1 and R2 hold about a user, found without the product's own idea of what
 * belongs to whom: every row of every table whose values name the user id or one of `itemIds` (a
 * webhook event row also when its raw body in R2 names them — rejected deliveries carry no item id),
 * and every R2 object whose key or bytes name them. Rows and objects an earlier call saw are
 * remembered: one still there unchanged counts even when what identified it (its body) is gone. Only
 * non-zero counts are listed, by table name (and `r2_objects`), so a table the erasure does not know
 * about shows up as an unexpected key.
 */
export async function footprint(userId: string, itemIds: readonly string[]): Promise<Record<string, number>> {
  const needles = [userId, ...itemIds];
  const names = (text: string) => needles.some((needle) => text.includes(needle));
  const bodyOf = async (key: string) => (await (await bucket.get(key))?.text()) ?? "";
  const seen = seenBefore.get(userId) ?? { rows: new Map<string, Set<string>>(), keys: new Set<string>() };
  seenBefore.set(userId, seen);
  const counts: Record<string, number> = {};
  for (const table of await appTables()) {
    const { results } = await env.DB.prepare(`SELECT * FROM "${table}"`).all<Record<string, unknown>>();
    const seenRows = seen.rows.get(table) ?? new Set<string>();
    seen.rows.set(table, seenRows);
    let n = 0;
    for (const row of results) {
      const text = JSON.stringify(row);
      const r2Key = table === "webhook_events" && typeof row.r2_key === "string" && row.payload_purged_at === null ? row.r2_key : undefined;
      if (seenRows.has(text) || names(text) || (r2Key !== undefined && names(await bodyOf(r2Key)))) {
        seenRows.add(text);
        n++;
      }
    }
    if (n > 0) counts[table] = n;
  }
  let objects = 0;
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ cursor, limit: 1000 });
    for (const object of page.objects) {
      if (seen.keys.has(object.key) || names(object.key) || names(await bodyOf(object.key))) {
        seen.keys.add(object.key);
        objects++;
      }
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  if (objects > 0) counts.r2_objects = objects;
  return counts;
}

export const NOTHING = {};

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

/**
 * Whether the simulator (Pluggy) still has the item: 200 → yes, 404 → gone. Any other answer (or no
 * answer) is not evidence of deletion and fails the test.
 */
export async function existsAtPluggy(itemId: string): Promise<boolean> {
  const response = await fetch(`${SIM_URL}/__sim/items/${encodeURIComponent(itemId)}`);
  const text = await response.text();
  if (response.status === 200) return true;
  if (response.status === 404) return false;
  throw new Error(`existsAtPluggy(${itemId}): the simulator answered ${response.status}: ${text.slice(0, 200)}`);
}
