import { and, asc, eq, gt, inArray, isNotNull, isNull, lt, min, notInArray } from "drizzle-orm";
import { attention } from "../catalog/attention.schema.ts";
import { itemsOfUser, removeItems } from "../catalog/directory.repo.ts";
import { itemDirectory } from "../catalog/directory.schema.ts";
import { chunk, type Db } from "../db/client.ts";
import { erasureRequests, webhookEvents } from "../db/schema.ts";
import type { Logger } from "../platform/logger.ts";
import { counterIncrement, incrementCounter } from "../platform/metrics.ts";
import { PluggyError } from "../pluggy/pluggy.errors.ts";
import { RetryableError } from "../queues/consumer.ts";
import type { EventsQueueMessage } from "../queues/messages.ts";
import type { CatalogDeps, Services } from "../platform/services.ts";

/*
 * Erasure: `DELETE /api/banking/me/` and the admin's `DELETE /api/admin/users/{id}/` record a
 * request and queue `user.erase`; the consumer deletes the user's items at Pluggy, then everything local:
 * the webhook events about their items (D1 rows and raw bodies in R2), their ledger (a Durable Object
 * holding items, accounts, transactions and category-sync jobs), and their catalog rows (item directory,
 * attention entries). Every step is idempotent and the directory entries go last, so a retry after a
 * partial failure still knows what to finish.
 */

export const ERASURE_METRICS = { requested: "erasure.requested", completed: "erasure.completed" } as const;

/** The second pass runs this long after the first, to catch webhooks about the items that arrive late. */
export const ERASURE_SWEEP_DELAY_SECONDS = 10 * 60;
/** A request still `queued` this long after it was made is queued again by the hourly job. */
export const ERASURE_REQUEUE_AFTER_MINUTES = 60;
/** How far before the request `item/*` deliveries are searched for items attributed to the user. */
const ATTRIBUTION_LOOKBACK_MS = 24 * 3_600_000;
/** Rejected bodies read per pass when attributing them by their bytes (bounded work per message). */
const MAX_ATTRIBUTION_READS = 500;
/** Items we do not hold whose owner one pass asks Pluggy for (`GET /items/{id}` each; bounded work per message). */
const MAX_ATTRIBUTION_LOOKUPS = 100;
/** Webhook rows handled per statement: ids in `IN (...)` stay under D1's 100 parameters. */
const IDS_PER_STATEMENT = 90;
/** Rows per webhook-event deletion round (R2 `delete` takes up to 1000 keys). */
const EVENTS_PER_ROUND = 500;

export interface ErasureRequestDeps {
  catalog: Db;
  eventsQueue: Queue<EventsQueueMessage>;
  logger: Logger;
}

/** A repeat of a request made less than this long ago changes nothing and queues nothing. */
export const ERASURE_REPEAT_WINDOW_MS = 10 * 60_000;

/**
 * Records (or renews) the user's erasure request as `queued` and queues `user.erase`; returns whether
 * it did. A repeat within ERASURE_REPEAT_WINDOW_MS of the last request is answered the same by the
 * API but changes nothing (one conditional upsert decides, so concurrent repeats cannot both queue).
 * Renewing later moves `requested_at` forward, so everything created until then is covered. The send
 * is best effort: the request row is the durable record and the hourly job queues it again if the
 * message never ran.
 */
