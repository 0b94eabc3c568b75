import { count, eq, inArray, lte, and } from "drizzle-orm";
import { itemsDueForReconcile, ownerOfItem, scheduleReconcile } from "../catalog/directory.repo.ts";
import { itemDirectory } from "../catalog/directory.schema.ts";
import { chunk } from "../db/client.ts";
import { erasureRequests } from "../db/schema.ts";
import type { LocalAccounts } from "../ledger/banking.inputs.ts";
import { notFound } from "../platform/errors.ts";
import { counterIncrement } from "../platform/metrics.ts";
import type { CatalogDeps, Services } from "../platform/services.ts";
import type { TransactionQuery } from "../pluggy/pluggy.client.ts";
import type { EventsQueueMessage } from "../queues/messages.ts";
import { createCategoryLookup, type CategoryLookup } from "../sync/category-lookup.ts";
import { attributeItem, fetchItemOrGone, removeItemData, type SyncDeps } from "../sync/item-sync.service.ts";
import { writeAccounts, writeItem, writeTransactionsPage, type Ledger } from "../sync/upserts.ts";
import { nextReconcileAfter } from "./reconcile.config.ts";

/*
 * Reconciliation: brings an item, its accounts and transactions in the owner's ledger back in line with
 * Pluggy without any webhook, and counts what it had to change — the webhooks we effectively missed.
 * Fan-out (`queueReconciliation`, from the cron or the admin API) sends one `item.reconcile` message per
 * item; the consumer runs `reconcileItem`. Every write goes through the same ledger writes as the sync
 * (src/sync/upserts.ts), so a reconciliation and a webhook racing on the same rows converge on the same
 * state. When an item is due is the catalog's item directory (`next_reconcile_at`, indexed): the cron
 * reads only what is due, and a finished run moves the item's next time forward by the minimum interval.
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
/**
 * Most items one cron run queues. A run queues every due item up to this bound (most overdue first); the
 * rest stay due for the next runs, and the run's log line says how many. At the 6-hour interval this
 * keeps up with 30,000 items; beyond that the backlog shows in that line.
 */
export const RECONCILE_MAX_ITEMS_PER_CRON_RUN = 5000;
/** The cron spreads its messages over this many seconds, so Pluggy sees a trickle, not a burst. */
export const RECONCILE_CRON_SPREAD_SECONDS = 45 * 60;
/**
 * What the cron queues is leased: its `next_reconcile_at` moves this far out as it is queued, so the next
 * hourly run does not queue it again while its (delayed or retried) message is pending. A finished run
 * then sets it to the minimum interval after the run; a run that never finishes leaves the lease, and
 * the item is due again when it expires.
 */
