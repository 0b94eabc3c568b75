import { eq } from "drizzle-orm";
import { removeAttention } from "../catalog/attention.repo.ts";
import { ownerOfItem, removeItems } from "../catalog/directory.repo.ts";
import { erasureRequests } from "../db/schema.ts";
import { PluggyError } from "../pluggy/pluggy.errors.ts";
import type { CatalogDeps, Services } from "../platform/services.ts";

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
 * What `forgetErasedItem` needs. `ledger` is optional only while a caller's own deps do not carry it
 * yet (every runtime caller passes the invocation's Services, which do); without it the call fails
 * before touching anything, so the caller's retry comes back rather than data being left behind.
 */
export type ErasedItemDeps = Pick<Services, "catalog" | "pluggy" | "logger"> & Partial<Pick<Services, "ledger">>;

/**
 * Finishes the erasure of one item a writer found attributed to an erased user: deletes it at Pluggy
 * (404 = already gone), then removes it from the owner's ledger (with its accounts, transactions and
 * category-sync jobs, and those jobs' attention entries; a ledger left empty is erased whole) and from
 * the catalog's directory. The owner
 * is `userId` when the caller knows it, else the one the directory names. Pluggy errors other than 404
 * propagate, so the caller's retry (webhook or queue) tries again. The raw webhook bodies about the
 * item are left to the erasure's passes (the item is gone here, and Pluggy's own deliveries about it
 * name only its id).
 */
export async function forgetErasedItem(deps: ErasedItemDeps, itemId: string, userId?: string): Promise<void> {
  const { ledger } = deps;
  if (!ledger) throw new Error("forgetErasedItem needs the user's ledger (deps.ledger)");
  try {
    await deps.pluggy.deleteItem(itemId);
  } catch (error) {
    if (!(error instanceof PluggyError && error.status === 404)) throw error;
  }
  const listed = await ownerOfItem(deps.catalog, itemId);
  const owner = userId ?? listed;
  const removed = { accounts: 0, transactions: 0, attention: 0 };
  if (owner !== undefined) {
    const stub = ledger(owner);
    // Found before the jobs go: which attention entries are this item's.
    const flagged = await stub.attentionJobIds({ itemIds: [itemId] });
    const gone = await stub.deleteItemData(itemId);
    for (const jobId of flagged) await removeAttention(deps.catalog, "category_sync", jobId);
    // Nothing else there: the owner record goes too, as after an erasure.
    await stub.eraseIfEmpty();
    removed.accounts = gone.accounts;
    removed.transactions = gone.transactions;
    removed.attention = flagged.length;
  }
  // Never another user's entry (callers have already matched the owner; this only guards a mix-up).
  if (listed !== undefined && listed === owner) await removeItems(deps.catalog, [itemId]);
  deps.logger.warn("item of an erased user refused: deleted at Pluggy and locally", {
    item_id: itemId,
    accounts: removed.accounts,
    transactions: removed.transactions,
    attention_entries: removed.attention,
  });
}
