import { asc, eq, inArray, lte } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { itemDirectory } from "./directory.schema.ts";

/*
 * The item → user directory in the catalog (D1). Owners never change (an item belongs to the user who
 * connected it until it is deleted), so a lookup is cached per isolate: in steady state a webhook for a
 * known item reads the catalog at most once per isolate and writes nothing to it.
 */

/** item id → user id, per isolate. Only positive answers are cached (an unknown item may become known). */
const ownerCache = new Map<string, string>();
const OWNER_CACHE_MAX = 50_000;

/** The owner of `itemId`, or undefined when the catalog does not know the item. */
export async function ownerOfItem(catalog: Db, itemId: string): Promise<string | undefined> {
  const cached = ownerCache.get(itemId);
  if (cached !== undefined) return cached;
  const row = await catalog.select({ userId: itemDirectory.userId }).from(itemDirectory).where(eq(itemDirectory.itemId, itemId)).get();
  if (row) remember(itemId, row.userId);
  return row?.userId;
}

function remember(itemId: string, userId: string): void {
  if (ownerCache.size >= OWNER_CACHE_MAX) ownerCache.clear();
  ownerCache.set(itemId, userId);
}

/** Forgets cached owners (an item deleted in this isolate; tests). */
export function forgetOwners(itemIds?: readonly string[]): void {
  if (!itemIds) ownerCache.clear();
  else for (const id of itemIds) ownerCache.delete(id);
}

/**
 * Records that `userId` owns `itemId` unless the item already has an owner. Returns the owner now on
 * record and whether this call created the entry: `owner !== userId` means the item is someone else's.
 */
export async function claimItem(catalog: Db, input: { itemId: string; userId: string; nextReconcileAt: string; now: string }): Promise<{ owner: string; created: boolean }> {
  const [inserted, current] = await catalog.batch([
    catalog
      .insert(itemDirectory)
      .values({ itemId: input.itemId, userId: input.userId, nextReconcileAt: input.nextReconcileAt, createdAt: input.now })
      .onConflictDoNothing({ target: itemDirectory.itemId })
      .returning({ itemId: itemDirectory.itemId }),
    catalog.select({ userId: itemDirectory.userId }).from(itemDirectory).where(eq(itemDirectory.itemId, input.itemId)),
  ]);
  const owner = current[0]?.userId ?? input.userId;
  remember(input.itemId, owner);
  return { owner, created: inserted.length > 0 };
}

/** The user's items as the catalog knows them (erasure, admin). */
export async function itemsOfUser(catalog: Db, userId: string): Promise<string[]> {
  const rows = await catalog.select({ itemId: itemDirectory.itemId }).from(itemDirectory).where(eq(itemDirectory.userId, userId));
  return rows.map((r) => r.itemId);
}

/** Removes items from the directory (deleted at Pluggy, or erased). */
export async function removeItems(catalog: Db, itemIds: readonly string[]): Promise<void> {
  forgetOwners(itemIds);
  for (let i = 0; i < itemIds.length; i += 90) {
    await catalog.delete(itemDirectory).where(inArray(itemDirectory.itemId, itemIds.slice(i, i + 90)));
  }
}

/** Items whose reconciliation is due at `now`, earliest first (an index range: cost grows with what is due). */
export async function itemsDueForReconcile(catalog: Db, now: string, limit: number): Promise<{ itemId: string; userId: string }[]> {
  return catalog
    .select({ itemId: itemDirectory.itemId, userId: itemDirectory.userId })
    .from(itemDirectory)
    .where(lte(itemDirectory.nextReconcileAt, now))
    .orderBy(asc(itemDirectory.nextReconcileAt))
    .limit(limit);
}

/** Moves items' next reconciliation to `at`. */
export async function scheduleReconcile(catalog: Db, itemIds: readonly string[], at: string): Promise<void> {
  for (let i = 0; i < itemIds.length; i += 90) {
    await catalog.update(itemDirectory).set({ nextReconcileAt: at }).where(inArray(itemDirectory.itemId, itemIds.slice(i, i + 90)));
  }
}
