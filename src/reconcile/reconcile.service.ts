import { and, asc, eq, gte, inArray, isNotNull, isNull, lt, notInArray, or, sql } from "drizzle-orm";
import { chunk, type Db } from "../db/client.ts";
import { accounts, categorySyncJobs, erasureRequests, items, transactions } from "../db/schema.ts";
import { erasureCoversItem, forgetErasedItem } from "../erasure/erasure-guard.ts";
import { notFound } from "../platform/errors.ts";
import type { Logger } from "../platform/logger.ts";
import { counterIncrement } from "../platform/metrics.ts";
import type { TransactionQuery } from "../pluggy/pluggy.client.ts";
import type { PluggyAccount } from "../pluggy/pluggy.schemas.ts";
import type { EventsQueueMessage } from "../queues/messages.ts";
import { createCategoryLookup, type CategoryLookup } from "../sync/category-lookup.ts";
import { fetchItemOrGone, findLocalItem, resolveOwner, type SyncDeps } from "../sync/item-sync.service.ts";
import { deleteItemData, deleteTransactionsByPluggyIds, upsertAccounts, upsertItem, upsertTransactions, type LocalAccountRef, type TransactionOwner } from "../sync/upserts.ts";
import type { CatalogDeps } from "../platform/services.ts";

/*
 * Reconciliation: brings a local item, its accounts and transactions back in
 * line with Pluggy without any webhook, and counts what it had to change — the webhooks we effectively
 * missed. Fan-out (`queueReconciliation`, from the cron or the admin API) sends one `item.reconcile`
 * message per item; the consumer runs `reconcileItem`. Every write reuses the sync upserts, so a
 * reconciliation and a webhook racing on the same rows converge on the same state.
 */

/** Counter names in `metric_counters` (read back by GET /api/admin/metrics/ as the `reconciliation` block). */
export const RECONCILE_METRICS = {
  runs: "reconcile.runs",
  items: "reconcile.items",
  added: "reconcile.added",
  updated: "reconcile.updated",
  removed: "reconcile.removed",
} as const;

/** Days of booking dates compared both ways: inside this window a local row Pluggy no longer returns is removed. */
export const RECONCILE_WINDOW_DAYS = 30;
/** How far before the watermark the incremental read starts (Pluggy `createdAt`), in days. */
export const RECONCILE_OVERLAP_DAYS = 3;
/** Items the hourly cron queues per run, least recently reconciled first. */
export const RECONCILE_ITEMS_PER_CRON_RUN = 500;
/** The cron skips items reconciled more recently than this. */
export const RECONCILE_MIN_INTERVAL_HOURS = 6;
/** The cron spreads its messages over this many seconds, so Pluggy sees a trickle, not a burst. */
export const RECONCILE_CRON_SPREAD_SECONDS = 45 * 60;
/** Items one admin call queues at most (least recently reconciled first); call again for more. */
export const RECONCILE_ITEMS_PER_ADMIN_RUN = 5000;
/** `sendBatch` takes at most 100 messages. */
const MESSAGES_PER_SEND = 100;
/** Item statuses during which Pluggy may be rewriting the item's transactions: deletions wait for a later run. */
const UNSETTLED_STATUSES = new Set(["UPDATING", "MERGING"]);
const DAY_MS = 86_400_000;

export interface ReconcileCounts {
  /** Rows (item, accounts, transactions) that did not exist locally. */
  added: number;
  /** Rows whose stored fields actually changed. */
  updated: number;
  /** Rows Pluggy no longer has (a deleted item counts its row, its accounts and its transactions). */
  removed: number;
}

