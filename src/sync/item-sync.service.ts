import { claimItem, ownerOfItem, removeItems } from "../catalog/directory.repo.ts";
import { erasureCoversItem, forgetErasedItem } from "../erasure/erasure-guard.ts";
import type { LocalAccounts } from "../ledger/banking.inputs.ts";
import type { ItemRemoval } from "../ledger/banking.repo.ts";
import { nowIso } from "../platform/ids.ts";
import type { Services } from "../platform/services.ts";
import { PluggyError } from "../pluggy/pluggy.errors.ts";
import type { PluggyItem } from "../pluggy/pluggy.schemas.ts";
import { nextReconcileAfter } from "../reconcile/reconcile.config.ts";
import { createCategoryLookup, type CategoryLookup } from "./category-lookup.ts";
import { writeAccounts, writeItem, writeTransactionsPage, type Ledger } from "./upserts.ts";

/**
 * What every sync service needs: the catalog (the item directory, category mappings, erasure requests),
 * Pluggy, a logger, and the ledgers the item directory points at. Plain dependencies, no Hono.
 */
export type SyncDeps = Pick<Services, "catalog" | "pluggy" | "logger" | "ledger">;

export interface SyncItemOptions {
  /** Read every transaction Pluggy has, ignoring the watermark (also implied when the item is new to us). */
  full?: boolean;
  /** How far before the watermark an incremental sync starts reading (Pluggy `createdAt`), in minutes. Default 60. */
  overlapMinutes?: number;
}

export interface ItemSyncCounts {
  accounts: number;
  added: number;
  updated: number;
  /** Always 0: a sync never deletes (reconciliation removes rows Pluggy no longer returns). */
  removed: number;
}

export interface ItemSyncResult extends ItemSyncCounts {
  itemId: string;
  /**
   * `synced`: item, accounts and transactions written. `gone`: Pluggy answered 404 for the item (nothing
   * written; the caller decides whether to delete). `unattributed`: the item has no `clientUserId` and the
   * item directory names no owner. `owner_mismatch`: the directory's owner is not Pluggy's `clientUserId`.
   * `erased`: the owner asked to be erased after the item was created, so it was deleted instead (src/erasure).
   */
  outcome: "synced" | "gone" | "unattributed" | "owner_mismatch" | "erased";
  /** `full` read everything; `incremental` read from the watermark minus the overlap; `none` read nothing. */
  mode: "full" | "incremental" | "none";
  userId: string | null;
  /** The watermark after the sync. */
  watermark: string | null;
  /** Transactions skipped because Pluggy did not list their account. */
  skipped: number;
}

const DEFAULT_OVERLAP_MINUTES = 60;

/** GET /items/{id}, with Pluggy's 404 as `undefined` (the item is gone); other errors propagate. */
export async function fetchItemOrGone({ pluggy }: Pick<Services, "pluggy">, itemId: string): Promise<PluggyItem | undefined> {
  try {
    return await pluggy.getItem(itemId);
  } catch (error) {
    if (error instanceof PluggyError && error.status === 404) return undefined;
    throw error;
  }
}

/**
 * Who owns a Pluggy item: its `clientUserId`, else the owner the item directory names; the two
 * disagreeing is a mismatch, neither existing leaves the item unattributed.
 */
export function resolveOwner(item: PluggyItem, directoryOwner: string | undefined): { userId: string } | { problem: "unattributed" | "owner_mismatch" } {
  const claimed = item.clientUserId ?? undefined;
  if (directoryOwner !== undefined && claimed && directoryOwner !== claimed) return { problem: "owner_mismatch" };
  const userId = claimed ?? directoryOwner;
  return userId ? { userId } : { problem: "unattributed" };
}

/** Whose ledger a Pluggy item's data goes to, or why none. `userId` is the owner on record, if any. */
export type Attribution = { outcome: "owned"; userId: string } | { outcome: "unattributed" | "owner_mismatch" | "erased"; userId: string | null };

/**
 * Attributes a Pluggy item (fresh from `GET /items/{id}`) before anything is written: `resolveOwner`
 * against the item directory, then the erasure guard (an item of a user who asked to be erased is deleted
 * at Pluggy and here instead), then — for an item the directory does not know yet — its entry, claimed
 * for the owner with its first reconciliation one interval away. A claim lost to a concurrent writer for
 * another user is a mismatch: the directory's first owner keeps the item, and nothing is written.
 */
export async function attributeItem(deps: SyncDeps, item: PluggyItem): Promise<Attribution> {
  const listed = await ownerOfItem(deps.catalog, item.id);
  const owner = resolveOwner(item, listed);
  if ("problem" in owner) return { outcome: owner.problem, userId: listed ?? null };
  if (await erasureCoversItem(deps, owner.userId, item.createdAt)) {
    await forgetErasedItem(deps, item.id);
    await removeItemData(deps, item.id, owner.userId);
    return { outcome: "erased", userId: owner.userId };
  }
  if (listed === undefined) {
    const now = nowIso();
    const claimed = await claimItem(deps.catalog, { itemId: item.id, userId: owner.userId, nextReconcileAt: nextReconcileAfter(now), now });
    if (claimed.owner !== owner.userId) return { outcome: "owner_mismatch", userId: claimed.owner };
  }
  return { outcome: "owned", userId: owner.userId };
}

const NOTHING_REMOVED: ItemRemoval = { item: false, accounts: 0, transactions: 0 };

/**
 * Removes an item Pluggy no longer has (or an erased user's) from its owner's ledger — the item, its
 * accounts, transactions and their category-sync jobs — and from the item directory. The owner is
 * `userId` when the caller knows it, else the directory's; an item the directory does not know has no
 * ledger to clean. Idempotent: a repeat finds nothing.
 */
