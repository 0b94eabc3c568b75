import { eq, inArray, sql, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { chunk, rowsPerStatement } from "../db/client.ts";
import { accounts, categorySyncJobs, items, transactions } from "../db/schema.ts";
import { foldForSearch } from "../banking/transactions.service.ts";
import { newId, nowIso } from "../platform/ids.ts";
import { toMinor } from "../platform/money.ts";
import type { PluggyAccount, PluggyItem, PluggyTransaction } from "../pluggy/pluggy.schemas.ts";
import type { CategoryLookup } from "./category-lookup.ts";
import type { CatalogDeps } from "../platform/services.ts";

/*
 * The write side of Pluggy data: items, accounts and transactions keyed by Pluggy's ids. Every write is
 * an `INSERT ... ON CONFLICT DO UPDATE SET col = excluded.col` that only touches a row when something
 * actually changed (so a repeated sync writes nothing and `updated_at` keeps its meaning), chunked so no
 * statement binds more than D1's 100 parameters, and sent as one `db.batch` (one SQL transaction).
 */

/** `excluded.<column>`: the value the conflicting insert proposed. Column names come from the schema, never from input. */
const excluded = (column: SQLiteColumn): SQL => sql.raw(`excluded."${column.name}"`);

/** True when any of `columns` differs between the stored row and the proposed one (NULL-safe). */
const anyChanged = (columns: SQLiteColumn[]): SQL =>
  sql.join(
    columns.map((column) => sql`${column} IS NOT ${excluded(column)}`),
    sql` OR `,
  );

type NonEmpty<T> = [T, ...T[]];
const nonEmpty = <T>(values: T[]): NonEmpty<T> | undefined => (values.length > 0 ? (values as NonEmpty<T>) : undefined);

/** Pluggy's `date` (ISO instant or plain date) → our booking date: its calendar part as Pluggy wrote it. */
export function bookingDate(pluggyDate: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})/.exec(pluggyDate);
  if (match?.[1]) return match[1];
  const parsed = new Date(pluggyDate);
  if (Number.isNaN(parsed.getTime())) throw new RangeError(`not a date: ${pluggyDate}`);
  return parsed.toISOString().slice(0, 10);
}

/** An instant from Pluggy normalized to `toISOString()` form, so stored instants compare as text. */
export function normalizeInstant(value: string | null | undefined): string | null {
  if (!value) return null;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? null : parsed.toISOString();
}

// ---------------------------------------------------------------------------------------------------
// Items

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

// ---------------------------------------------------------------------------------------------------
// Accounts

/** Our row for a Pluggy account, as later writes need it. */
export interface LocalAccountRef {
  id: string;
  currencyCode: string | null;
}

/**
 * Upserts an item's accounts by Pluggy id (our uuid stays stable; balance in minor units) and returns
 * every local account of the item keyed by Pluggy account id, so transactions can be attached to them.
 */
export async function upsertAccounts(
  { catalog: db }: CatalogDeps,
  owner: { userId: string; itemId: string },
  pluggyAccounts: readonly PluggyAccount[],
  now: string = nowIso(),
): Promise<Map<string, LocalAccountRef>> {
  const changing = [accounts.name, accounts.type, accounts.subtype, accounts.number, accounts.balanceMinor, accounts.currencyCode];
  const values = dedupeBy(pluggyAccounts, (a) => a.id).map((a) => ({
    id: newId(),
    pluggyId: a.id,
    itemId: owner.itemId,
    userId: owner.userId,
    name: a.name ?? a.marketingName ?? null,
    type: a.type,
    subtype: a.subtype ?? null,
    number: a.number ?? null,
    balanceMinor: typeof a.balance === "number" ? toMinor(a.balance) : null,
    currencyCode: a.currencyCode ?? null,
    createdAt: now,
    updatedAt: now,
  }));
  const columns = values[0] ? Object.keys(values[0]).length : 1;
  const writes = chunk(values, rowsPerStatement(columns)).map((rows) =>
    db
      .insert(accounts)
      .values(rows)
      .onConflictDoUpdate({
        target: accounts.pluggyId,
        set: {
          name: excluded(accounts.name),
          type: excluded(accounts.type),
          subtype: excluded(accounts.subtype),
          number: excluded(accounts.number),
          balanceMinor: excluded(accounts.balanceMinor),
          currencyCode: excluded(accounts.currencyCode),
          updatedAt: excluded(accounts.updatedAt),
        },
        // Only the item's owner's row: a Pluggy account id is never re-attributed to someone else.
        setWhere: sql`${accounts.userId} = ${excluded(accounts.userId)} AND (${anyChanged(changing)})`,
      }),
  );
  const read = db
    .select({ id: accounts.id, pluggyId: accounts.pluggyId, currencyCode: accounts.currencyCode })
    .from(accounts)
    .where(eq(accounts.itemId, owner.itemId));
  const [, ...results] = await db.batch([read, ...writes, read]);
  const after = results.at(-1) as Awaited<typeof read>;
  return new Map(after.map((a) => [a.pluggyId, { id: a.id, currencyCode: a.currencyCode }]));
}

