import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { erasureRequests } from "../db/schema.ts";
import type { Logger } from "../platform/logger.ts";
import type { PluggyApi } from "../pluggy/pluggy.client.ts";
import { PluggyError } from "../pluggy/pluggy.errors.ts";
import { deleteItemData } from "../sync/upserts.ts";
import type { CatalogDeps } from "../platform/services.ts";

/*
 * What keeps an erased user erased. Erasure deletes the items we know at Pluggy and everything local,
 * but a webhook or a reconciliation already in flight (or an item created at Pluggy moments before
 * the request, whose `item/created` had not reached us) could write the data back. Every writer that
 * attributes a Pluggy item to a user asks here first.
 */

/**
 * True when `userId` asked to be erased at or after the moment the Pluggy item was created, i.e. the
 * item belongs to what the user asked us to forget. An item created after the request is a new
 * connection (a new consent) and is allowed. Without a creation time the answer is the safe one: yes.
 */
export async function erasureCoversItem({ catalog: db }: CatalogDeps, userId: string, itemCreatedAt: string | null | undefined): Promise<boolean> {
  const request = await db.select({ requestedAt: erasureRequests.requestedAt }).from(erasureRequests).where(eq(erasureRequests.userId, userId)).get();
  if (!request) return false;
  const created = itemCreatedAt ? Date.parse(itemCreatedAt) : Number.NaN;
  if (Number.isNaN(created)) return true;
  return created <= Date.parse(request.requestedAt);
}

/**
 * Finishes the erasure of one item a writer found attributed to an erased user: deletes it at Pluggy
 * (404 = already gone) and removes anything local about it. Pluggy errors other than 404 propagate, so
 * the caller's retry (webhook or queue) tries again. The raw webhook bodies about the item are left to
 * the erasure's passes (the item is gone here, and Pluggy's own deliveries about it name only its id).
 */
export async function forgetErasedItem(deps: { catalog: Db; pluggy: PluggyApi; logger: Logger }, itemId: string): Promise<void> {
  try {
    await deps.pluggy.deleteItem(itemId);
  } catch (error) {
    if (!(error instanceof PluggyError && error.status === 404)) throw error;
  }
  const removed = await deleteItemData(deps, itemId);
  deps.logger.warn("item of an erased user refused: deleted at Pluggy and locally", {
    item_id: itemId,
    accounts: removed.accounts,
    transactions: removed.transactions,
  });
}
