import { z } from "zod";
import { erasureCoversItem, forgetErasedItem } from "../erasure/erasure-guard.ts";
import { createCategoryLookup } from "./category-lookup.ts";
import { fetchItemOrGone, findLocalItem, resolveOwner, syncItem, type SyncDeps } from "./item-sync.service.ts";
import { deleteItemData, deleteTransactionsByPluggyIds, localAccountsOf, upsertAccounts, upsertItem, upsertTransactions, type LocalAccountRef } from "./upserts.ts";
import type { TransactionQuery } from "../pluggy/pluggy.client.ts";

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

/** Item events whose only effect is a fresh copy of the item's status. */
const ITEM_STATUS_EVENTS = new Set(["item/error", "item/waiting_user_input", "item/waiting_user_action", "item/login_succeeded"]);

const transactionsCreatedFields = z.looseObject({
  accountId: z.string().min(1).optional(),
  // Checked apart (createdAtFromOf): a bad value must not hide the accountId.
  transactionsCreatedAtFrom: z.unknown().optional(),
});

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

const transactionIdsFields = z.looseObject({
  accountId: z.string().min(1).optional(),
  transactionIds: z.array(z.string().min(1)),
});

const connectorFields = z.looseObject({
  connectorId: z.union([z.number(), z.string()]).optional(),
  data: z.looseObject({ status: z.string().optional() }).optional(),
});

/**
 * Applies one Pluggy webhook to our data. The payload is a signal, not the data: every effect re-reads
 * Pluggy (`GET /items/{id}`, `GET /accounts`, `GET /v2/transactions`), so processing is idempotent, safe
 * under duplicates and correct in any order — a `transactions/*` event about an item we have not seen yet
 * runs the item's first (full) sync instead, and a 404 on `GET /items/{id}` means Pluggy deleted the
 * item, so its local data goes. Returns `ignored` for events we do not act on (unknown kinds, payloads
 * missing what the kind needs, items that cannot be attributed to a user). `PluggyError`s propagate:
 * the caller decides between retry (transient) and failure.
 */