/** The item's local accounts keyed by Pluggy account id. */
export async function localAccountsOf({ catalog: db }: CatalogDeps, itemId: string): Promise<Map<string, LocalAccountRef>> {
  const rows = await db
    .select({ id: accounts.id, pluggyId: accounts.pluggyId, currencyCode: accounts.currencyCode })
    .from(accounts)
    .where(eq(accounts.itemId, itemId));
  return new Map(rows.map((a) => [a.pluggyId, { id: a.id, currencyCode: a.currencyCode }]));
}

// ---------------------------------------------------------------------------------------------------
// Transactions

/** Who owns the transactions being written and where their Pluggy account ids point locally. */
export interface TransactionOwner {
  userId: string;
  itemId: string;
  /** Pluggy account id → our account. Transactions of an account not in here are skipped (and counted). */
  accounts: ReadonlyMap<string, LocalAccountRef>;
}

export interface TransactionUpsertResult {
  /** Rows that did not exist before. */
  added: number;
  /** Existing rows where something changed. */
  updated: number;
  /** Existing rows already identical to Pluggy's (nothing written). */
  unchanged: number;
  /** Rows whose account is unknown locally (not written). */
  skipped: number;
  /** The largest Pluggy `createdAt` among the rows, normalized; null when none carried one. */
  maxCreatedAt: string | null;
}

/** Columns whose change makes a stored transaction "updated". `category_id` is handled apart (the user's choice wins). */
const TRANSACTION_SYNCED_COLUMNS = [
  transactions.accountId,
  transactions.itemId,
  transactions.date,
  transactions.description,
  transactions.descriptionFolded,
  transactions.amountMinor,
  transactions.currencyCode,
  transactions.type,
  transactions.status,
  transactions.pluggyCategoryId,
  transactions.pluggyCategoryName,
  transactions.pluggyCreatedAt,
];

/** The per-row columns of a transaction upsert, in the order of each row's JSON array. */
const TRANSACTION_ROW_COLUMNS = [
  transactions.id,
  transactions.pluggyId,
  transactions.accountId,
  transactions.date,
  transactions.description,
  transactions.descriptionFolded,
  transactions.amountMinor,
  transactions.currencyCode,
  transactions.type,
  transactions.status,
  transactions.categoryId,
  transactions.pluggyCategoryId,
  transactions.pluggyCategoryName,
  transactions.pluggyCreatedAt,
] as const;

/** One row, positionally matching TRANSACTION_ROW_COLUMNS. */
type TransactionRowTuple = [
  id: string,
  pluggyId: string,
  accountId: string,
  date: string,
  description: string,
  descriptionFolded: string,
  amountMinor: number,
  currencyCode: string,
  type: "DEBIT" | "CREDIT",
  status: "POSTED" | "PENDING",
  categoryId: string | null,
  pluggyCategoryId: string | null,
  pluggyCategoryName: string | null,
  pluggyCreatedAt: string | null,
];