export interface ReconcileResult extends ReconcileCounts {
  itemId: string;
  /**
   * `reconciled`: compared and healed. `removed`: Pluggy answered 404, the item's local data is gone.
   * `unknown`: no local row (deleted meanwhile): nothing to compare. `skipped`: the item cannot be
   * attributed or its owner disagrees with Pluggy (nothing written). `erased`: the owner asked to be
   * erased, so the item was deleted instead.
   */
  outcome: "reconciled" | "removed" | "unknown" | "skipped" | "erased";
  /** The watermark after the run. */
  watermark: string | null;
  /** False when the item was mid-update at Pluggy, so the window comparison removed nothing this time. */
  comparedDeletions: boolean;
}

export interface ReconcileOptions {
  now?: Date;
  windowDays?: number;
  overlapDays?: number;
  /** Write the counts to metric_counters (default true). */
  recordMetrics?: boolean;
}

const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * Reconciles one item with Pluggy:
 * 1. `GET /items/{id}`; a 404 means Pluggy deleted it: its local data goes (counted as removed).
 * 2. Upsert the item and its accounts; local accounts Pluggy no longer lists go with their transactions.
 * 3. Per account, read the window (`dateFrom` = today − 30 days, one day of margin) and upsert it, then
 *    read what Pluggy ingested since the watermark minus the overlap (`createdAtFrom`; the two filters
 *    are mutually exclusive, hence two reads) and upsert what the window did not already cover. An item
 *    without a watermark gets one unfiltered read, which serves both.
 * 4. Within the window, remove local rows of the account that Pluggy did not return — only rows that
 *    existed before this run started (a row a webhook adds meanwhile is never mistaken for a stale one),
 *    and not while Pluggy is mid-update (`UPDATING`, `MERGING`).
 * 5. Advance the watermark and set `last_reconciled_at` — only when every step succeeded.
 * Counts (`added`, `updated`, `removed`) are written to metric_counters even when a step fails, since
 * the rows healed before the failure stay healed and a retry will not count them again. `PluggyError`s
 * propagate (the consumer retries transient ones).
 */
export async function reconcileItem(deps: SyncDeps, itemId: string, options: ReconcileOptions = {}): Promise<ReconcileResult> {
  const started = options.now ?? new Date();
  const logger = deps.logger.child({ item_id: itemId });
  const result: ReconcileResult = { itemId, outcome: "reconciled", watermark: null, comparedDeletions: false, added: 0, updated: 0, removed: 0 };
  let completed = false;
  try {
    await reconcileInto(result, { ...deps, logger }, itemId, started, options);
    completed = true;
    logger.info("item reconciled", {
      outcome: result.outcome,
      added: result.added,
      updated: result.updated,
      removed: result.removed,
      compared_deletions: result.comparedDeletions,
      watermark: result.watermark,
    });
    return result;
  } finally {
    if (options.recordMetrics !== false) await recordReconcileCounts(deps, result, completed, new Date());
  }
}

