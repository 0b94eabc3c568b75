import { eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { items, type ItemRow } from "../db/schema.ts";
import { nowIso } from "../platform/ids.ts";
import type { Logger } from "../platform/logger.ts";
import type { PluggyApi } from "../pluggy/pluggy.client.ts";
import { PluggyError } from "../pluggy/pluggy.errors.ts";
import type { PluggyItem } from "../pluggy/pluggy.schemas.ts";
import { erasureCoversItem, forgetErasedItem } from "../erasure/erasure-guard.ts";
import { createCategoryLookup, type CategoryLookup } from "./category-lookup.ts";
import { upsertAccounts, upsertItem, upsertTransactions, type LocalAccountRef } from "./upserts.ts";
import type { CatalogDeps, Services } from "../platform/services.ts";

/** What every sync service needs: plain dependencies, no Hono. */
export interface SyncDeps {
  catalog: Db;
  pluggy: PluggyApi;
  logger: Logger;
}

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
  /** Always 0 today: a sync never deletes. Reconciliation will fill it (rows Pluggy no longer returns). */
  removed: number;
}

export interface ItemSyncResult extends ItemSyncCounts {
  itemId: string;
  /**
   * `synced`: item, accounts and transactions written. `gone`: Pluggy answered 404 for the item (nothing
   * written; the caller decides whether to delete). `unattributed`: the item has no `clientUserId` and no
   * local owner. `owner_mismatch`: the local row belongs to another user than Pluggy's `clientUserId`.
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

/** Local item row, or undefined. */
export async function findLocalItem({ catalog: db }: CatalogDeps, itemId: string): Promise<ItemRow | undefined> {
  return db.select().from(items).where(eq(items.id, itemId)).get();
}

/** GET /items/{id}, with Pluggy's 404 as `undefined` (the item is gone); other errors propagate. */
export async function fetchItemOrGone({ pluggy }: Pick<Services, "pluggy">, itemId: string): Promise<PluggyItem | undefined> {
  try {
    return await pluggy.getItem(itemId);
  } catch (error) {
    if (error instanceof PluggyError && error.status === 404) return undefined;
    throw error;
  }
}

/** Who owns a Pluggy item: its `clientUserId`, else the owner we already know; a disagreement is a mismatch. */
export function resolveOwner(item: PluggyItem, local: Pick<ItemRow, "userId"> | undefined): { userId: string } | { problem: "unattributed" | "owner_mismatch" } {
  const claimed = item.clientUserId ?? undefined;
  if (local && claimed && local.userId !== claimed) return { problem: "owner_mismatch" };
  const userId = claimed ?? local?.userId;
  return userId ? { userId } : { problem: "unattributed" };
}

/**
 * Brings one item in line with Pluggy: re-reads the item (never trusting a webhook's copy), links it to
 * the user in `clientUserId`, refreshes its accounts, then reads transactions per account through
 * `GET /v2/transactions` following `next`, writing each page as it arrives so memory stays flat for
 * items with tens of thousands of rows. The first sync of an item (or `options.full`) reads everything;
 * later ones read from the watermark minus an overlap, because Pluggy's `createdAt` order is not a
 * commit order. The watermark (largest Pluggy `createdAt` written) only moves forward and only after
 * every account succeeded, so a failed sync is simply repeated. Safe to run twice or concurrently:
 * every write is an idempotent upsert. Pluggy errors propagate (the caller chooses retry or failure),
 * except a 404 on the item, which is reported as `gone`.
 */
export async function syncItem(deps: SyncDeps, itemId: string, options: SyncItemOptions = {}): Promise<ItemSyncResult> {
  const { catalog: db, pluggy } = deps;
  const logger = deps.logger.child({ item_id: itemId });
  const result: ItemSyncResult = { itemId, outcome: "synced", mode: "none", userId: null, watermark: null, accounts: 0, added: 0, updated: 0, removed: 0, skipped: 0 };

  const item = await fetchItemOrGone({ pluggy }, itemId);
  const local = await findLocalItem({ catalog: db }, itemId);
  result.watermark = local?.transactionsWatermark ?? null;
  if (!item) {
    logger.warn("item sync: Pluggy no longer has this item", { known_locally: local !== undefined });
    return { ...result, outcome: "gone", userId: local?.userId ?? null };
  }
  const owner = resolveOwner(item, local);
  if ("problem" in owner) {
    logger.warn(
      owner.problem === "unattributed"
        ? "item sync skipped: the item has no clientUserId and no local owner, so it cannot be attributed"
        : "item sync skipped: Pluggy's clientUserId differs from the item's local owner",
      { pluggy_client_user_id: item.clientUserId ?? null, local_user_id: local?.userId ?? null },
    );
    return { ...result, outcome: owner.problem, userId: local?.userId ?? null };
  }
  const userId = owner.userId;
  result.userId = userId;
  if (await erasureCoversItem({ catalog: db }, userId, item.createdAt)) {
    await forgetErasedItem(deps, itemId);
    return { ...result, outcome: "erased" };
  }

  const now = nowIso();
  await upsertItem({ catalog: db }, item, userId, now);
  const pluggyAccounts = await pluggy.listAccounts(itemId);
  const accountMap = await upsertAccounts({ catalog: db }, { userId, itemId }, pluggyAccounts, now);
  result.accounts = pluggyAccounts.length;

  const watermark = local?.transactionsWatermark ?? null;
  const full = options.full === true || watermark === null;
  result.mode = full ? "full" : "incremental";
  const createdAtFrom = full || watermark === null ? undefined : minusMinutes(watermark, options.overlapMinutes ?? DEFAULT_OVERLAP_MINUTES);

  const lookup = createCategoryLookup({ catalog: db });
  let maxCreatedAt: string | null = null;
  // Only accounts Pluggy lists today: a local account it dropped has nothing to read.
  for (const pluggyAccountId of new Set(pluggyAccounts.map((a) => a.id))) {
    const counts = await syncAccountTransactions(deps, { userId, itemId, accounts: accountMap }, pluggyAccountId, createdAtFrom, lookup);
    result.added += counts.added;
    result.updated += counts.updated;
    result.skipped += counts.skipped;
    if (counts.maxCreatedAt && (maxCreatedAt === null || counts.maxCreatedAt > maxCreatedAt)) maxCreatedAt = counts.maxCreatedAt;
  }

  result.watermark = maxCreatedAt ? await advanceWatermark({ catalog: db }, itemId, maxCreatedAt) : watermark;
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
  owner: { userId: string; itemId: string; accounts: ReadonlyMap<string, LocalAccountRef> },
  pluggyAccountId: string,
  createdAtFrom: string | undefined,
  lookup: CategoryLookup,
): Promise<{ added: number; updated: number; skipped: number; maxCreatedAt: string | null }> {
  const totals = { added: 0, updated: 0, skipped: 0, maxCreatedAt: null as string | null };
  const query = createdAtFrom ? { accountId: pluggyAccountId, createdAtFrom } : { accountId: pluggyAccountId };
  for await (const page of deps.pluggy.iterateTransactions(query)) {
    const counts = await upsertTransactions(deps, owner, page, lookup);
    totals.added += counts.added;
    totals.updated += counts.updated;
    totals.skipped += counts.skipped;
    if (counts.maxCreatedAt && (totals.maxCreatedAt === null || counts.maxCreatedAt > totals.maxCreatedAt)) totals.maxCreatedAt = counts.maxCreatedAt;
  }
  return totals;
}

/**
 * Moves the item's watermark to `candidate` unless it is already later (two syncs racing can only move
 * it forward). Returns the stored value.
 */
async function advanceWatermark({ catalog: db }: CatalogDeps, itemId: string, candidate: string): Promise<string | null> {
  const row = await db
    .update(items)
    .set({
      transactionsWatermark: sql`CASE WHEN ${items.transactionsWatermark} IS NULL OR ${items.transactionsWatermark} < ${candidate} THEN ${candidate} ELSE ${items.transactionsWatermark} END`,
    })
    .where(eq(items.id, itemId))
    .returning({ watermark: items.transactionsWatermark })
    .get();
  return row?.watermark ?? null;
}

function minusMinutes(instant: string, minutes: number): string {
  return new Date(new Date(instant).getTime() - minutes * 60_000).toISOString();
}