export const RECONCILE_LEASE_HOURS = 2;
/** Items one admin call queues at most (most overdue first); call again for more. */
export const RECONCILE_ITEMS_PER_ADMIN_RUN = 5000;
/** `sendBatch` takes at most 100 messages. */
const MESSAGES_PER_SEND = 100;
/** Item statuses during which Pluggy may be rewriting the item's transactions: deletions wait for a later run. */
const UNSETTLED_STATUSES = new Set(["UPDATING", "MERGING"]);
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

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
   * `reconciled`: compared and healed. `removed`: Pluggy answered 404, the item's data is gone from the
   * owner's ledger and the item from the directory. `unknown`: the directory does not know the item, or
   * its owner's ledger does not hold it (deleted meanwhile): nothing to compare. `skipped`: the directory's
   * owner disagrees with Pluggy's `clientUserId` (nothing written). `erased`: the owner asked to be
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
 * Reconciles one item with Pluggy, in the ledger of the owner the item directory names:
 * 1. `GET /items/{id}`; a 404 means Pluggy deleted it: its data goes from the ledger and the item from
 *    the directory (counted as removed).
 * 2. Upsert the item and its accounts; local accounts Pluggy no longer lists go with their transactions.
 * 3. Per account, read the window (`dateFrom` = today − 30 days, one day of margin) and upsert it, then
 *    read what Pluggy ingested since the watermark minus the overlap (`createdAtFrom`; the two filters
 *    are mutually exclusive, hence two reads) and upsert what the window did not already cover. An item
 *    without a watermark gets one unfiltered read, which serves both.
 * 4. Within the window, remove local rows of the account that Pluggy did not return — only rows that
 *    existed before this run started (a row a webhook adds meanwhile is never mistaken for a stale one),
 *    and not while Pluggy is mid-update (`UPDATING`, `MERGING`).
 * 5. Advance the watermark and set `last_reconciled_at` — only when every step succeeded.
 * 6. Move the item's `next_reconcile_at` in the directory to the minimum interval after the run — for
 *    every finished run (also `unknown` and `skipped`, so such an item is not picked again every hour);
 *    a failed run leaves it (the cron's lease decides when the item is due again).
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
    const { listed } = await reconcileInto(result, { ...deps, logger }, itemId, started, options);
    if (listed) await scheduleReconcile(deps.catalog, [itemId], nextReconcileAfter(started));
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

/** Fills `result`; `listed`: the item is still in the directory afterwards (so its next run is scheduled). */
async function reconcileInto(result: ReconcileResult, deps: SyncDeps, itemId: string, started: Date, options: ReconcileOptions): Promise<{ listed: boolean }> {
  const { logger } = deps;
  const userId = await ownerOfItem(deps.catalog, itemId);
  if (userId === undefined) {
    result.outcome = "unknown";
    return { listed: false };
  }
  const ledger = deps.ledger(userId);
  const local = await ledger.getItem(itemId);
  if (!local) {
    logger.warn("reconciliation: the item directory names an owner whose ledger does not hold the item; nothing to compare", { user_id: userId });
    result.outcome = "unknown";
    return { listed: true };
  }
  result.watermark = local.transactionsWatermark;

  const item = await fetchItemOrGone(deps, itemId);
  if (!item) {
    const removed = await removeItemData(deps, itemId, userId);
    result.removed += (removed.item ? 1 : 0) + removed.accounts + removed.transactions;
    result.outcome = "removed";
    result.watermark = null;
    return { listed: false };
  }
  const attribution = await attributeItem(deps, item);
  if (attribution.outcome === "erased") {
    result.outcome = "erased";
    return { listed: false };
  }
  if (attribution.outcome !== "owned" || attribution.userId !== userId) {
    logger.warn(`reconciliation skipped: ${attribution.outcome}`, { pluggy_client_user_id: item.clientUserId ?? null, directory_user_id: userId });
    result.outcome = "skipped";
    return { listed: true };
  }

  // Rows this run inserts carry a created_at at or after `stamp`, which is how removeVanished tells a
  // row written meanwhile (by this run or a webhook) from a stale one.
  const stamp = started.toISOString();
  const itemWrite = await writeItem(ledger, userId, item, stamp);
  if (itemWrite.created) result.added++;
  else if (itemWrite.updated) result.updated++;

  const pluggyAccounts = await deps.pluggy.listAccounts(itemId);
  const accountWrite = await writeAccounts(ledger, itemId, pluggyAccounts, { dropUnlisted: true, now: stamp });
  result.added += accountWrite.added;
  result.updated += accountWrite.updated;
  result.removed += accountWrite.removed.accounts + accountWrite.removed.transactions;
  if (accountWrite.unlistedKept > 0) {
    // Pluggy listing none at all is more likely a passing state than a closed bank: kept for now.
    logger.warn("Pluggy lists no accounts for this item; local accounts kept", { local_accounts: accountWrite.unlistedKept });
  }
  const accounts = accountWrite.accounts;

  const windowDays = options.windowDays ?? RECONCILE_WINDOW_DAYS;
  const windowStart = isoDay(started.getTime() - windowDays * DAY_MS);
  // One day of margin on the query: Pluggy may read dateFrom in its own time zone.
  const queryFrom = isoDay(started.getTime() - (windowDays + 1) * DAY_MS);
  const createdAtFrom = local.transactionsWatermark
    ? new Date(Date.parse(local.transactionsWatermark) - (options.overlapDays ?? RECONCILE_OVERLAP_DAYS) * DAY_MS).toISOString()
    : undefined;
  result.comparedDeletions = !UNSETTLED_STATUSES.has(item.status);
  if (!result.comparedDeletions) logger.info("item is mid-update at Pluggy; deletions wait for a later run", { status: item.status });

  const lookup = createCategoryLookup(deps);
  const target = { itemId, accounts };
  let maxCreatedAt: string | null = null;
  for (const pluggyAccountId of new Set(pluggyAccounts.map((a) => a.id))) {
    const localAccount = Object.hasOwn(accounts, pluggyAccountId) ? accounts[pluggyAccountId] : undefined;
    if (!localAccount) continue;
    const seen = new Set<string>();
    const windowQuery: TransactionQuery = createdAtFrom ? { accountId: pluggyAccountId, dateFrom: queryFrom } : { accountId: pluggyAccountId };
    const windowRead = await readAndWrite(deps, ledger, target, windowQuery, lookup, seen, result);
    maxCreatedAt = later(maxCreatedAt, windowRead);
    if (createdAtFrom) {
      const recentRead = await readAndWrite(deps, ledger, target, { accountId: pluggyAccountId, createdAtFrom }, lookup, seen, result);
      maxCreatedAt = later(maxCreatedAt, recentRead);
    }
    if (result.comparedDeletions) {
      result.removed += await ledger.removeVanished({ itemId, accountId: localAccount.id, windowStart, storedBefore: stamp, seen: [...seen] });
    }
  }

  result.watermark = (await ledger.markReconciled(itemId, stamp, maxCreatedAt)) ?? result.watermark;
  return { listed: true };
}

/**
 * Reads one query page by page; writes each page (skipping rows an earlier read of this run already
 * wrote), adds its counts to `result` and its ids to `seen`. Returns the largest Pluggy `createdAt` read.
 */
async function readAndWrite(
  deps: SyncDeps,
  ledger: Ledger,
  target: { itemId: string; accounts: LocalAccounts },
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
    const counts = await writeTransactionsPage(ledger, target, fresh, lookup);
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

export type FanOutDeps = Pick<Services, "catalog" | "eventsQueue" | "logger">;

export interface FanOutRequest {
  trigger: "cron" | "admin";
  /** One item (the item directory must know it, else 404); omitted → the items the trigger picks. */
  itemId?: string | undefined;
  /** At most this many items (default per trigger). */
  limit?: number;
  /** Spread the messages' delivery over this many seconds (cron default 45 min; admin default 0). */
  spreadSeconds?: number;
  now?: Date;
}

/** Later than any `next_reconcile_at`: "due by then" is every item. */
const END_OF_TIME = "9999-12-31T23:59:59.999Z";

/**
 * Queues reconciliations: one `item.reconcile` message per item, `sendBatch` in groups of 100, and counts
 * a run. Which items, from the item directory's indexed `next_reconcile_at`:
 * - cron: every item due now (most overdue first), up to RECONCILE_MAX_ITEMS_PER_CRON_RUN, leased for
 *   RECONCILE_LEASE_HOURS before they are sent, delivery spread over most of the hour; how many remain
 *   due beyond the bound is logged. The cost is a range of the index: it grows with what is due, not with
 *   how many items exist.
 * - admin without an item: every item, most overdue first, at most RECONCILE_ITEMS_PER_ADMIN_RUN, at once.
 * Users whose erasure is pending are skipped. Returns how many were queued.
 */
export async function queueReconciliation(deps: FanOutDeps, request: FanOutRequest): Promise<number> {
  const { catalog: db } = deps;
  const now = request.now ?? new Date();
  const cron = request.trigger === "cron";
  let itemIds: string[];
  let skipped = 0;
  let remainingDue = 0;
  if (request.itemId !== undefined) {
    if ((await ownerOfItem(db, request.itemId)) === undefined) throw notFound("item");
    itemIds = [request.itemId];
  } else {
    const limit = request.limit ?? (cron ? RECONCILE_MAX_ITEMS_PER_CRON_RUN : RECONCILE_ITEMS_PER_ADMIN_RUN);
    const picked = limit > 0 ? await itemsDueForReconcile(db, cron ? now.toISOString() : END_OF_TIME, limit) : [];
    if (cron) {
      if (picked.length > 0) await scheduleReconcile(db, picked.map((p) => p.itemId), new Date(now.getTime() + RECONCILE_LEASE_HOURS * HOUR_MS).toISOString());
      // Picked ones are leased by now, so what still counts as due is what this run left.
      if (picked.length >= limit) remainingDue = await countDue(deps, now);
    }
    const erasing = await usersBeingErased(deps, [...new Set(picked.map((p) => p.userId))]);
    itemIds = picked.filter((p) => !erasing.has(p.userId)).map((p) => p.itemId);
    skipped = picked.length - itemIds.length;
  }

  const spread = request.spreadSeconds ?? (cron ? RECONCILE_CRON_SPREAD_SECONDS : 0);
  const messages = itemIds.map((itemId, index) => ({
    body: { kind: "item.reconcile", itemId, trigger: request.trigger } satisfies EventsQueueMessage,
    ...(spread > 0 && itemIds.length > 1 ? { delaySeconds: Math.floor((index * spread) / itemIds.length) } : {}),
  }));
  for (const part of chunk(messages, MESSAGES_PER_SEND)) await deps.eventsQueue.sendBatch(part);
  await counterIncrement({ catalog: db }, RECONCILE_METRICS.runs, 1, now);
  deps.logger.info("reconciliation queued", {
    trigger: request.trigger,
    item_id: request.itemId ?? null,
    queued: itemIds.length,
    skipped_erasing: skipped,
    remaining_due: remainingDue,
  });
  if (remainingDue > 0) {
    deps.logger.warn("more items are due for reconciliation than one run queues; the rest wait for the next runs", {
      queued: itemIds.length,
      remaining_due: remainingDue,
      max_per_run: request.limit ?? RECONCILE_MAX_ITEMS_PER_CRON_RUN,
    });
  }
  return itemIds.length;
}

/** How many items are due at `now` (a count over the `next_reconcile_at` index range). */
async function countDue({ catalog: db }: CatalogDeps, now: Date): Promise<number> {
  const row = await db.select({ n: count() }).from(itemDirectory).where(lte(itemDirectory.nextReconcileAt, now.toISOString())).get();
  return row?.n ?? 0;
}

/** Which of `userIds` have an erasure pending (their items are left alone: the erasure removes them). */
async function usersBeingErased({ catalog: db }: CatalogDeps, userIds: readonly string[]): Promise<Set<string>> {
  const erasing = new Set<string>();
  for (const ids of chunk(userIds, 90)) {
    const rows = await db
      .select({ userId: erasureRequests.userId })
      .from(erasureRequests)
      .where(and(inArray(erasureRequests.userId, ids), eq(erasureRequests.status, "queued")));
    for (const row of rows) erasing.add(row.userId);
  }
  return erasing;
}