async function reconcileInto(result: ReconcileResult, deps: SyncDeps, itemId: string, started: Date, options: ReconcileOptions): Promise<void> {
  const { catalog: db, pluggy, logger } = deps;
  const local = await findLocalItem({ catalog: db }, itemId);
  if (!local) {
    result.outcome = "unknown";
    return;
  }
  result.watermark = local.transactionsWatermark;

  const item = await fetchItemOrGone(deps, itemId);
  if (!item) {
    const removed = await deleteItemData({ catalog: db }, itemId);
    result.removed += (removed.item ? 1 : 0) + removed.accounts + removed.transactions;
    result.outcome = "removed";
    result.watermark = null;
    return;
  }
  const owner = resolveOwner(item, local);
  if ("problem" in owner) {
    logger.warn(`reconciliation skipped: ${owner.problem}`, { pluggy_client_user_id: item.clientUserId ?? null, local_user_id: local.userId });
    result.outcome = "skipped";
    return;
  }
  if (await erasureCoversItem({ catalog: db }, owner.userId, item.createdAt)) {
    await forgetErasedItem(deps, itemId);
    result.outcome = "erased";
    return;
  }

  // Every row this run writes carries `stamp` as its updated_at (and created_at when inserted), which
  // is how an account or item that really changed is told from one the upsert left alone.
  const stamp = started.toISOString();
  const userId = owner.userId;
  await upsertItem({ catalog: db }, item, userId, stamp);
  const itemRow = await db.select({ updatedAt: items.updatedAt }).from(items).where(eq(items.id, itemId)).get();
  if (itemRow?.updatedAt === stamp) result.updated++;

  const pluggyAccounts = await pluggy.listAccounts(itemId);
  const accountMap = await reconcileAccounts(result, deps, { userId, itemId }, pluggyAccounts, stamp);

  const windowDays = options.windowDays ?? RECONCILE_WINDOW_DAYS;
  const windowStart = isoDay(started.getTime() - windowDays * DAY_MS);
  // One day of margin on the query: Pluggy may read dateFrom in its own time zone.
  const queryFrom = isoDay(started.getTime() - (windowDays + 1) * DAY_MS);
  const createdAtFrom = local.transactionsWatermark
    ? new Date(Date.parse(local.transactionsWatermark) - (options.overlapDays ?? RECONCILE_OVERLAP_DAYS) * DAY_MS).toISOString()
    : undefined;
  result.comparedDeletions = !UNSETTLED_STATUSES.has(item.status);
  if (!result.comparedDeletions) logger.info("item is mid-update at Pluggy; deletions wait for a later run", { status: item.status });

  const lookup = createCategoryLookup({ catalog: db });
  let maxCreatedAt: string | null = null;
  for (const pluggyAccountId of new Set(pluggyAccounts.map((a) => a.id))) {
    const localAccount = accountMap.get(pluggyAccountId);
    if (!localAccount) continue;
    const owned: TransactionOwner = { userId, itemId, accounts: accountMap };
    const seen = new Set<string>();
    const windowQuery: TransactionQuery = createdAtFrom ? { accountId: pluggyAccountId, dateFrom: queryFrom } : { accountId: pluggyAccountId };
    const windowRead = await readAndUpsert(deps, owned, windowQuery, lookup, seen, result);
    maxCreatedAt = later(maxCreatedAt, windowRead);
    if (createdAtFrom) {
      const recentRead = await readAndUpsert(deps, owned, { accountId: pluggyAccountId, createdAtFrom }, lookup, seen, result);
      maxCreatedAt = later(maxCreatedAt, recentRead);
    }
    if (result.comparedDeletions) {
      result.removed += await removeVanished({ catalog: db }, { itemId, accountId: localAccount.id }, windowStart, stamp, seen);
    }
  }

  const row = await db
    .update(items)
    .set({
      lastReconciledAt: stamp,
      ...(maxCreatedAt
        ? {
            transactionsWatermark: sql`CASE WHEN ${items.transactionsWatermark} IS NULL OR ${items.transactionsWatermark} < ${maxCreatedAt} THEN ${maxCreatedAt} ELSE ${items.transactionsWatermark} END`,
          }
        : {}),
    })
    .where(eq(items.id, itemId))
    .returning({ watermark: items.transactionsWatermark })
    .get();
  result.watermark = row?.watermark ?? result.watermark;
}