export async function requestErasure(deps: ErasureRequestDeps, userId: string, now: Date = new Date()): Promise<{ queued: boolean }> {
  const at = now.toISOString();
  const repeatCutoff = new Date(now.getTime() - ERASURE_REPEAT_WINDOW_MS).toISOString();
  const recorded = await deps.catalog
    .insert(erasureRequests)
    .values({ userId, status: "queued", requestedAt: at, completedAt: null })
    .onConflictDoUpdate({
      target: erasureRequests.userId,
      set: { status: "queued", requestedAt: at, completedAt: null },
      setWhere: lt(erasureRequests.requestedAt, repeatCutoff),
    })
    .returning({ userId: erasureRequests.userId });
  if (recorded.length === 0) {
    deps.logger.info("erasure already requested within the last 10 minutes; nothing new queued", { user_id: userId });
    return { queued: false };
  }
  await incrementCounter(deps, ERASURE_METRICS.requested, 1, now);
  try {
    await deps.eventsQueue.send({ kind: "user.erase", userId });
  } catch (error) {
    deps.logger.error("could not queue an erasure; the hourly job will", { user_id: userId, error: error instanceof Error ? error.message : String(error) });
  }
  deps.logger.info("erasure requested", { user_id: userId });
  return { queued: true };
}

/** HOURLY_CRON: queues again every erasure still `queued` an hour after it was asked for (a lost send, a dead message). */
export async function requeueStaleErasures(deps: ErasureRequestDeps, now: Date = new Date(), limit = 100): Promise<number> {
  const cutoff = new Date(now.getTime() - ERASURE_REQUEUE_AFTER_MINUTES * 60_000).toISOString();
  const rows = await deps.catalog
    .select({ userId: erasureRequests.userId })
    .from(erasureRequests)
    .where(and(eq(erasureRequests.status, "queued"), lt(erasureRequests.requestedAt, cutoff)))
    .orderBy(asc(erasureRequests.requestedAt))
    .limit(limit);
  for (const part of chunk(rows, 100)) {
    await deps.eventsQueue.sendBatch(part.map((row) => ({ body: { kind: "user.erase", userId: row.userId } satisfies EventsQueueMessage })));
  }
  if (rows.length > 0) deps.logger.warn("erasures still queued after an hour were queued again", { count: rows.length });
  return rows.length;
}

export type ErasureDeps = Pick<Services, "catalog" | "bucket" | "pluggy" | "logger" | "ledger">;

export interface ErasureOptions {
  /** The delayed second pass: erases only the given items and what webhooks attribute to the user. */
  sweep?: boolean;
  /** Items an earlier pass erased (their rows are gone, but late webhooks about them may not be). */
  itemIds?: readonly string[];
  now?: Date;
}

export interface ErasureResult {
  /** Every item id this pass covered (for the sweep). */
  itemIds: string[];
  pluggy: { deleted: number; alreadyGone: number; refused: number };
  webhookEvents: number;
  webhookBodies: number;
  /** What the user's ledger held (pass one: the whole ledger; the sweep: the items in scope). */
  categorySyncJobs: number;
  transactions: number;
  accounts: number;
  items: number;
  /** Catalog rows: the items' directory entries and the user's attention entries. */
  directoryEntries: number;
  attentionEntries: number;
}

/**
 * Erases one user. Pass one (the `user.erase` message): every item the catalog's directory or the
 * user's ledger knows (the ledger also names items whose item row went first) — plus items we never
 * stored that webhooks name and Pluggy attributes to them (`GET /items/{id}` → `clientUserId`), created
 * before the request — is deleted at Pluggy (404 = already gone; a transient failure or our credentials
 * being refused → retry before anything local is touched; any other refusal is logged and the local
 * erasure goes on); then the webhook events about those items, rows and R2 bodies (`events/` and
 * attributable `rejected/` ones); then the user's whole ledger (`eraseAll`); then their catalog rows:
 * the items' directory entries and their attention entries; then the request is `done`. The directory
 * goes after the ledger, so a retry after a partial failure still finds every item.
 * The sweep pass (queued ten minutes later by the consumer) repeats this for the items pass one saw
 * and the ledger's items created up to the request — catching Pluggy's own `item/deleted` deliveries
 * and anything a racing writer put back — item by item, without touching a connection the user made
 * after asking. Safe to run any number of times.
 */
