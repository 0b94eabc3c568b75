import { serializeItem } from "../banking/items.service.ts";
import type { ItemDto } from "../banking/banking.schemas.ts";
import { claimItem, ownerOfItem, removeItems } from "../catalog/directory.repo.ts";
import { itemInputFromPluggy } from "../ledger/banking.inputs.ts";
import type { ItemRow } from "../ledger/ledger.schema.ts";
import { nowIso } from "../platform/ids.ts";
import { notFound } from "../platform/errors.ts";
import type { Services } from "../platform/services.ts";
import type { PluggyItem } from "../pluggy/pluggy.schemas.ts";
import { PluggyError } from "../pluggy/pluggy.errors.ts";
import { pluggyErrorToAppError } from "../pluggy/pluggy.http.ts";

/**
 * What connections use: the catalog (its item directory: who owns each item), the caller's ledger
 * (the item and its data), Pluggy, and the logger.
 */
export type ConnectionDeps = Pick<Services, "catalog" | "ledger" | "pluggy"> & Partial<Pick<Services, "logger">>;

const itemNotFound = () => notFound("item");

/** The caller's item from their own ledger, or 404 (another user's item is not there: it answers exactly like a missing one). */
async function ownItem(deps: Pick<Services, "ledger">, userId: string, itemId: string): Promise<ItemRow> {
  const row = await deps.ledger(userId).getItem(itemId);
  if (!row) throw itemNotFound();
  return row;
}

/** Stores Pluggy's state of the item in the caller's ledger; returns it as stored and whether this call created it. */
async function storeItem(deps: Pick<Services, "ledger">, userId: string, pluggyItem: PluggyItem): Promise<{ row: ItemRow; created: boolean }> {
  const ledger = deps.ledger(userId);
  const { created } = await ledger.applyItem(userId, itemInputFromPluggy(pluggyItem));
  const row = await ledger.getItem(pluggyItem.id);
  if (!row) throw itemNotFound(); // deleted by a concurrent DELETE between the two calls
  return { row, created };
}

/**
 * Registers an item Pluggy Connect just created (the widget's `onSuccess`). Pluggy is the authority on
 * who owns it: the item is accepted only when its `clientUserId` is the caller, and never when the
 * catalog's item directory already gives it to someone else (both 404, indistinguishable from a missing
 * item). The directory claim is what decides between two users racing for one item; the item then goes
 * into the caller's ledger. `created` comes from the ledger's insert itself, so when the same item is
 * registered several times at once exactly one caller gets `created: true` — and only that caller queues
 * the item's first sync (best effort: reconciliation catches up if the send fails). A repeat
 * registration only refreshes the item's state.
 */
export async function registerItem(
  deps: ConnectionDeps & Pick<Services, "eventsQueue">,
  userId: string,
  itemId: string,
): Promise<{ item: ItemDto; created: boolean }> {
  const knownOwner = await ownerOfItem(deps.catalog, itemId);
  if (knownOwner !== undefined && knownOwner !== userId) throw itemNotFound();
  let pluggyItem;
  try {
    pluggyItem = await deps.pluggy.getItem(itemId);
  } catch (error) {
    if (error instanceof PluggyError && error.status === 404) throw itemNotFound();
    throw pluggyErrorToAppError(error, deps.logger);
  }
  if (pluggyItem.clientUserId !== userId) throw itemNotFound();
  const now = nowIso();
  // Due for reconciliation at once, like an item never reconciled: it heals a first sync that was lost.
  const claim = await claimItem(deps.catalog, { itemId, userId, nextReconcileAt: now, now });
  if (claim.owner !== userId) throw itemNotFound();
  const { row, created } = await storeItem(deps, userId, pluggyItem);
  if (created) {
    try {
      await deps.eventsQueue.send({ kind: "item.sync", itemId, reason: "registered" });
    } catch (error) {
      deps.logger?.error("could not queue the first sync of a registered item; reconciliation will catch up", {
        item_id: itemId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return { item: serializeItem(row), created };
}

/**
 * Asks Pluggy to update one of the caller's items now (`PATCH /items/{id}`) and stores the state Pluggy
 * answers with (usually UPDATING) in the caller's ledger. Pluggy's refusals surface as 429 (rate limit)
 * or 409 (too soon, already updating) with Pluggy's reason; an item Pluggy no longer has is a 404.
 */
export async function refreshItem(deps: ConnectionDeps, userId: string, itemId: string): Promise<ItemDto> {
  await ownItem(deps, userId, itemId);
  let pluggyItem;
  try {
    pluggyItem = await deps.pluggy.updateItem(itemId);
  } catch (error) {
    if (error instanceof PluggyError && error.status === 404) throw itemNotFound();
    throw pluggyErrorToAppError(error, deps.logger);
  }
  return serializeItem((await storeItem(deps, userId, pluggyItem)).row);
}

/**
 * Deletes one of the caller's items at Pluggy first (a Pluggy 404 counts as already deleted), then, in
 * the caller's ledger and in one transaction, the item with its accounts, transactions and their
 * category-sync jobs, and last its entry in the catalog's item directory. When Pluggy fails, nothing
 * local is touched, so the user can retry and never loses data Pluggy still has. An item the directory
 * still gives to the caller after its ledger data went (an earlier attempt stopped halfway) is the
 * caller's too, so a retry finishes the job.
 */
export async function deleteItem(deps: ConnectionDeps, userId: string, itemId: string): Promise<void> {
  const inLedger = await deps.ledger(userId).getItem(itemId);
  if (!inLedger && (await ownerOfItem(deps.catalog, itemId)) !== userId) throw itemNotFound();
  try {
    await deps.pluggy.deleteItem(itemId);
  } catch (error) {
    if (!(error instanceof PluggyError && error.status === 404)) throw pluggyErrorToAppError(error, deps.logger);
  }
  await deps.ledger(userId).deleteItemData(itemId);
  await removeItems(deps.catalog, [itemId]);
}