/** Upserts Pluggy's accounts, counts the ones added or changed, and removes local ones Pluggy no longer lists. */
async function reconcileAccounts(
  result: ReconcileResult,
  deps: SyncDeps,
  owner: { userId: string; itemId: string },
  pluggyAccounts: readonly PluggyAccount[],
  stamp: string,
): Promise<Map<string, LocalAccountRef>> {
  const { catalog: db } = deps;
  const map = await upsertAccounts({ catalog: db }, owner, pluggyAccounts, stamp);
  const rows = await db
    .select({ id: accounts.id, pluggyId: accounts.pluggyId, createdAt: accounts.createdAt, updatedAt: accounts.updatedAt })
    .from(accounts)
    .where(eq(accounts.itemId, owner.itemId));
  const listed = new Set(pluggyAccounts.map((a) => a.id));
  const dropped: string[] = [];
  for (const row of rows) {
    if (!listed.has(row.pluggyId)) dropped.push(row.id);
    else if (row.createdAt === stamp) result.added++;
    else if (row.updatedAt === stamp) result.updated++;
  }
  if (dropped.length > 0 && listed.size === 0) {
    // Pluggy listing none at all is more likely a passing state than a closed bank: keep them for now.
    deps.logger.warn("Pluggy lists no accounts for this item; local accounts kept", { local_accounts: dropped.length });
    return map;
  }
  for (const accountId of dropped) {
    const accountTransactions = db.select({ id: transactions.id }).from(transactions).where(eq(transactions.accountId, accountId));
    const [, removedTransactions, removedAccounts] = await db.batch([
      db.delete(categorySyncJobs).where(inArray(categorySyncJobs.transactionId, accountTransactions)),
      db.delete(transactions).where(eq(transactions.accountId, accountId)),
      db.delete(accounts).where(eq(accounts.id, accountId)),
    ]);
    result.removed += removedTransactions.meta.changes + removedAccounts.meta.changes;
  }
  for (const row of rows) if (!listed.has(row.pluggyId)) map.delete(row.pluggyId);
  return map;
}

/**
 * Reads one query page by page; writes each page (skipping rows an earlier read of this run already
 * wrote), adds its counts to `result` and its ids to `seen`. Returns the largest Pluggy `createdAt` read.
 */
async function readAndUpsert(
  deps: SyncDeps,
  owner: TransactionOwner,
  query: TransactionQuery,
  lookup: CategoryLookup,
  seen: Set<string>,
  result: ReconcileResult,
): Promise<string | null> {
  let maxCreatedAt: string | null = null;
  for await (const page of deps.pluggy.iterateTransactions(query)) {
    const fresh = page.filter((t) => !seen.has(t.id));
    for (const t of page) seen.add(t.id);
    if (fresh.length === 0) continue;
    const counts = await upsertTransactions(deps, owner, fresh, lookup);
    result.added += counts.added;
    result.updated += counts.updated;
    if (counts.maxCreatedAt && (maxCreatedAt === null || counts.maxCreatedAt > maxCreatedAt)) maxCreatedAt = counts.maxCreatedAt;
  }
  return maxCreatedAt;
}

function later(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}

/**
 * Removes the account's local rows booked inside the window that Pluggy did not return. Only rows
 * stored before this run began: a row written meanwhile (by this run or a webhook) is never a candidate.
 */
async function removeVanished({ catalog: db }: CatalogDeps, scope: { itemId: string; accountId: string }, windowStart: string, stamp: string, seen: ReadonlySet<string>): Promise<number> {
  const rows = await db
    .select({ pluggyId: transactions.pluggyId })
    .from(transactions)
    .where(
      and(
        eq(transactions.accountId, scope.accountId),
        eq(transactions.itemId, scope.itemId),
        gte(transactions.date, windowStart),
        isNotNull(transactions.pluggyId),
        lt(transactions.createdAt, stamp),
      ),
    );
  const vanished = rows.flatMap((row) => (row.pluggyId !== null && !seen.has(row.pluggyId) ? [row.pluggyId] : []));
  if (vanished.length === 0) return 0;
  return deleteTransactionsByPluggyIds({ catalog: db }, vanished, { itemId: scope.itemId });
}

/** Adds one item's counts to metric_counters (one batch); `items` only when the item finished. */
export async function recordReconcileCounts({ catalog: db }: CatalogDeps, counts: ReconcileCounts, completed: boolean, at: Date): Promise<void> {
  const statements = [
    ...(completed ? [counterIncrement({ catalog: db }, RECONCILE_METRICS.items, 1, at)] : []),
    ...(counts.added > 0 ? [counterIncrement({ catalog: db }, RECONCILE_METRICS.added, counts.added, at)] : []),
    ...(counts.updated > 0 ? [counterIncrement({ catalog: db }, RECONCILE_METRICS.updated, counts.updated, at)] : []),
    ...(counts.removed > 0 ? [counterIncrement({ catalog: db }, RECONCILE_METRICS.removed, counts.removed, at)] : []),
  ];
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
}

