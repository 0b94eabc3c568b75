import { env } from "cloudflare:workers";
import { eq, sql } from "drizzle-orm";
import { applyAttention } from "../../src/catalog/attention.repo.ts";
import { claimItem } from "../../src/catalog/directory.repo.ts";
import { createDb } from "../../src/db/client.ts";
import { erasureRequests, webhookEvents } from "../../src/db/schema.ts";
import type { ErasureDeps } from "../../src/erasure/erasure.service.ts";
import { accountInputFromPluggy, itemInputFromPluggy, transactionInputFromPluggy } from "../../src/ledger/banking.inputs.ts";
import { categorySyncJobs, transactions } from "../../src/ledger/ledger.schema.ts";
import { ledgerFor } from "../../src/ledger/user-ledger.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createPluggyClient } from "../../src/pluggy/pluggy.client.ts";
import { eventArchiveKey, rejectedArchiveKey } from "../../src/webhooks/webhook-archive.ts";
import { inLedger } from "../helpers/ledger.ts";
import { SIM_URL, sim } from "../helpers/simulator.ts";

/*
 * Fixtures for erasure: a user with real (simulator-backed) items stored as a sync stores them — the
 * item's directory entry in the catalog, its item, accounts and transactions in the user's ledger —
 * category-sync jobs (one of them in the catalog's attention index), and the webhook traces a real
 * intake leaves: event rows in D1 and their raw bodies in R2 under `events/` and `rejected/`. Written
 * directly (not through sync or intake) so these tests depend only on the storage layout.
 */

export const db = createDb(env.DB);
export const bucket = env.WEBHOOK_ARCHIVE;
const ledger = (userId: string) => ledgerFor(env, userId);

const pluggyClient = (logger = createLogger({ test: "erasure" })) => createPluggyClient(env, { maxReadAttempts: 1, sleep: async () => {}, logger });

export function erasureDeps(): ErasureDeps {
  const logger = createLogger({ test: "erasure" });
  return { catalog: db, bucket, pluggy: pluggyClient(logger), logger, ledger };
}

export const syncDeps = () => {
  const logger = createLogger({ test: "erasure" });
  return { catalog: db, pluggy: pluggyClient(logger), logger, ledger };
};

/**
 * Stores a simulator item for `userId` as a sync does: its directory entry, then the item, its accounts
 * and every transaction Pluggy lists in the user's ledger (through the ledger's own write RPCs).
 */
export async function storeItem(userId: string, itemId: string): Promise<void> {
  const pluggy = pluggyClient();
  const now = new Date().toISOString();
  const claimed = await claimItem(db, { itemId, userId, nextReconcileAt: now, now });
  if (claimed.owner !== userId) throw new Error("fixture: the item is someone else's");
  await ledger(userId).applyItem(userId, itemInputFromPluggy(await pluggy.getItem(itemId)));
  const pluggyAccounts = await pluggy.listAccounts(itemId);
  const { accounts: local } = await ledger(userId).applyAccounts(itemId, pluggyAccounts.map(accountInputFromPluggy));
  for (const account of pluggyAccounts) {
    const rows = await pluggy.listTransactions({ accountId: account.id });
    await ledger(userId).applyTransactionsPage(itemId, local, rows.map((row) => transactionInputFromPluggy(row, null)));
  }
}

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

/** What `populatedUser(userId)` (two items) leaves of the user in every store, as `footprint` counts it. */
export const POPULATED_FOOTPRINT = {
  item_directory: 2,
  attention: 1,
  webhook_events: 7,
  r2_objects: 7,
  "ledger.items": 2,
  "ledger.accounts": 4,
  "ledger.transactions": 24,
  "ledger.category_sync_jobs": 2,
  "ledger.ledger_meta": 1,
};

/**
 * A user as a real one looks: `itemCount` items at the simulator, stored locally (`storeItem`), two
 * category-sync jobs (the failed one in the attention index), and webhook traces about each item (an accepted event, a rejected delivery naming the
 * item, and a rejected one without item id whose body mentions the user).
 */
export async function populatedUser(userId: string, itemCount = 2) {
  const itemIds: string[] = [];
  const keys: string[] = [];
  const eventIds: string[] = [];
  for (let i = 0; i < itemCount; i++) {
    const { item } = await sim.createItem({ clientUserId: userId, accounts: 2, transactionsPerAccount: 6 });
    await storeItem(userId, item.id);
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

  // Two category-sync jobs: one pending, one failed and published to the catalog's attention index.
  const twoTransactions = await inLedger(userId, (ledgerDb) => ledgerDb.select().from(transactions).limit(2).all());
  if (twoTransactions.length < 2) throw new Error("fixture: fewer than two transactions");
  const now = new Date().toISOString();
  const jobIds: string[] = [];
  for (const [i, transaction] of twoTransactions.entries()) {
    const failed = i === 1;
    const id = crypto.randomUUID();
    jobIds.push(id);
    await inLedger(userId, (ledgerDb) =>
      ledgerDb
        .insert(categorySyncJobs)
        .values({
          id,
          transactionId: transaction.id,
          pluggyTransactionId: transaction.pluggyId ?? "none",
          categoryId: crypto.randomUUID(),
          version: 1,
          status: failed ? "failed" : "pending",
          dueAt: now,
          pendingSince: failed ? null : now,
          attentionStatus: failed ? "failed" : null,
          createdAt: now,
          updatedAt: now,
        })
        .run(),
    );
    if (failed) await applyAttention(db, [{ kind: "category_sync", id, userId, status: "failed", since: now }]);
  }
  return { itemIds, keys, eventIds, jobIds };
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

/** Tables of a ledger that only record its schema version (no user data): never counted. */
const LEDGER_BOOKKEEPING = "name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != '__drizzle_migrations'";

/** Rows per table of the user's ledger, every table (all of a ledger's rows are its user's); non-zero only, as `ledger.<table>`. */
export async function ledgerFootprint(userId: string): Promise<Record<string, number>> {
  return inLedger(userId, (ledgerDb) => {
    const counts: Record<string, number> = {};
    const tables = ledgerDb.all<{ name: string }>(sql.raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND ${LEDGER_BOOKKEEPING} ORDER BY name`));
    for (const { name } of tables) {
      const n = ledgerDb.get<{ n: number }>(sql.raw(`SELECT count(*) AS n FROM "${name}"`)).n;
      if (n > 0) counts[`ledger.${name}`] = n;
    }
    return counts;
  });
}

/**
 * Everything this file's D1, R2 and the user's ledger hold about a user, found without the product's
 * own idea of what belongs to whom: every row of every D1 table whose values name the user id or one of
 * `itemIds` (the catalog's item directory and attention index included; a webhook event row also when
 * its raw body in R2 names them — rejected deliveries carry no item id), every row of every table of
 * the user's ledger (`ledgerFootprint`), and every R2 object whose key or bytes name them. D1 rows and
 * objects an earlier call saw are remembered: one still there unchanged counts even when what
 * identified it (its body) is gone. Only non-zero counts are listed, by table name (`ledger.<table>`
 * for the ledger, `r2_objects`), so a table the erasure does not know about shows up as an unexpected key.
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
  return { ...counts, ...(await ledgerFootprint(userId)) };
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