export async function eraseUser(deps: ErasureDeps, userId: string, options: ErasureOptions = {}): Promise<ErasureResult> {
  const { catalog: db } = deps;
  const ledger = deps.ledger(userId);
  const now = options.now ?? new Date();
  const logger = deps.logger.child({ user_id: userId, sweep: options.sweep === true });
  const request = await db.select().from(erasureRequests).where(eq(erasureRequests.userId, userId)).get();
  const requestedAt = request?.requestedAt ?? now.toISOString();
  const result: ErasureResult = {
    itemIds: [],
    pluggy: { deleted: 0, alreadyGone: 0, refused: 0 },
    webhookEvents: 0,
    webhookBodies: 0,
    categorySyncJobs: 0,
    transactions: 0,
    accounts: 0,
    items: 0,
    directoryEntries: 0,
    attentionEntries: 0,
  };

  // The sweep trusts only the ledger's creation times: a directory entry without them may be a connection
  // being made right now (a new consent), which it must not delete at Pluggy.
  const local = options.sweep
    ? await ledger.listItemIds({ createdUpTo: requestedAt })
    : [...(await itemsOfUser(db, userId)), ...(await ledger.listItemIds())];
  const known = new Set([...local, ...(options.itemIds ?? [])]);
  const attributed = await itemsAttributedByWebhooks(deps, userId, requestedAt, known);
  const scope = [...new Set([...known, ...attributed])];
  result.itemIds = scope;

  for (const itemId of scope) await deleteAtPluggy(deps, itemId, result, logger);

  const events = await eraseWebhookEvents(deps, userId, scope);
  result.webhookEvents = events.rows;
  result.webhookBodies = events.bodies;

  if (options.sweep) {
    const flagged = await ledger.attentionJobIds({ itemIds: scope });
    for (const itemId of scope) {
      const removed = await ledger.deleteItemData(itemId);
      result.items += removed.item ? 1 : 0;
      result.accounts += removed.accounts;
      result.transactions += removed.transactions;
    }
    result.attentionEntries = await removeAttentionEntries({ catalog: db }, flagged);
    result.directoryEntries = await removeDirectoryEntries({ catalog: db }, userId, scope);
    // A ledger left with no banking rows keeps only its owner record and counters: erase it whole too.
    await ledger.eraseIfEmpty();
  } else {
    // Found before the ledger goes: which attention entries are this ledger's.
    const flagged = await ledger.attentionJobIds();
    const held = await ledger.eraseAll();
    result.items = held.items;
    result.accounts = held.accounts;
    result.transactions = held.transactions;
    result.categorySyncJobs = held.categorySyncJobs;
    result.attentionEntries = (await removeAttentionEntries({ catalog: db }, flagged)) + (await removeUserAttention({ catalog: db }, userId));
    result.directoryEntries = await removeDirectoryEntries({ catalog: db }, userId, [...new Set([...scope, ...(await itemsOfUser(db, userId))])]);
    const at = now.toISOString();
    await db.batch([
      db
        .insert(erasureRequests)
        .values({ userId, status: "done", requestedAt, completedAt: at })
        .onConflictDoUpdate({ target: erasureRequests.userId, set: { status: "done", completedAt: at } }),
      counterIncrement({ catalog: db }, ERASURE_METRICS.completed, 1, now),
    ]);
  }
  logger.info(options.sweep ? "erasure sweep done" : "user erased", {
    items_in_scope: scope.length,
    pluggy_deleted: result.pluggy.deleted,
    pluggy_already_gone: result.pluggy.alreadyGone,
    pluggy_refused: result.pluggy.refused,
    webhook_events: result.webhookEvents,
    webhook_bodies: result.webhookBodies,
    category_sync_jobs: result.categorySyncJobs,
    transactions: result.transactions,
    accounts: result.accounts,
    items: result.items,
    directory_entries: result.directoryEntries,
    attention_entries: result.attentionEntries,
  });
  return result;
}