export async function processWebhookPayload(deps: SyncDeps, payload: WebhookPayloadLike): Promise<WebhookProcessOutcome> {
  const logger = deps.logger.child({ event: payload.event, event_id: payload.eventId, item_id: payload.itemId ?? null });
  const scoped: SyncDeps = { ...deps, logger };
  const itemId = payload.itemId ?? undefined;

  if (payload.event === "connector/status_updated") {
    const fields = connectorFields.safeParse(payload);
    // Nothing of ours stores a connector's health; the item events that follow carry any item change.
    logger.info("connector status updated; no local change", {
      connector_id: fields.success ? (fields.data.connectorId ?? null) : null,
      connector_status: fields.success ? (fields.data.data?.status ?? null) : null,
    });
    return "processed";
  }

  if (!isHandled(payload.event)) {
    logger.info("webhook event kind not handled; ignored");
    return "ignored";
  }
  if (!itemId) {
    logger.warn("webhook event has no itemId; ignored");
    return "ignored";
  }

  switch (payload.event) {
    case "item/deleted":
      return removeItem(scoped, itemId, "item/deleted");
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

async function removeItem(deps: SyncDeps, itemId: string, why: string): Promise<WebhookProcessOutcome> {
  const removed = await deleteItemData(deps.db, itemId);
  deps.logger.info("item data removed", { why, item_removed: removed.item, accounts: removed.accounts, transactions: removed.transactions });
  return "processed";
}

/** item/created, item/updated — and the fallback for any event about an item we do not have yet. */
async function runItemSync(deps: SyncDeps, itemId: string): Promise<WebhookProcessOutcome> {
  const result = await syncItem(deps, itemId);
  if (result.outcome === "gone") return removeItem(deps, itemId, "GET /items answered 404");
  if (result.outcome !== "synced") return "ignored";
  return "processed";
}

/** item/error, item/waiting_user_*, item/login_succeeded: copy status, execution status and error. */
async function refreshItemStatus(deps: SyncDeps, itemId: string): Promise<WebhookProcessOutcome> {
  const item = await fetchItemOrGone(deps.pluggy, itemId);
  if (!item) return removeItem(deps, itemId, "GET /items answered 404");
  const local = await findLocalItem(deps.db, itemId);
  const owner = resolveOwner(item, local);
  if ("problem" in owner) {
    deps.logger.warn(`item status not recorded: ${owner.problem}`, { pluggy_client_user_id: item.clientUserId ?? null, local_user_id: local?.userId ?? null });
    return "ignored";
  }
  if (await erasureCoversItem(deps.db, owner.userId, item.createdAt)) {
    await forgetErasedItem(deps, itemId);
    return "ignored";
  }
  await upsertItem(deps.db, item, owner.userId);
  deps.logger.info("item status refreshed", { status: item.status, execution_status: item.executionStatus ?? null, error_code: item.error?.code ?? null });
  return "processed";
}

/**
 * The item's local accounts, refreshed from Pluggy once when one we need is missing (an account that
 * appeared after our last sync).
 */
async function accountsFor(deps: SyncDeps, owner: { userId: string; itemId: string }, needed: readonly string[]): Promise<Map<string, LocalAccountRef>> {
  const local = await localAccountsOf(deps.db, owner.itemId);
  if (needed.every((id) => local.has(id))) return local;
  return upsertAccounts(deps.db, owner, await deps.pluggy.listAccounts(owner.itemId));
}

async function onTransactionsCreated(deps: SyncDeps, itemId: string, payload: WebhookPayloadLike): Promise<WebhookProcessOutcome> {
  const local = await findLocalItem(deps.db, itemId);
  if (!local || local.transactionsWatermark === null) return runItemSync(deps, itemId); // first sight: a full sync covers these rows
  const fields = transactionsCreatedFields.safeParse(payload);
  const given = fields.success ? fields.data.transactionsCreatedAtFrom : undefined;
  const createdAtFrom = createdAtFromOf(given);
  if (!createdAtFrom) {
    if (given === undefined) deps.logger.warn("transactions/created without transactionsCreatedAtFrom; running an incremental item sync");
    else deps.logger.warn("transactions/created with a transactionsCreatedAtFrom that is not an ISO instant; running an incremental item sync", { transactions_created_at_from: String(given).slice(0, 100) });
    return runItemSync(deps, itemId);
  }
  const owner = { userId: local.userId, itemId };
  const accountId = fields.success ? fields.data.accountId : undefined;
  const accounts = await accountsFor(deps, owner, accountId ? [accountId] : []);
  const accountIds = accountId ? [accountId] : [...accounts.keys()];
  const counts = await readAndUpsert(deps, { ...owner, accounts }, accountIds.map((id) => ({ accountId: id, createdAtFrom })));
  deps.logger.info("created transactions fetched", { ...counts, created_at_from: createdAtFrom });
  return "processed";
}

async function onTransactionsUpdated(deps: SyncDeps, itemId: string, payload: WebhookPayloadLike): Promise<WebhookProcessOutcome> {
  const fields = transactionIdsFields.safeParse(payload);
  if (!fields.success) {
    deps.logger.warn("transactions/updated without transactionIds; ignored");
    return "ignored";
  }
  const local = await findLocalItem(deps.db, itemId);
  if (!local || local.transactionsWatermark === null) return runItemSync(deps, itemId); // arrived before item/created
  const owner = { userId: local.userId, itemId };
  const { accountId, transactionIds } = fields.data;
  if (transactionIds.length === 0) return "processed";
  const accounts = await accountsFor(deps, owner, accountId ? [accountId] : []);
  // Pluggy's v2 list needs an account; without one in the payload, ask each account for the ids.
  const accountIds = accountId ? [accountId] : [...accounts.keys()];
  const counts = await readAndUpsert(deps, { ...owner, accounts }, accountIds.map((id) => ({ accountId: id, ids: transactionIds })));
  deps.logger.info("updated transactions re-read", { ...counts, listed: transactionIds.length });
  return "processed";
}

async function onTransactionsDeleted(deps: SyncDeps, itemId: string, payload: WebhookPayloadLike): Promise<WebhookProcessOutcome> {
  const fields = transactionIdsFields.safeParse(payload);
  if (!fields.success) {
    deps.logger.warn("transactions/deleted without transactionIds; ignored");
    return "ignored";
  }
  const removed = await deleteTransactionsByPluggyIds(deps.db, fields.data.transactionIds, { itemId });
  deps.logger.info("transactions removed", { listed: fields.data.transactionIds.length, removed });
  return "processed";
}

async function readAndUpsert(
  deps: SyncDeps,
  owner: { userId: string; itemId: string; accounts: ReadonlyMap<string, LocalAccountRef> },
  queries: TransactionQuery[],
): Promise<{ added: number; updated: number; skipped: number }> {
  const lookup = createCategoryLookup(deps.db);
  const totals = { added: 0, updated: 0, skipped: 0 };
  for (const query of queries) {
    for await (const page of deps.pluggy.iterateTransactions(query)) {
      const counts = await upsertTransactions(deps.db, owner, page, lookup);
      totals.added += counts.added;
      totals.updated += counts.updated;
      totals.skipped += counts.skipped;
    }
  }
  return totals;
}