// ---------------------------------------------------------------------------------------------------
// Fan-out

export interface FanOutDeps {
  catalog: Db;
  eventsQueue: Queue<EventsQueueMessage>;
  logger: Logger;
}

export interface FanOutRequest {
  trigger: "cron" | "admin";
  /** One item (it must exist locally, else 404); omitted → the least recently reconciled items. */
  itemId?: string | undefined;
  /** At most this many items (default per trigger). */
  limit?: number;
  /** Skip items reconciled more recently than this many hours (cron default 6; admin default 0). */
  minIntervalHours?: number;
  /** Spread the messages' delivery over this many seconds (cron default 45 min; admin default 0). */
  spreadSeconds?: number;
  now?: Date;
}

/**
 * Queues reconciliations: one `item.reconcile` message per item, `sendBatch` in groups of 100, and
 * counts a run. Without an item id it picks the items least recently reconciled (never reconciled
 * first), skipping users whose erasure is pending, and at most `limit` of them, so a large tenant is
 * covered over several runs instead of overrunning one; the cron also spreads delivery over most of the
 * hour so Pluggy's per-minute limits see a trickle. Returns how many were queued.
 */
export async function queueReconciliation(deps: FanOutDeps, request: FanOutRequest): Promise<number> {
  const { catalog: db } = deps;
  const now = request.now ?? new Date();
  let itemIds: string[];
  if (request.itemId !== undefined) {
    const row = await db.select({ id: items.id }).from(items).where(eq(items.id, request.itemId)).get();
    if (!row) throw notFound("item");
    itemIds = [row.id];
  } else {
    const cron = request.trigger === "cron";
    const limit = request.limit ?? (cron ? RECONCILE_ITEMS_PER_CRON_RUN : RECONCILE_ITEMS_PER_ADMIN_RUN);
    const minIntervalHours = request.minIntervalHours ?? (cron ? RECONCILE_MIN_INTERVAL_HOURS : 0);
    const cutoff = new Date(now.getTime() - minIntervalHours * 3_600_000).toISOString();
    const pendingErasures = db.select({ userId: erasureRequests.userId }).from(erasureRequests).where(eq(erasureRequests.status, "queued"));
    const rows = await db
      .select({ id: items.id })
      .from(items)
      .where(
        and(
          notInArray(items.userId, pendingErasures),
          minIntervalHours > 0 ? or(isNull(items.lastReconciledAt), lt(items.lastReconciledAt, cutoff)) : undefined,
        ),
      )
      // NULLs sort first in SQLite: never-reconciled items lead.
      .orderBy(asc(items.lastReconciledAt), asc(items.id))
      .limit(limit);
    itemIds = rows.map((row) => row.id);
  }

  const spread = request.spreadSeconds ?? (request.trigger === "cron" ? RECONCILE_CRON_SPREAD_SECONDS : 0);
  const messages = itemIds.map((itemId, index) => ({
    body: { kind: "item.reconcile", itemId, trigger: request.trigger } satisfies EventsQueueMessage,
    ...(spread > 0 && itemIds.length > 1 ? { delaySeconds: Math.floor((index * spread) / itemIds.length) } : {}),
  }));
  for (const part of chunk(messages, MESSAGES_PER_SEND)) await deps.eventsQueue.sendBatch(part);
  await counterIncrement({ catalog: db }, RECONCILE_METRICS.runs, 1, now);
  deps.logger.info("reconciliation queued", { trigger: request.trigger, item_id: request.itemId ?? null, queued: itemIds.length });
  return itemIds.length;
}