/** Removes the user's directory entries among `itemIds` (an entry of another user's item is left alone). */
async function removeDirectoryEntries({ catalog: db }: CatalogDeps, userId: string, itemIds: readonly string[]): Promise<number> {
  let removed = 0;
  for (const ids of chunk(itemIds, IDS_PER_STATEMENT)) {
    const rows = await db
      .select({ itemId: itemDirectory.itemId })
      .from(itemDirectory)
      .where(and(inArray(itemDirectory.itemId, ids), eq(itemDirectory.userId, userId)));
    const mine = rows.map((row) => row.itemId);
    await removeItems(db, mine);
    removed += mine.length;
  }
  return removed;
}

/** Takes category-sync jobs out of the attention index by primary key; returns how many entries went. */
async function removeAttentionEntries({ catalog: db }: CatalogDeps, jobIds: readonly string[]): Promise<number> {
  let removed = 0;
  for (const ids of chunk(jobIds, IDS_PER_STATEMENT)) {
    const result = await db.delete(attention).where(and(eq(attention.kind, "category_sync"), inArray(attention.id, ids)));
    removed += result.meta.changes;
  }
  return removed;
}

/**
 * Every attention entry still naming the user once their ledger is gone: one the ledger never recorded
 * as published (its alarm stopped between writing the catalog and flagging the job). `attention` is
 * small (only work that needs an operator); this reads it whole until it has an index on `user_id`.
 */
async function removeUserAttention({ catalog: db }: CatalogDeps, userId: string): Promise<number> {
  const result = await db.delete(attention).where(eq(attention.userId, userId));
  return result.meta.changes;
}

/**
 * Items the catalog's directory does not know (never stored) that webhooks received from a day before the request on name — e.g. one created
 * in the Connect widget moments before the request — and that Pluggy attributes to the user. Pluggy's
 * webhook bodies do not carry `clientUserId`, so the owner comes from `GET /items/{id}`: only an item
 * that still exists, is the user's and was created before the request is in scope. An item Pluggy no
 * longer has cannot be attributed to anyone; its bodies (ids only) age out with retention. Bounded: at
 * most MAX_ATTRIBUTION_LOOKUPS items per pass, oldest first.
 */
async function itemsAttributedByWebhooks(deps: ErasureDeps, userId: string, requestedAt: string, known: ReadonlySet<string>): Promise<string[]> {
  const { catalog: db } = deps;
  const since = new Date(Date.parse(requestedAt) - ATTRIBUTION_LOOKBACK_MS).toISOString();
  const firstSeen = min(webhookEvents.receivedAt);
  const rows = await db
    .select({ itemId: webhookEvents.itemId, firstSeen })
    .from(webhookEvents)
    .where(and(gt(webhookEvents.receivedAt, since), isNotNull(webhookEvents.itemId), notInArray(webhookEvents.itemId, db.select({ id: itemDirectory.itemId }).from(itemDirectory))))
    .groupBy(webhookEvents.itemId)
    .orderBy(asc(firstSeen))
    .limit(MAX_ATTRIBUTION_LOOKUPS + known.size);
  const attributed: string[] = [];
  let lookups = 0;
  for (const row of rows) {
    if (!row.itemId || known.has(row.itemId)) continue;
    if (++lookups > MAX_ATTRIBUTION_LOOKUPS) break;
    let item;
    try {
      item = await deps.pluggy.getItem(row.itemId);
    } catch (error) {
      if (error instanceof PluggyError && error.status === 404) continue; // gone: Pluggy can no longer say whose it was
      const retryable = asRetryable(error);
      if (retryable !== error || !(error instanceof PluggyError)) throw retryable;
      deps.logger.warn("could not confirm the owner of an item webhooks name; left alone", { item_id: row.itemId, pluggy_status: error.status });
      continue;
    }
    if (item.clientUserId === userId && Date.parse(item.createdAt ?? requestedAt) <= Date.parse(requestedAt)) attributed.push(row.itemId);
  }
  return attributed;
}

