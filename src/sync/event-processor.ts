import { z } from "zod";
import { ownerOfItem } from "../catalog/directory.repo.ts";
import type { LocalAccounts } from "../ledger/banking.inputs.ts";
import { createCategoryLookup } from "./category-lookup.ts";
import { attributeItem, fetchItemOrGone, removeItemData, syncItem, type SyncDeps } from "./item-sync.service.ts";
import { writeAccounts, writeItem, writeTransactionsPage } from "./upserts.ts";
import type { TransactionQuery } from "../pluggy/pluggy.client.ts";
import { PluggyError } from "../pluggy/pluggy.errors.ts";

/**
 * The part of a Pluggy webhook body the processor reads. Structural, so the webhooks domain's own zod
 * schema (whatever extra fields it declares) fits without an import in either direction.
 */
export interface WebhookPayloadLike {
  event: string;
  eventId: string;
  itemId?: string | null;
  [key: string]: unknown;
}

export type WebhookProcessOutcome = "processed" | "ignored";

/**
 * What processing one event did. `reason` says why it was `ignored` (always set then), or what part of
 * a `processed` one was not applied or happened instead (e.g. deletions Pluggy did not confirm); the
 * consumer shows it on the event.
 */
export interface WebhookProcessResult {
  outcome: WebhookProcessOutcome;
  reason?: string;
}

const processed = (reason?: string): WebhookProcessResult => (reason ? { outcome: "processed", reason } : { outcome: "processed" });
const ignored = (reason: string): WebhookProcessResult => ({ outcome: "ignored", reason });

/** Item events whose only effect is a fresh copy of the item's status. */
const ITEM_STATUS_EVENTS = new Set(["item/error", "item/waiting_user_input", "item/waiting_user_action", "item/login_succeeded"]);

/**
 * An optional text field of a payload: a non-empty string, else absent. Pluggy sends `null` for fields
 * it has no value for (`accountId`, `transactionsCreatedAtFrom`, `triggeredBy`...), so null — like a
 * missing key, an empty string or another type — reads as absent, never as a reason to drop the event.
 */