export async function removeItemData(deps: Pick<Services, "catalog" | "ledger">, itemId: string, userId?: string): Promise<ItemRemoval> {
  const owner = userId ?? (await ownerOfItem(deps.catalog, itemId));
  if (owner === undefined) return NOTHING_REMOVED;
  const removed = await deps.ledger(owner).deleteItemData(itemId);
  await removeItems(deps.catalog, [itemId]);
  return removed;
}

/**
 * Brings one item in line with Pluggy: re-reads the item (never trusting a webhook's copy), attributes
 * it (`attributeItem`: Pluggy's `clientUserId` checked against the item directory), refreshes the item
 * and its accounts in the owner's ledger, then reads transactions per account through
 * `GET /v2/transactions` following `next`, writing each page as it arrives so memory stays flat for
 * items with tens of thousands of rows. The first sync of an item (or `options.full`) reads everything;
 * later ones read from the watermark minus an overlap, because Pluggy's `createdAt` order is not a
 * commit order. The watermark (largest Pluggy `createdAt` written) only moves forward and only after
 * every account succeeded, so a failed sync is simply repeated. Safe to run twice or concurrently:
 * every write is an idempotent upsert. Pluggy errors propagate (the caller chooses retry or failure),
 * except a 404 on the item, which is reported as `gone`.
 */
export async function syncItem(deps: SyncDeps, itemId: string, options: SyncItemOptions = {}): Promise<ItemSyncResult> {
  const logger = deps.logger.child({ item_id: itemId });
  const result: ItemSyncResult = { itemId, outcome: "synced", mode: "none", userId: null, watermark: null, accounts: 0, added: 0, updated: 0, removed: 0, skipped: 0 };

  const item = await fetchItemOrGone(deps, itemId);
  if (!item) {
    const owner = await ownerOfItem(deps.catalog, itemId);
    const local = owner === undefined ? null : await deps.ledger(owner).getItem(itemId);
    logger.warn("item sync: Pluggy no longer has this item", { known_locally: local !== null });
    return { ...result, outcome: "gone", userId: owner ?? null, watermark: local?.transactionsWatermark ?? null };
  }
  const attribution = await attributeItem(deps, item);
  if (attribution.outcome !== "owned") {
    if (attribution.outcome !== "erased") {
      logger.warn(
        attribution.outcome === "unattributed"
          ? "item sync skipped: the item has no clientUserId and no owner in the item directory, so it cannot be attributed"
          : "item sync skipped: Pluggy's clientUserId differs from the item's owner in the item directory",
        { pluggy_client_user_id: item.clientUserId ?? null, directory_user_id: attribution.userId },
      );
    }
    return { ...result, outcome: attribution.outcome, userId: attribution.userId };
  }
  const userId = attribution.userId;
  result.userId = userId;
  const ledger = deps.ledger(userId);

  const now = nowIso();
  const local = await ledger.getItem(itemId);
  await writeItem(ledger, userId, item, now);
  const pluggyAccounts = await deps.pluggy.listAccounts(itemId);
  const { accounts } = await writeAccounts(ledger, itemId, pluggyAccounts, { now });
  result.accounts = pluggyAccounts.length;

  const watermark = local?.transactionsWatermark ?? null;
  const full = options.full === true || watermark === null;
  result.mode = full ? "full" : "incremental";
  const createdAtFrom = full || watermark === null ? undefined : minusMinutes(watermark, options.overlapMinutes ?? DEFAULT_OVERLAP_MINUTES);

  const lookup = createCategoryLookup(deps);
  let maxCreatedAt: string | null = null;
  // Only accounts Pluggy lists today: a local account it dropped has nothing to read.
  for (const pluggyAccountId of new Set(pluggyAccounts.map((a) => a.id))) {
    const counts = await syncAccountTransactions(deps, ledger, { itemId, accounts }, pluggyAccountId, createdAtFrom, lookup);
    result.added += counts.added;
    result.updated += counts.updated;
    result.skipped += counts.skipped;
    if (counts.maxCreatedAt && (maxCreatedAt === null || counts.maxCreatedAt > maxCreatedAt)) maxCreatedAt = counts.maxCreatedAt;
  }

  result.watermark = maxCreatedAt ? await ledger.advanceWatermark(itemId, maxCreatedAt) : watermark;
  logger.info("item synced", {
    mode: result.mode,
    accounts: result.accounts,
    added: result.added,
    updated: result.updated,
    skipped: result.skipped,
    watermark: result.watermark,
  });
  return result;
}

/** Reads one account's transactions page by page and writes each page before asking for the next. */
async function syncAccountTransactions(
  deps: SyncDeps,
  ledger: Ledger,
  target: { itemId: string; accounts: LocalAccounts },
  pluggyAccountId: string,
  createdAtFrom: string | undefined,
  lookup: CategoryLookup,
): Promise<{ added: number; updated: number; skipped: number; maxCreatedAt: string | null }> {
  const totals = { added: 0, updated: 0, skipped: 0, maxCreatedAt: null as string | null };
  const query = createdAtFrom ? { accountId: pluggyAccountId, createdAtFrom } : { accountId: pluggyAccountId };
  for await (const page of deps.pluggy.iterateTransactions(query)) {
    const counts = await writeTransactionsPage(ledger, target, page, lookup);
    totals.added += counts.added;
    totals.updated += counts.updated;
    totals.skipped += counts.skipped;
    if (counts.maxCreatedAt && (totals.maxCreatedAt === null || counts.maxCreatedAt > totals.maxCreatedAt)) totals.maxCreatedAt = counts.maxCreatedAt;
  }
  return totals;
}

function minusMinutes(instant: string, minutes: number): string {
  return new Date(new Date(instant).getTime() - minutes * 60_000).toISOString();
}