/** A transient Pluggy failure, or Pluggy refusing our own credentials, is worth retrying; the rest is not. */
function asRetryable(error: unknown): unknown {
  if (!(error instanceof PluggyError)) return error;
  if (error.transient || error.status === 401) {
    return new RetryableError(`Pluggy failed during erasure: ${error.reason}`, {
      minDelaySeconds: error.status === 429 ? (error.retryAfterSeconds ?? 0) : 0,
      cause: error,
    });
  }
  return error;
}

async function deleteAtPluggy(deps: ErasureDeps, itemId: string, result: ErasureResult, logger: Logger): Promise<void> {
  try {
    await deps.pluggy.deleteItem(itemId);
    result.pluggy.deleted++;
  } catch (error) {
    if (error instanceof PluggyError && error.status === 404) {
      result.pluggy.alreadyGone++;
      return;
    }
    const retryable = asRetryable(error);
    if (retryable !== error || !(error instanceof PluggyError)) throw retryable;
    // A refusal that repeating cannot change (400, 403...): the local erasure must still happen.
    result.pluggy.refused++;
    logger.error("Pluggy refused to delete an item during erasure; erasing locally anyway", { item_id: itemId, pluggy_status: error.status, pluggy_code: error.codeDescription ?? null });
  }
}

/**
 * Deletes the webhook events about the items — R2 bodies first, then the rows, so a crash in between
 * only repeats a harmless delete — and rejected deliveries attributable to the user: those naming one
 * of the items, and those without an item whose body mentions the user id or one of the items.
 */
async function eraseWebhookEvents(deps: ErasureDeps, userId: string, itemIds: readonly string[]): Promise<{ rows: number; bodies: number }> {
  const { catalog: db, bucket } = deps;
  const totals = { rows: 0, bodies: 0 };
  const remove = async (rows: { eventId: string; r2Key: string; payloadPurgedAt: string | null }[]) => {
    const keys = [...new Set(rows.filter((row) => row.payloadPurgedAt === null).map((row) => row.r2Key))];
    if (keys.length > 0) await bucket.delete(keys);
    totals.bodies += keys.length;
    const statements = chunk(
      rows.map((row) => row.eventId),
      IDS_PER_STATEMENT,
    ).map((ids) => db.delete(webhookEvents).where(inArray(webhookEvents.eventId, ids)));
    const [first, ...rest] = statements;
    if (first) {
      const results = await db.batch([first, ...rest]);
      totals.rows += results.reduce((sum, r) => sum + r.meta.changes, 0);
    }
  };
  const columns = { eventId: webhookEvents.eventId, r2Key: webhookEvents.r2Key, payloadPurgedAt: webhookEvents.payloadPurgedAt };

  for (const ids of chunk(itemIds, IDS_PER_STATEMENT)) {
    for (;;) {
      const rows = await db.select(columns).from(webhookEvents).where(inArray(webhookEvents.itemId, ids)).limit(EVENTS_PER_ROUND);
      if (rows.length === 0) break;
      await remove(rows);
    }
  }

  // Rejected deliveries without an item id: attribute them by their bytes (bounded, keyset by event id).
  const needles = [JSON.stringify(userId), ...itemIds];
  let after = "";
  for (let scanned = 0; scanned < MAX_ATTRIBUTION_READS; ) {
    const rows = await db
      .select(columns)
      .from(webhookEvents)
      .where(and(eq(webhookEvents.status, "rejected"), isNull(webhookEvents.itemId), isNull(webhookEvents.payloadPurgedAt), gt(webhookEvents.eventId, after)))
      .orderBy(asc(webhookEvents.eventId))
      .limit(100);
    if (rows.length === 0) break;
    const matching = [];
    for (const row of rows) {
      scanned++;
      const object = await bucket.get(row.r2Key);
      if (!object) continue;
      const text = await object.text();
      if (needles.some((needle) => text.includes(needle))) matching.push(row);
    }
    if (matching.length > 0) await remove(matching);
    after = rows[rows.length - 1]?.eventId ?? after;
  }
  return totals;
}