/** Rows per statement: one Pluggy page. The rows travel as one JSON parameter (a few hundred KB at most). */
export const TRANSACTION_ROWS_PER_STATEMENT = 500;

/**
 * One multi-row upsert whose rows arrive as a single JSON parameter read with `json_each`: five bound
 * parameters whatever the row count, so a 500-row Pluggy page is one statement instead of a hundred
 * 5-row `VALUES` statements (D1's 100-parameter limit), and about twice as fast. Column names come
 * from the drizzle schema.
 */
function transactionUpsertStatement(owner: { userId: string; itemId: string }, rows: TransactionRowTuple[], now: string): SQL {
  const id = (column: SQLiteColumn) => sql.identifier(column.name);
  const inserted: [SQLiteColumn, SQL][] = [
    ...TRANSACTION_ROW_COLUMNS.map((column, index): [SQLiteColumn, SQL] => [column, sql`r.value ->> ${sql.raw(String(index))}`]),
    [transactions.userId, sql`${owner.userId}`],
    [transactions.itemId, sql`${owner.itemId}`],
    [transactions.createdAt, sql`${now}`],
    [transactions.updatedAt, sql`${now}`],
  ];
  const userKeepsCategory = sql`${transactions.categorySetByUser} = 1`;
  const updates = [
    ...TRANSACTION_SYNCED_COLUMNS.map((column) => sql`${id(column)} = ${excluded(column)}`),
    sql`${id(transactions.categoryId)} = CASE WHEN ${userKeepsCategory} THEN ${transactions.categoryId} ELSE ${excluded(transactions.categoryId)} END`,
    sql`${id(transactions.updatedAt)} = ${excluded(transactions.updatedAt)}`,
  ];
  return sql`INSERT INTO ${transactions} (${sql.join(inserted.map(([column]) => id(column)), sql`, `)})
    SELECT ${sql.join(inserted.map(([, value]) => value), sql`, `)} FROM json_each(${JSON.stringify(rows)}) AS r WHERE true
    ON CONFLICT (${id(transactions.pluggyId)}) DO UPDATE SET ${sql.join(updates, sql`, `)}
    WHERE ${transactions.userId} = ${excluded(transactions.userId)}
      AND (${anyChanged(TRANSACTION_SYNCED_COLUMNS)} OR (NOT ${userKeepsCategory} AND ${transactions.categoryId} IS NOT ${excluded(transactions.categoryId)}))
    RETURNING ${id(transactions.id)} AS id, ${id(transactions.pluggyId)} AS pluggy_id`;
}

/**
 * Upserts a page of Pluggy transactions by Pluggy id: amounts in minor units, the booking date, the
 * folded description for search, Pluggy's category, and our category from the mapping — but only while
 * the user has not chosen one (`category_set_by_user`), on insert and on update alike. The user's
 * choice and `category_version` are never touched, nor a row of another user. Unchanged rows are not
 * written. One statement per page of up to 500 rows, binding five parameters.
 */
