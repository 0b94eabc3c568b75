import { eq, inArray, sql, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { accounts, categorySyncJobs, items, transactions } from "../db/schema.ts";
import { normalizeInstant } from "../ledger/banking.inputs.ts";
import { nowIso } from "../platform/ids.ts";
import type { PluggyItem } from "../pluggy/pluggy.schemas.ts";
import type { CatalogDeps } from "../platform/services.ts";

/*
 * TRANSITIONAL — the D1 versions of two writes that other domains still import while the banking data
 * moves to each user's ledger: `upsertItem` (src/connect) and `deleteItemData` (src/erasure). The sync
 * and reconciliation no longer use them (they write the owner's ledger, src/sync/upserts.ts). Delete
 * this file, and its re-export in upserts.ts, once nothing imports them and the D1 banking tables go.
 */

/** `excluded.<column>`: the value the conflicting insert proposed. Column names come from the schema, never from input. */
const excluded = (column: SQLiteColumn): SQL => sql.raw(`excluded."${column.name}"`);

/** True when any of `columns` differs between the stored row and the proposed one (NULL-safe). */
const anyChanged = (columns: SQLiteColumn[]): SQL =>
  sql.join(
    columns.map((column) => sql`${column} IS NOT ${excluded(column)}`),
    sql` OR `,
  );

/** What `upsertItem` did, as D1 decided it. */
export interface ItemUpsertResult {
  /** The row now belongs to `userId` (false: it is another user's, and was left alone). */
  owned: boolean;
  /** This call inserted the row. Decided by the insert itself, so of concurrent callers exactly one sees true. */
  created: boolean;
}

/**
 * Creates or refreshes the local row of a Pluggy item for `userId` (status, execution status, error,
 * connector, `lastUpdatedAt`). The owner, the watermark and `created_at` are never rewritten, and an
 * existing row that belongs to another user is left alone (`owned: false`), so a webhook can never move
 * a connection between users. One `db.batch` (one SQL transaction): an `INSERT ... ON CONFLICT DO
 * NOTHING RETURNING` whose returned row is the only source of `created`, the refresh of an existing row,
 * and the owner read back.
 */
export async function upsertItem({ catalog: db }: CatalogDeps, item: PluggyItem, userId: string, now: string = nowIso()): Promise<ItemUpsertResult> {
  const changing = [
    items.connectorId,
    items.connectorName,
    items.connectorImageUrl,
    items.status,
    items.executionStatus,
    items.errorCode,
    items.errorMessage,
    items.lastUpdatedAt,
    items.pluggyCreatedAt,
  ];
  const row = {
    id: item.id,
    userId,
    connectorId: item.connector.id,
    connectorName: item.connector.name,
    connectorImageUrl: item.connector.imageUrl ?? null,
    status: item.status,
    executionStatus: item.executionStatus ?? null,
    errorCode: item.error?.code ?? null,
    errorMessage: item.error?.message ?? null,
    lastUpdatedAt: normalizeInstant(item.lastUpdatedAt),
    pluggyCreatedAt: normalizeInstant(item.createdAt),
    createdAt: now,
    updatedAt: now,
  };
  const [inserted, , owner] = await db.batch([
    db.insert(items).values(row).onConflictDoNothing({ target: items.id }).returning({ id: items.id }),
    // A row this batch just inserted has nothing to change, so this only ever touches an existing row.
    db
      .insert(items)
      .values(row)
      .onConflictDoUpdate({
        target: items.id,
        set: {
          connectorId: excluded(items.connectorId),
          connectorName: excluded(items.connectorName),
          connectorImageUrl: excluded(items.connectorImageUrl),
          status: excluded(items.status),
          executionStatus: excluded(items.executionStatus),
          errorCode: excluded(items.errorCode),
          errorMessage: excluded(items.errorMessage),
          lastUpdatedAt: excluded(items.lastUpdatedAt),
          pluggyCreatedAt: excluded(items.pluggyCreatedAt),
          updatedAt: excluded(items.updatedAt),
        },
        setWhere: sql`${items.userId} = ${excluded(items.userId)} AND (${anyChanged(changing)})`,
      }),
    db.select({ userId: items.userId }).from(items).where(eq(items.id, item.id)),
  ]);
  return { owned: owner[0]?.userId === userId, created: inserted.length > 0 };
}

/**
 * Removes everything we hold about an item — its category-sync jobs, transactions, accounts and the item
 * row — in one batch (all or nothing). Idempotent: a second call finds nothing.
 */
export async function deleteItemData({ catalog: db }: CatalogDeps, itemId: string): Promise<{ item: boolean; accounts: number; transactions: number }> {
  const itemTransactionIds = db.select({ id: transactions.id }).from(transactions).where(eq(transactions.itemId, itemId));
  const [, removedTransactions, removedAccounts, removedItems] = await db.batch([
    db.delete(categorySyncJobs).where(inArray(categorySyncJobs.transactionId, itemTransactionIds)),
    db.delete(transactions).where(eq(transactions.itemId, itemId)),
    db.delete(accounts).where(eq(accounts.itemId, itemId)),
    db.delete(items).where(eq(items.id, itemId)),
  ]);
  return { item: removedItems.meta.changes > 0, accounts: removedAccounts.meta.changes, transactions: removedTransactions.meta.changes };
}