export function presentText(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

const isoInstant = z.iso.datetime({ offset: true });

/**
 * `transactionsCreatedAtFrom` as an instant Pluggy accepts back (normalized to `toISOString()`), or
 * undefined when it is missing or not an ISO 8601 instant — sending Pluggy a bad one earns a 400 that
 * no retry can fix, so the caller treats it like a missing one.
 */
function createdAtFromOf(value: unknown): string | undefined {
  const parsed = isoInstant.safeParse(value);
  if (!parsed.success) return undefined;
  const instant = new Date(parsed.data);
  return Number.isNaN(instant.getTime()) ? undefined : instant.toISOString();
}

/**
 * `transactionIds`, the one thing `transactions/updated|deleted` cannot do without: undefined when it is
 * not a list. Entries that are not non-empty strings are dropped (and counted), not the whole event.
 */
function transactionIdsOf(payload: WebhookPayloadLike): { ids: string[]; dropped: number } | undefined {
  const value = payload["transactionIds"];
  if (!Array.isArray(value)) return undefined;
  const ids = value.filter((id): id is string => typeof id === "string" && id.length > 0);
  return { ids, dropped: value.length - ids.length };
}

/**
 * Applies one Pluggy webhook to our data. The payload is a signal, not the data: every effect re-reads
 * Pluggy (`GET /items/{id}`, `GET /accounts`, `GET /v2/transactions`), so processing is idempotent, safe
 * under duplicates and correct in any order — a `transactions/*` event about an item we have not seen yet
 * runs the item's first (full) sync instead, and a 404 on `GET /items/{id}` means Pluggy deleted the
 * item, so its local data goes. Deletions are confirmed the same way: `item/deleted` removes data only
 * once `GET /items/{id}` answers 404, `transactions/deleted` only the ids Pluggy's list no longer returns,
 * so a forged or replayed deletion of live data changes nothing. Returns `ignored`, with the reason, only
 * when the event cannot be acted on (a kind we do not handle, no `itemId` or `transactionIds` where the
 * kind needs them, an item no user can be given, a deletion Pluggy contradicts). `PluggyError`s
 * propagate: the caller decides between retry (transient) and failure.
 */
export async function processWebhookPayload(deps: SyncDeps, payload: WebhookPayloadLike): Promise<WebhookProcessResult> {
  const itemId = presentText(payload.itemId);
  const logger = deps.logger.child({ event: payload.event, event_id: payload.eventId, item_id: itemId ?? null });
  const scoped: SyncDeps = { ...deps, logger };

  if (payload.event === "connector/status_updated") {
    const data = payload["data"];
    const status = data !== null && typeof data === "object" && "status" in data ? presentText(data.status) : undefined;
    const connectorId = payload["connectorId"];
    // Nothing of ours stores a connector's health; the item events that follow carry any item change.
    logger.info("connector status updated; no local change", {
      connector_id: typeof connectorId === "number" || typeof connectorId === "string" ? connectorId : null,
      connector_status: status ?? null,
    });
    return processed();
  }

  if (!isHandled(payload.event)) {
    logger.info("webhook event kind not handled; ignored");
    return ignored(`event kind ${JSON.stringify(payload.event.slice(0, 128))} is not one we act on`);
  }
  if (!itemId) {
    logger.warn("webhook event has no itemId; ignored");
    return ignored(`no itemId: ${payload.event} is about an item and names none`);
  }

  switch (payload.event) {
    case "item/deleted":
      return onItemDeleted(scoped, itemId);
    case "item/created":
    case "item/updated":
      return runItemSync(scoped, itemId);
    case "transactions/created":
      return onTransactionsCreated(scoped, itemId, payload);
    case "transactions/updated":
      return onTransactionsUpdated(scoped, itemId, payload);
    case "transactions/deleted":
      return onTransactionsDeleted(scoped, itemId, payload);
    default:
      return refreshItemStatus(scoped, itemId);
  }
}

function isHandled(event: string): boolean {
  return (
    ITEM_STATUS_EVENTS.has(event) ||
    ["item/created", "item/updated", "item/deleted", "transactions/created", "transactions/updated", "transactions/deleted"].includes(event)
  );
}

const GONE_NOTE = "Pluggy no longer has the item (GET /items/{id} answered 404): its local data was removed";

/** The item's data goes from its owner's ledger, and the item from the directory. */
async function removeItem(deps: SyncDeps, itemId: string, why: string): Promise<void> {
  const removed = await removeItemData(deps, itemId);
  deps.logger.info("item data removed", { why, item_removed: removed.item, accounts: removed.accounts, transactions: removed.transactions });
}

/** item/deleted: the local data goes only once Pluggy confirms, with a 404, that the item is gone. */
async function onItemDeleted(deps: SyncDeps, itemId: string): Promise<WebhookProcessResult> {
  const item = await fetchItemOrGone(deps, itemId);
  if (item) {
    deps.logger.warn("item/deleted not confirmed: Pluggy still has the item; nothing removed", { status: item.status });
    return ignored(`deletion not confirmed: GET /items/{id} still answers the item (status ${item.status}); nothing was removed`);
  }
  await removeItem(deps, itemId, "item/deleted, confirmed by GET /items 404");
  return processed();
}

/** Why an item could not be synced or recorded, as shown on the event. */
const OWNER_PROBLEMS = {
  unattributed: "the item has no clientUserId at Pluggy and no owner in the item directory, so it cannot be attributed to a user; nothing written",
  owner_mismatch: "Pluggy's clientUserId for the item differs from its owner in the item directory; nothing written",
  erased: "the item's owner asked to be erased: the item was deleted at Pluggy and locally instead",
} as const;

/** item/created, item/updated — and the fallback for any event about an item we do not have yet. */
async function runItemSync(deps: SyncDeps, itemId: string): Promise<WebhookProcessResult> {
  const result = await syncItem(deps, itemId);
  if (result.outcome === "gone") {
    await removeItem(deps, itemId, "GET /items answered 404");
    return processed(GONE_NOTE);
  }
  if (result.outcome !== "synced") return ignored(OWNER_PROBLEMS[result.outcome]);
  return processed();
}

/** item/error, item/waiting_user_*, item/login_succeeded: copy status, execution status and error. */
async function refreshItemStatus(deps: SyncDeps, itemId: string): Promise<WebhookProcessResult> {
  const item = await fetchItemOrGone(deps, itemId);
  if (!item) {
    await removeItem(deps, itemId, "GET /items answered 404");
    return processed(GONE_NOTE);
  }
  const attribution = await attributeItem(deps, item);
  if (attribution.outcome !== "owned") {
    if (attribution.outcome !== "erased") {
      deps.logger.warn(`item status not recorded: ${attribution.outcome}`, { pluggy_client_user_id: item.clientUserId ?? null, directory_user_id: attribution.userId });
    }
    return ignored(OWNER_PROBLEMS[attribution.outcome]);
  }
  await writeItem(deps.ledger(attribution.userId), attribution.userId, item);
  deps.logger.info("item status refreshed", { status: item.status, execution_status: item.executionStatus ?? null, error_code: item.error?.code ?? null });
  return processed();
}

/**
 * The item's local accounts, refreshed from Pluggy once when one we need is missing (an account that
 * appeared after our last sync).
 */
async function accountsFor(deps: SyncDeps, owner: ItemOwner, needed: readonly string[]): Promise<LocalAccounts> {
  const ledger = deps.ledger(owner.userId);
  const local = await ledger.localAccounts(owner.itemId);
  if (needed.every((id) => Object.hasOwn(local, id))) return local;
  return (await writeAccounts(ledger, owner.itemId, await deps.pluggy.listAccounts(owner.itemId))).accounts;
}

/** The item's owner (from the directory) and the item as their ledger holds it; undefined when either is missing. */
async function knownItem(deps: SyncDeps, itemId: string): Promise<{ owner: ItemOwner; watermark: string | null } | undefined> {
  const userId = await ownerOfItem(deps.catalog, itemId);
  if (userId === undefined) return undefined;
  const local = await deps.ledger(userId).getItem(itemId);
  return local ? { owner: { userId, itemId }, watermark: local.transactionsWatermark } : undefined;
}

interface ItemOwner {
  userId: string;
  itemId: string;
}

async function onTransactionsCreated(deps: SyncDeps, itemId: string, payload: WebhookPayloadLike): Promise<WebhookProcessResult> {
  const local = await knownItem(deps, itemId);
  if (!local || local.watermark === null) return runItemSync(deps, itemId); // first sight: a full sync covers these rows
  const given = payload["transactionsCreatedAtFrom"];
  const createdAtFrom = createdAtFromOf(given);
  if (!createdAtFrom) {
    if (given === undefined || given === null) deps.logger.warn("transactions/created without transactionsCreatedAtFrom; running an incremental item sync");
    else deps.logger.warn("transactions/created with a transactionsCreatedAtFrom that is not an ISO instant; running an incremental item sync", { transactions_created_at_from: String(given).slice(0, 100) });
    return runItemSync(deps, itemId);
  }
  const { owner } = local;
  const accountId = presentText(payload["accountId"]);
  const accounts = await accountsFor(deps, owner, accountId ? [accountId] : []);
  const accountIds = accountId ? [accountId] : Object.keys(accounts);
  const counts = await readAndUpsert(deps, { ...owner, accounts }, accountIds.map((id) => ({ accountId: id, createdAtFrom })));
  deps.logger.info("created transactions fetched", { ...counts, created_at_from: createdAtFrom });
  return processed();
}

async function onTransactionsUpdated(deps: SyncDeps, itemId: string, payload: WebhookPayloadLike): Promise<WebhookProcessResult> {
  const listed = transactionIdsOf(payload);
  if (!listed) {
    deps.logger.warn("transactions/updated without transactionIds; ignored");
    return ignored("no transactionIds list: transactions/updated names the transactions to re-read");
  }
  const local = await knownItem(deps, itemId);
  if (!local || local.watermark === null) return runItemSync(deps, itemId); // arrived before item/created
  const { owner } = local;
  const { ids } = listed;
  if (ids.length === 0) return processed(listed.dropped > 0 ? `${listed.dropped} transactionIds entries were not ids` : undefined);
  const accountId = presentText(payload["accountId"]);
  const accounts = await accountsFor(deps, owner, accountId ? [accountId] : []);
  // Pluggy's v2 list needs an account; without one in the payload, ask each account for the ids.
  const accountIds = accountId ? [accountId] : Object.keys(accounts);
  const counts = await readAndUpsert(deps, { ...owner, accounts }, accountIds.map((id) => ({ accountId: id, ids })));
  deps.logger.info("updated transactions re-read", { ...counts, listed: ids.length });
  return processed(listed.dropped > 0 ? `${listed.dropped} transactionIds entries were not ids` : undefined);
}

/**
 * transactions/deleted: removes only what Pluggy confirms. For the listed ids this item holds, each
 * account's list is asked for them (`GET /v2/transactions?accountId=&ids=`, the account taken from our
 * own rows, never from the payload); an id Pluggy still returns is kept, one it no longer returns (or
 * whose account it no longer has) is removed. Ids we do not hold cost nothing.
 */
async function onTransactionsDeleted(deps: SyncDeps, itemId: string, payload: WebhookPayloadLike): Promise<WebhookProcessResult> {
  const listed = transactionIdsOf(payload);
  if (!listed) {
    deps.logger.warn("transactions/deleted without transactionIds; ignored");
    return ignored("no transactionIds list: transactions/deleted names the transactions to remove");
  }
  // Only the owner's ledger can hold the item's rows; an item the directory does not know holds none.
  const userId = await ownerOfItem(deps.catalog, itemId);
  const held: Record<string, string> = userId !== undefined && listed.ids.length > 0 ? await deps.ledger(userId).heldTransactionAccounts(itemId, listed.ids) : {};
  const heldIds = Object.keys(held);
  const byAccount = new Map<string, string[]>();
  for (const [transactionId, accountId] of Object.entries(held)) {
    const ids = byAccount.get(accountId);
    if (ids) ids.push(transactionId);
    else byAccount.set(accountId, [transactionId]);
  }
  const stillListed = new Set<string>();
  for (const [accountId, ids] of byAccount) {
    try {
      for await (const page of deps.pluggy.iterateTransactions({ accountId, ids })) for (const transaction of page) stillListed.add(transaction.id);
    } catch (error) {
      // The account itself is gone at Pluggy: so are its transactions.
      if (!(error instanceof PluggyError && error.status === 404)) throw error;
    }
  }
  const gone = heldIds.filter((id) => !stillListed.has(id));
  const kept = heldIds.length - gone.length;
  const removed = userId !== undefined && gone.length > 0 ? await deps.ledger(userId).deleteTransactionsByPluggyIds(gone, { itemId }) : 0;
  deps.logger.info("transactions removed", { listed: listed.ids.length, held: heldIds.length, removed, kept_still_at_pluggy: kept });
  if (kept > 0 && gone.length === 0) {
    return ignored(`deletion not confirmed: Pluggy still lists all ${kept} of the listed transactions held here; nothing was removed`);
  }
  if (kept > 0) return processed(`${kept} of the ${heldIds.length} listed transactions held here were kept: Pluggy still lists them`);
  return processed();
}

async function readAndUpsert(
  deps: SyncDeps,
  owner: ItemOwner & { accounts: LocalAccounts },
  queries: TransactionQuery[],
): Promise<{ added: number; updated: number; skipped: number }> {
  const lookup = createCategoryLookup(deps);
  const ledger = deps.ledger(owner.userId);
  const totals = { added: 0, updated: 0, skipped: 0 };
  for (const query of queries) {
    for await (const page of deps.pluggy.iterateTransactions(query)) {
      const counts = await writeTransactionsPage(ledger, owner, page, lookup);
      totals.added += counts.added;
      totals.updated += counts.updated;
      totals.skipped += counts.skipped;
    }
  }
  return totals;
}
