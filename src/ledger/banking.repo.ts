import { and, asc, count, desc, eq, gte, inArray, isNotNull, isNull, lt, sql, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { newId } from "../platform/ids.ts";
import {
  accountCursorOf,
  foldForSearch,
  itemCursorOf,
  transactionCursorOf,
  type AccountCursor,
  type AccountInput,
  type ItemCursor,
  type ItemInput,
  type LocalAccounts,
  type TransactionCursor,
  type TransactionInput,
  type TransactionPageCounts,
} from "./banking.inputs.ts";
import { accounts, categorySyncJobs, items, transactions, type AccountRow, type CategorySyncJobRow, type ItemRow, type TransactionRow } from "./ledger.schema.ts";
import type { LedgerDb } from "./user-ledger.ts";

/*
 * The ledger's banking storage: reads for the API, the Pluggy sync writes, deletions. Everything runs
 * synchronously on the Durable Object's own SQLite; the caller (a `UserLedger` RPC method) wraps each
 * unit of work in one `transactionSync`. Lists of ids travel as one JSON parameter read with
 * `json_each` (the runtime binds at most 100 parameters per statement), and every query is served by
 * an index of ledger.schema.ts (test/ledger/banking.test.ts checks the plans).
 */

/** `excluded.<column>`: the value the conflicting insert proposed. Column names come from the schema, never from input. */
const excluded = (column: SQLiteColumn): SQL => sql.raw(`excluded."${column.name}"`);

/** True when any of `columns` differs between the stored row and the proposed one (NULL-safe). */
const anyChanged = (columns: SQLiteColumn[]): SQL =>
  sql.join(
    columns.map((column) => sql`${column} IS NOT ${excluded(column)}`),
    sql` OR `,
  );

/** `column IN (the JSON array's values)`: one bound parameter however many values. */
const inJson = (column: SQLiteColumn, values: readonly string[]): SQL => sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`;

/**
 * `+item_id = ?`: the same test, but SQLite will not choose `transactions_item_date_idx` for it. Where
 * the item is only a guard beside a sharper condition (a list of Pluggy ids, one account), the planner,
 * knowing neither the JSON list's length nor an item's size, would otherwise walk every row of the item.
 */
const itemGuard = (itemId: string): SQL => sql`+${transactions.itemId} = ${itemId}`;

/** Rows changed by the statement just run on this connection. */
const changes = (db: LedgerDb): number => db.get<{ n: number }>(sql`SELECT changes() AS n`).n;

function chunk<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

function dedupeBy<T>(values: readonly T[], key: (value: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const value of values) byKey.set(key(value), value); // the last one wins, like a later update
  return [...byKey.values()];
}

export interface Page<T> {
  rows: T[];
  /** The opaque cursor of the next page (the HTTP API's format), null on the last page. */
  nextCursor: string | null;
}

function pageOf<T>(rows: T[], limit: number, cursorOf: (row: T) => string): Page<T> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { rows: page, nextCursor: rows.length > limit && last ? cursorOf(last) : null };
}

// ---------------------------------------------------------------------------------------------------
// Reads

export interface ItemListQuery {
  limit: number;
  after?: ItemCursor | undefined;
}

/** The bank connections, most recently registered first (ties by id, descending), keyset on (created_at, id). */
export function listItems(db: LedgerDb, query: ItemListQuery): Page<ItemRow> {
  const where = query.after ? sql`(${items.createdAt}, ${items.id}) < (${query.after.c}, ${query.after.i})` : undefined;
  const rows = db
    .select()
    .from(items)
    .where(where)
    .orderBy(desc(items.createdAt), desc(items.id))
    .limit(query.limit + 1)
    .all();
  return pageOf(rows, query.limit, itemCursorOf);
}

export function getItem(db: LedgerDb, itemId: string): ItemRow | null {
  return db.select().from(items).where(eq(items.id, itemId)).get() ?? null;
}

/**
 * The ids of the items held here (item rows, and the item ids on accounts and transactions, in case an
 * item row went first). With `createdUpTo` only item rows Pluggy created up to that instant (or whose
 * creation is unknown): erasure's sweep leaves a connection made after the request alone.
 */
export function listItemIds(db: LedgerDb, options: { createdUpTo?: string | undefined } = {}): string[] {
  if (options.createdUpTo !== undefined) {
    const upTo = Date.parse(options.createdUpTo);
    return db
      .select({ id: items.id, createdAt: items.pluggyCreatedAt })
      .from(items)
      .all()
      .filter((row) => row.createdAt === null || Date.parse(row.createdAt) <= upTo)
      .map((row) => row.id);
  }
  const ids = new Set<string>();
  for (const row of db.select({ id: items.id }).from(items).all()) ids.add(row.id);
  for (const row of db.selectDistinct({ id: accounts.itemId }).from(accounts).all()) ids.add(row.id);
  for (const row of db.selectDistinct({ id: transactions.itemId }).from(transactions).where(isNotNull(transactions.itemId)).all()) if (row.id) ids.add(row.id);
  return [...ids];
}

export interface AccountListQuery {
  itemId?: string | undefined;
  limit: number;
  after?: AccountCursor | undefined;
}

/** The accounts grouped by item (item id, then account id, ascending): exactly `accounts_item_idx`. */
export function listAccounts(db: LedgerDb, query: AccountListQuery): Page<AccountRow> {
  const rows = db
    .select()
    .from(accounts)
    .where(
      and(
        query.itemId ? eq(accounts.itemId, query.itemId) : undefined,
        query.after ? sql`(${accounts.itemId}, ${accounts.id}) > (${query.after.t}, ${query.after.i})` : undefined,
      ),
    )
    .orderBy(asc(accounts.itemId), asc(accounts.id))
    .limit(query.limit + 1)
    .all();
  return pageOf(rows, query.limit, accountCursorOf);
}

export function getAccount(db: LedgerDb, accountId: string): AccountRow | null {
  return db.select().from(accounts).where(eq(accounts.id, accountId)).get() ?? null;
}

/** The item's local accounts keyed by Pluggy account id. */
export function localAccountsOf(db: LedgerDb, itemId: string): LocalAccounts {
  const rows = db
    .select({ id: accounts.id, pluggyId: accounts.pluggyId, currencyCode: accounts.currencyCode })
    .from(accounts)
    .where(eq(accounts.itemId, itemId))
    .all();
  return Object.fromEntries(rows.map((a) => [a.pluggyId, { id: a.id, currencyCode: a.currencyCode }]));
}

export interface TransactionListQuery {
  accountId?: string | undefined;
  itemId?: string | undefined;
  /** A category id, or "none" for uncategorized. */
  categoryId?: string | undefined;
  dateFrom?: string | undefined;
  dateTo?: string | undefined;
  /** Matched, accent- and case-insensitively, anywhere in the description. */
  search?: string | undefined;
  limit: number;
  after?: TransactionCursor | undefined;
}

/** Rows plus what serializing them needs from the ledger: their category-sync jobs (category names come from the catalog). */
export interface TransactionPage extends Page<TransactionRow> {
  jobs: CategorySyncJobRow[];
}

/** The category-sync jobs of the given transactions (at most one each). */
export function jobsOf(db: LedgerDb, transactionIds: readonly string[]): CategorySyncJobRow[] {
  if (transactionIds.length === 0) return [];
  return db.select().from(categorySyncJobs).where(inJson(categorySyncJobs.transactionId, transactionIds)).all();
}

/**
 * The transactions, newest date first (ties by id, descending), keyset on (date, id) so pages stay
 * stable when rows are inserted between requests. The row-value comparison is a range on the
 * `(…, date desc, id desc)` indexes: a deep page seeks to the cursor instead of scanning up to it.
 */
export function listTransactions(db: LedgerDb, query: TransactionListQuery): TransactionPage {
  const where: SQL[] = [];
  if (query.accountId) where.push(eq(transactions.accountId, query.accountId));
  if (query.itemId) where.push(eq(transactions.itemId, query.itemId));
  if (query.categoryId === "none") where.push(isNull(transactions.categoryId));
  else if (query.categoryId) where.push(eq(transactions.categoryId, query.categoryId));
  if (query.dateFrom) where.push(sql`${transactions.date} >= ${query.dateFrom}`);
  if (query.dateTo) where.push(sql`${transactions.date} <= ${query.dateTo}`);
  if (query.search) where.push(sql`instr(${transactions.descriptionFolded}, ${foldForSearch(query.search)}) > 0`);
  if (query.after) where.push(sql`(${transactions.date}, ${transactions.id}) < (${query.after.d}, ${query.after.i})`);
  const rows = db
    .select()
    .from(transactions)
    .where(and(...where))
    .orderBy(desc(transactions.date), desc(transactions.id))
    .limit(query.limit + 1)
    .all();
  const page = pageOf(rows, query.limit, transactionCursorOf);
  return { ...page, jobs: jobsOf(db, page.rows.map((r) => r.id)) };
}

export function getTransaction(db: LedgerDb, transactionId: string): { row: TransactionRow; job: CategorySyncJobRow | null } | null {
  const row = db.select().from(transactions).where(eq(transactions.id, transactionId)).get();
  if (!row) return null;
  return { row, job: jobsOf(db, [row.id])[0] ?? null };
}

// ---------------------------------------------------------------------------------------------------
// Items

/**
 * Creates or refreshes the item's row (status, execution status, error, connector, `lastUpdatedAt`).
 * The watermark, `last_reconciled_at` and `created_at` are never rewritten, and a refresh that changes
 * nothing writes nothing. `created`: this call inserted the row; `updated`: it changed an existing one.
 */
export function applyItem(db: LedgerDb, input: ItemInput, now: string): { created: boolean; updated: boolean } {
  const row = { ...input, createdAt: now, updatedAt: now };
  const inserted = db.insert(items).values(row).onConflictDoNothing({ target: items.id }).returning({ id: items.id }).all();
  if (inserted.length > 0) return { created: true, updated: false };
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
  const updated = db
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
      setWhere: anyChanged(changing),
    })
    .returning({ id: items.id })
    .all();
  return { created: false, updated: updated.length > 0 };
}

/**
 * Moves the item's watermark to `candidate` unless it is already later (two syncs racing can only move
 * it forward). Returns the stored value (null when the item is not here).
 */
export function advanceWatermark(db: LedgerDb, itemId: string, candidate: string): string | null {
  const row = db
    .update(items)
    .set({ transactionsWatermark: forwardOnly(candidate) })
    .where(eq(items.id, itemId))
    .returning({ watermark: items.transactionsWatermark })
    .get();
  return row?.watermark ?? null;
}

const forwardOnly = (candidate: string): SQL =>
  sql`CASE WHEN ${items.transactionsWatermark} IS NULL OR ${items.transactionsWatermark} < ${candidate} THEN ${candidate} ELSE ${items.transactionsWatermark} END`;

/**
 * Ends a successful reconciliation: `last_reconciled_at = at`, and the watermark moved forward to
 * `maxCreatedAt` when the run read one. Returns the stored watermark (null also when the item is gone).
 */
export function markReconciled(db: LedgerDb, itemId: string, at: string, maxCreatedAt: string | null): string | null {
  const row = db
    .update(items)
    .set({ lastReconciledAt: at, ...(maxCreatedAt ? { transactionsWatermark: forwardOnly(maxCreatedAt) } : {}) })
    .where(eq(items.id, itemId))
    .returning({ watermark: items.transactionsWatermark })
    .get();
  return row?.watermark ?? null;
}

export interface ItemRemoval {
  item: boolean;
  accounts: number;
  transactions: number;
}

/** Removes an item with its accounts, transactions and their category-sync jobs. A repeat finds nothing. */
export function deleteItemData(db: LedgerDb, itemId: string): ItemRemoval {
  const itemTransactions = db.select({ id: transactions.id }).from(transactions).where(eq(transactions.itemId, itemId));
  db.delete(categorySyncJobs).where(inArray(categorySyncJobs.transactionId, itemTransactions)).run();
  db.delete(transactions).where(eq(transactions.itemId, itemId)).run();
  const removedTransactions = changes(db);
  db.delete(accounts).where(eq(accounts.itemId, itemId)).run();
  const removedAccounts = changes(db);
  db.delete(items).where(eq(items.id, itemId)).run();
  return { item: changes(db) > 0, accounts: removedAccounts, transactions: removedTransactions };
}

// ---------------------------------------------------------------------------------------------------
// Accounts

export interface ApplyAccountsOptions {
  /**
   * Also remove the item's local accounts not in `accounts`, with their transactions and jobs
   * (reconciliation). Not when `accounts` is empty: Pluggy listing none at all is more likely a passing
   * state than a closed bank, so they are kept (and counted in `unlistedKept`).
   */
  dropUnlisted?: boolean;
}

export interface ApplyAccountsResult {
  /** The item's local accounts after the write, keyed by Pluggy account id. */
  accounts: LocalAccounts;
  /** Accounts inserted, and existing ones where something changed. */
  added: number;
  updated: number;
  /** With `dropUnlisted`: accounts removed and their transactions. */
  removed: { accounts: number; transactions: number };
  /** With `dropUnlisted` and an empty list: the local accounts kept anyway. */
  unlistedKept: number;
}

/** Rows per multi-row account insert: 11 columns each, within the 100 bound parameters of a statement. */
const ACCOUNTS_PER_STATEMENT = 9;

/** Upserts the item's accounts by Pluggy id (our id stays stable; unchanged rows are not written). */
export function applyAccounts(db: LedgerDb, itemId: string, inputs: readonly AccountInput[], now: string, options: ApplyAccountsOptions = {}): ApplyAccountsResult {
  const result: ApplyAccountsResult = { accounts: {}, added: 0, updated: 0, removed: { accounts: 0, transactions: 0 }, unlistedKept: 0 };
  const changing = [accounts.name, accounts.type, accounts.subtype, accounts.number, accounts.balanceMinor, accounts.currencyCode];
  const values = dedupeBy(inputs, (a) => a.pluggyId).map((a) => ({ ...a, id: newId(), itemId, createdAt: now, updatedAt: now }));
  const candidateIds = new Set(values.map((v) => v.id));
  for (const rows of chunk(values, ACCOUNTS_PER_STATEMENT)) {
    const written = db
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
        setWhere: anyChanged(changing),
      })
      .returning({ id: accounts.id })
      .all();
    for (const row of written) {
      if (candidateIds.has(row.id)) result.added++;
      else result.updated++;
    }
  }
  if (options.dropUnlisted) {
    const listed = new Set(values.map((v) => v.pluggyId));
    const unlisted = db
      .select({ id: accounts.id, pluggyId: accounts.pluggyId })
      .from(accounts)
      .where(eq(accounts.itemId, itemId))
      .all()
      .filter((a) => !listed.has(a.pluggyId));
    if (listed.size === 0) result.unlistedKept = unlisted.length;
    else
      for (const account of unlisted) {
        const accountTransactions = db.select({ id: transactions.id }).from(transactions).where(eq(transactions.accountId, account.id));
        db.delete(categorySyncJobs).where(inArray(categorySyncJobs.transactionId, accountTransactions)).run();
        db.delete(transactions).where(eq(transactions.accountId, account.id)).run();
        result.removed.transactions += changes(db);
        db.delete(accounts).where(eq(accounts.id, account.id)).run();
        result.removed.accounts += changes(db);
      }
  }
  result.accounts = localAccountsOf(db, itemId);
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Transactions

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

/** Rows per statement: one Pluggy page. The rows travel as one JSON parameter. */
export const TRANSACTION_ROWS_PER_STATEMENT = 500;

/**
 * One multi-row upsert whose rows arrive as a single JSON parameter read with `json_each`. On conflict
 * (the Pluggy id) the row is rewritten only when something changed, and our category only while the
 * user has not chosen one. Returns the id and Pluggy id of every row inserted or changed.
 */
function transactionUpsertStatement(itemId: string, rows: TransactionRowTuple[], now: string): SQL {
  const id = (column: SQLiteColumn) => sql.identifier(column.name);
  const inserted: [SQLiteColumn, SQL][] = [
    ...TRANSACTION_ROW_COLUMNS.map((column, index): [SQLiteColumn, SQL] => [column, sql`r.value ->> ${sql.raw(String(index))}`]),
    [transactions.itemId, sql`${itemId}`],
    [transactions.createdAt, sql`${now}`],
    [transactions.updatedAt, sql`${now}`],
  ];
  const userKeepsCategory = sql`${transactions.categorySetByUser} = 1`;
  const updates = [
    ...TRANSACTION_SYNCED_COLUMNS.map((column) => sql`${id(column)} = ${excluded(column)}`),
    sql`${id(transactions.categoryId)} = CASE WHEN ${userKeepsCategory} THEN ${transactions.categoryId} ELSE ${excluded(transactions.categoryId)} END`,
    sql`${id(transactions.updatedAt)} = ${excluded(transactions.updatedAt)}`,
  ];
  return sql`INSERT INTO ${transactions} (${sql.join(
    inserted.map(([column]) => id(column)),
    sql`, `,
  )})
    SELECT ${sql.join(
      inserted.map(([, value]) => value),
      sql`, `,
    )} FROM json_each(${JSON.stringify(rows)}) AS r WHERE true
    ON CONFLICT (${id(transactions.pluggyId)}) DO UPDATE SET ${sql.join(updates, sql`, `)}
    WHERE ${anyChanged(TRANSACTION_SYNCED_COLUMNS)} OR (NOT ${userKeepsCategory} AND ${transactions.categoryId} IS NOT ${excluded(transactions.categoryId)})
    RETURNING ${id(transactions.id)} AS id, ${id(transactions.pluggyId)} AS pluggy_id`;
}

/**
 * Upserts a page of the item's transactions by Pluggy id: rows of an account not in `localAccounts` are
 * skipped (and counted), the currency falls back to the account's, the folded description is derived
 * here. Our category (resolved by the Worker) is written only while the user has not chosen one, on
 * insert and on update alike; the user's choice and `category_version` are never touched. Unchanged
 * rows are not written, so a repeated page counts them as `unchanged`. One statement per 500 rows.
 */
export function applyTransactionsPage(db: LedgerDb, itemId: string, localAccounts: LocalAccounts, inputs: readonly TransactionInput[], now: string): TransactionPageCounts {
  const result: TransactionPageCounts = { added: 0, updated: 0, unchanged: 0, skipped: 0, maxCreatedAt: null };
  const candidateIds = new Map<string, string>();
  const rows: TransactionRowTuple[] = [];
  for (const t of dedupeBy(inputs, (t) => t.pluggyId)) {
    const account = Object.hasOwn(localAccounts, t.accountPluggyId) ? localAccounts[t.accountPluggyId] : undefined;
    if (!account) {
      result.skipped++;
      continue;
    }
    if (t.pluggyCreatedAt && (result.maxCreatedAt === null || t.pluggyCreatedAt > result.maxCreatedAt)) result.maxCreatedAt = t.pluggyCreatedAt;
    const id = newId();
    candidateIds.set(t.pluggyId, id);
    rows.push([
      id,
      t.pluggyId,
      account.id,
      t.date,
      t.description,
      foldForSearch(t.description),
      t.amountMinor,
      t.currencyCode ?? account.currencyCode ?? "BRL",
      t.type,
      t.status,
      t.categoryId,
      t.pluggyCategoryId,
      t.pluggyCategoryName,
      t.pluggyCreatedAt,
    ]);
  }
  for (const part of chunk(rows, TRANSACTION_ROWS_PER_STATEMENT)) {
    for (const row of db.all<{ id: string; pluggy_id: string }>(transactionUpsertStatement(itemId, part, now))) {
      if (candidateIds.get(row.pluggy_id) === row.id) result.added++;
      else result.updated++;
    }
  }
  result.unchanged = rows.length - result.added - result.updated;
  return result;
}

/**
 * Which of `pluggyIds` this item holds, each with the Pluggy id of its account (Pluggy's transaction
 * list is per account): what a deletion must ask Pluggy about before removing anything.
 */
export function heldTransactionAccounts(db: LedgerDb, itemId: string, pluggyIds: readonly string[]): Record<string, string> {
  if (pluggyIds.length === 0) return {};
  const rows = db
    .select({ pluggyId: transactions.pluggyId, accountPluggyId: accounts.pluggyId })
    .from(transactions)
    .innerJoin(accounts, eq(accounts.id, transactions.accountId))
    .where(and(inJson(transactions.pluggyId, [...new Set(pluggyIds)]), itemGuard(itemId)))
    .all();
  const held: Record<string, string> = {};
  for (const row of rows) if (row.pluggyId) held[row.pluggyId] = row.accountPluggyId;
  return held;
}

/**
 * Removes transactions by Pluggy id (Pluggy said they are gone) with their category-sync jobs, limited
 * to `scope.itemId` when given so an event about one item cannot remove another's rows. Returns how many
 * transactions went; unknown ids are no-ops, so repeats are harmless.
 */
export function deleteTransactionsByPluggyIds(db: LedgerDb, pluggyIds: readonly string[], scope: { itemId?: string | undefined } = {}): number {
  if (pluggyIds.length === 0) return 0;
  const where = and(inJson(transactions.pluggyId, [...new Set(pluggyIds)]), scope.itemId === undefined ? undefined : itemGuard(scope.itemId));
  const doomed = db.select({ id: transactions.id }).from(transactions).where(where);
  db.delete(categorySyncJobs).where(inArray(categorySyncJobs.transactionId, doomed)).run();
  db.delete(transactions).where(where).run();
  return changes(db);
}

export interface VanishedScope {
  itemId: string;
  /** Our account id. */
  accountId: string;
  /** First booking date of the compared window (YYYY-MM-DD). */
  windowStart: string;
  /** Only rows stored before this instant are candidates: a row written meanwhile is never stale. */
  storedBefore: string;
  /** The Pluggy ids Pluggy returned for the account in this run. */
  seen: readonly string[];
}

/**
 * Reconciliation: removes the account's Pluggy rows booked inside the window that Pluggy did not return
 * (with their jobs), among those stored before the run began. Returns how many went.
 */
export function removeVanished(db: LedgerDb, scope: VanishedScope): number {
  const seen = new Set(scope.seen);
  const vanished = db
    .select({ pluggyId: transactions.pluggyId })
    .from(transactions)
    .where(
      and(
        eq(transactions.accountId, scope.accountId),
        itemGuard(scope.itemId),
        gte(transactions.date, scope.windowStart),
        isNotNull(transactions.pluggyId),
        lt(transactions.createdAt, scope.storedBefore),
      ),
    )
    .all()
    .flatMap((row) => (row.pluggyId !== null && !seen.has(row.pluggyId) ? [row.pluggyId] : []));
  return deleteTransactionsByPluggyIds(db, vanished, { itemId: scope.itemId });
}

/** A category was deleted from the catalog: its transactions here become uncategorized. Returns how many. */
export function clearCategory(db: LedgerDb, categoryId: string, now: string): number {
  db.update(transactions).set({ categoryId: null, updatedAt: now }).where(eq(transactions.categoryId, categoryId)).run();
  return changes(db);
}

// ---------------------------------------------------------------------------------------------------
// The whole ledger

export interface Footprint {
  items: number;
  accounts: number;
  transactions: number;
  categorySyncJobs: number;
}

/** Row counts per banking table (erasure checks and reports them). */
export function footprint(db: LedgerDb): Footprint {
  const rows = (table: typeof items | typeof accounts | typeof transactions | typeof categorySyncJobs) => db.select({ n: count() }).from(table).get()?.n ?? 0;
  return { items: rows(items), accounts: rows(accounts), transactions: rows(transactions), categorySyncJobs: rows(categorySyncJobs) };
}