export async function upsertTransactions(
  { catalog: db }: CatalogDeps,
  owner: TransactionOwner,
  pluggyTransactions: readonly PluggyTransaction[],
  lookupCategories: CategoryLookup,
  now: string = nowIso(),
): Promise<TransactionUpsertResult> {
  const result: TransactionUpsertResult = { added: 0, updated: 0, unchanged: 0, skipped: 0, maxCreatedAt: null };
  const known = dedupeBy(pluggyTransactions, (t) => t.id).filter((t) => {
    if (owner.accounts.has(t.accountId)) return true;
    result.skipped++;
    return false;
  });
  if (known.length === 0) return result;

  const categoryIds = [...new Set(known.map((t) => t.categoryId).filter((id): id is string => typeof id === "string" && id.length > 0))];
  const localCategory = categoryIds.length > 0 ? await lookupCategories(categoryIds) : new Map<string, string>();

  const candidateIds = new Map<string, string>();
  const rows = known.map((t): TransactionRowTuple => {
    const account = owner.accounts.get(t.accountId);
    const description = t.description ?? t.descriptionRaw ?? "";
    const createdAt = normalizeInstant(t.createdAt);
    if (createdAt && (result.maxCreatedAt === null || createdAt > result.maxCreatedAt)) result.maxCreatedAt = createdAt;
    const id = newId();
    candidateIds.set(t.id, id);
    return [
      id,
      t.id,
      account?.id ?? "",
      bookingDate(t.date),
      description,
      foldForSearch(description),
      toMinor(t.amount),
      t.currencyCode ?? account?.currencyCode ?? "BRL",
      t.type,
      t.status ?? "POSTED",
      t.categoryId ? (localCategory.get(t.categoryId) ?? null) : null,
      t.categoryId ?? null,
      t.category ?? null,
      createdAt,
    ];
  });

  // One statement per 500 rows (a Pluggy page is one). Each is atomic on its own; the chunks of a larger
  // call are independent idempotent upserts, so they run one after the other rather than in `db.batch`,
  // where drizzle cannot bind raw `sql` (drizzle-orm#2277).
  for (const part of chunk(rows, TRANSACTION_ROWS_PER_STATEMENT)) {
    const written = await db.all<{ id: string; pluggy_id: string }>(transactionUpsertStatement(owner, part, now));
    for (const row of written) {
      if (candidateIds.get(row.pluggy_id) === row.id) result.added++;
      else result.updated++;
    }
  }
  result.unchanged = known.length - result.added - result.updated;
  return result;
}

/** Pluggy ids per `IN (...)` list, leaving room for the scope's own parameters (≤ 100 in all). */
const IDS_PER_DELETE = 90;

/**
 * Which of `pluggyIds` this item holds, each with the Pluggy id of its account (Pluggy's transaction list
 * is per account): what a deletion must ask Pluggy about before removing anything.
 */
export async function heldTransactionAccounts({ catalog: db }: CatalogDeps, itemId: string, pluggyIds: readonly string[]): Promise<Map<string, string>> {
  const held = new Map<string, string>();
  for (const ids of chunk([...new Set(pluggyIds)], IDS_PER_DELETE)) {
    const rows = await db
      .select({ pluggyId: transactions.pluggyId, accountPluggyId: accounts.pluggyId })
      .from(transactions)
      .innerJoin(accounts, eq(accounts.id, transactions.accountId))
      .where(sql`${inArray(transactions.pluggyId, ids)} AND ${transactions.itemId} = ${itemId}`);
    for (const row of rows) if (row.pluggyId) held.set(row.pluggyId, row.accountPluggyId);
  }
  return held;
}

/**
 * Removes transactions by Pluggy id (Pluggy said they are gone), with their category-sync jobs, limited
 * to `scope.itemId` when given so an event about one item cannot remove another's rows. Returns how
 * many transactions were removed; unknown ids are no-ops, so repeats are harmless.
 */
export async function deleteTransactionsByPluggyIds({ catalog: db }: CatalogDeps, pluggyIds: readonly string[], scope: { itemId?: string } = {}): Promise<number> {
  const statements = chunk([...new Set(pluggyIds)], IDS_PER_DELETE).flatMap((ids) => {
    const where = scope.itemId
      ? sql`${inArray(transactions.pluggyId, ids)} AND ${transactions.itemId} = ${scope.itemId}`
      : inArray(transactions.pluggyId, ids);
    return [
      db.delete(categorySyncJobs).where(inArray(categorySyncJobs.transactionId, db.select({ id: transactions.id }).from(transactions).where(where))),
      db.delete(transactions).where(where),
    ];
  });
  const batch = nonEmpty(statements);
  if (!batch) return 0;
  const results = await db.batch(batch);
  return results.reduce<number>((sum, r, index) => sum + (index % 2 === 1 ? r.meta.changes : 0), 0);
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

function dedupeBy<T>(values: readonly T[], key: (value: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const value of values) byKey.set(key(value), value); // the last one wins, like a later update
  return [...byKey.values()];
}
