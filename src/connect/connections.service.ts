import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { items, type ItemRow } from "../db/schema.ts";
import { serializeItem } from "../banking/items.service.ts";
import type { ItemDto } from "../banking/banking.schemas.ts";
import { notFound } from "../platform/errors.ts";
import type { Logger } from "../platform/logger.ts";
import type { PluggyApi } from "../pluggy/pluggy.client.ts";
import { PluggyError } from "../pluggy/pluggy.errors.ts";
import { pluggyErrorToAppError } from "../pluggy/pluggy.http.ts";
import type { EventsQueueMessage } from "../queues/messages.ts";
import { deleteItemData, upsertItem } from "../sync/upserts.ts";
import type { CatalogDeps } from "../platform/services.ts";

export interface ConnectionDeps {
  catalog: Db;
  pluggy: PluggyApi;
  logger?: Logger;
}

const itemNotFound = () => notFound("item");

async function itemRow({ catalog: db }: CatalogDeps, itemId: string): Promise<ItemRow | undefined> {
  return db.select().from(items).where(eq(items.id, itemId)).get();
}

/** The caller's item row, or 404 (another user's item answers exactly like a missing one). */
async function ownItem({ catalog: db }: CatalogDeps, userId: string, itemId: string): Promise<ItemRow> {
  const row = await itemRow({ catalog: db }, itemId);
  if (!row || row.userId !== userId) throw itemNotFound();
  return row;
}

/**
 * Registers an item Pluggy Connect just created (the widget's `onSuccess`). Pluggy is the authority on
 * who owns it: the item is accepted only when its `clientUserId` is the caller, and never when it is
 * already registered to someone else (both 404, indistinguishable from a missing item). `created` comes
 * from the item insert itself, so when the same item is registered several times at once exactly one
 * caller gets `created: true` — and only that caller queues the item's first sync (best effort:
 * reconciliation catches up if the send fails). A repeat registration only refreshes the item's state.
 */
export async function registerItem(
  deps: ConnectionDeps & { eventsQueue: Pick<Queue<EventsQueueMessage>, "send"> },
  userId: string,
  itemId: string,
): Promise<{ item: ItemDto; created: boolean }> {
  const existing = await itemRow(deps, itemId);
  if (existing && existing.userId !== userId) throw itemNotFound();
  let pluggyItem;
  try {
    pluggyItem = await deps.pluggy.getItem(itemId);
  } catch (error) {
    if (error instanceof PluggyError && error.status === 404) throw itemNotFound();
    throw pluggyErrorToAppError(error, deps.logger);
  }
  if (pluggyItem.clientUserId !== userId) throw itemNotFound();
  const { owned, created } = await upsertItem(deps, pluggyItem, userId);
  if (!owned) throw itemNotFound();
  const row = await ownItem(deps, userId, itemId);
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
 * answers with (usually UPDATING). Pluggy's refusals surface as 429 (rate limit) or 409 (too soon,
 * already updating) with Pluggy's reason; an item Pluggy no longer has is a 404.
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
  await upsertItem(deps, pluggyItem, userId);
  return serializeItem(await ownItem(deps, userId, itemId));
}

/**
 * Deletes one of the caller's items at Pluggy first (a Pluggy 404 counts as already deleted), then,
 * locally and in one batch, the item with its accounts, transactions and their category-sync jobs. When
 * Pluggy fails, nothing local is touched, so the user can retry and never loses data Pluggy still has.
 */
export async function deleteItem(deps: ConnectionDeps, userId: string, itemId: string): Promise<void> {
  await ownItem(deps, userId, itemId);
  try {
    await deps.pluggy.deleteItem(itemId);
  } catch (error) {
    if (!(error instanceof PluggyError && error.status === 404)) throw pluggyErrorToAppError(error, deps.logger);
  }
  await deleteItemData(deps, itemId);
}
