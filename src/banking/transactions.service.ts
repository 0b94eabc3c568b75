import { inArray } from "drizzle-orm";
import { chunk } from "../db/client.ts";
import { categories } from "../db/schema.ts";
import { decodeTransactionCursor } from "../ledger/banking.inputs.ts";
import type { TransactionListQuery } from "../ledger/banking.repo.ts";
import type { CategorySyncJobRow, TransactionRow } from "../ledger/ledger.schema.ts";
import { formatMinor } from "../platform/money.ts";
import type { CatalogDeps, Services } from "../platform/services.ts";
import type { TransactionDto } from "./banking.schemas.ts";
import { jobReason, skippedReason } from "../category-sync/category-sync.reasons.ts";

export { foldForSearch } from "../ledger/banking.inputs.ts";

/** The list's filters as the route hands them over: the ledger's query, with the cursor still encoded. */
export type TransactionFilters = Omit<TransactionListQuery, "after"> & { cursor?: string | undefined };

/** Reads of transactions: the rows and their jobs from the caller's ledger, category names from the catalog. */
export type TransactionReadDeps = Pick<Services, "catalog" | "ledger">;

/** D1 binds at most 100 parameters per statement and a page holds up to 200 rows. */
const IN_LIST_CHUNK = 90;

/** The job fields `category_sync` is built from (the ledger's job row has them all). */
export type SerializableJob = Pick<CategorySyncJobRow, "transactionId" | "status" | "attempts" | "lastError" | "updatedAt">;

/**
 * Builds the contract's `category_sync` from the outbox job, or the skip recorded on the transaction.
 * The reason is a code and a sentence of ours; Pluggy's own text (the job's `last_error`) is admin-only.
 */
function categorySyncOf(row: TransactionRow, job: SerializableJob | undefined): TransactionDto["category_sync"] {
  const skippedAt = row.categorySyncSkippedAt;
  if (job && (!skippedAt || job.updatedAt >= skippedAt)) {
    const why = job.status === "failed" || job.status === "dead" ? jobReason(job.status, job.lastError) : { reason_code: null, reason: null };
    return { status: job.status, ...why, attempts: job.attempts, updated_at: job.updatedAt };
  }
  if (skippedAt) return { status: "skipped", ...skippedReason(row.categorySyncSkipReason), attempts: 0, updated_at: skippedAt };
  return null;
}

/**
 * The catalog's names of the given categories (one query per 90 ids, none when there are no ids). A
 * category the catalog no longer has is absent from the map: its transactions show no category.
 */
export async function categoryNames({ catalog: db }: CatalogDeps, categoryIds: Iterable<string>): Promise<Map<string, string>> {
  const ids = [...new Set(categoryIds)];
  if (ids.length === 0) return new Map();
  const rows = await Promise.all(chunk(ids, IN_LIST_CHUNK).map((part) => db.select({ id: categories.id, name: categories.name }).from(categories).where(inArray(categories.id, part))));
  return new Map(rows.flat().map((c) => [c.id, c.name]));
}

/** One ledger row → the contract's Transaction, given its job (if any) and the catalog's category names. */
export function serializeTransaction(row: TransactionRow, job: SerializableJob | undefined, names: ReadonlyMap<string, string>): TransactionDto {
  const categoryName = row.categoryId === null ? undefined : names.get(row.categoryId);
  return {
    id: row.id,
    pluggy_id: row.pluggyId,
    account_id: row.accountId,
    item_id: row.itemId,
    date: row.date,
    description: row.description,
    amount: formatMinor(row.amountMinor),
    currency_code: row.currencyCode,
    type: row.type,
    status: row.status,
    // A category deleted from the catalog (and not yet cleared in this ledger) reads as none.
    category: row.categoryId !== null && categoryName !== undefined ? { id: row.categoryId, name: categoryName } : null,
    pluggy_category: row.pluggyCategoryId ? { id: row.pluggyCategoryId, name: row.pluggyCategoryName ?? "" } : null,
    category_sync: categorySyncOf(row, job),
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

/**
 * Ledger rows and the jobs the ledger returned beside them → the contract's Transactions. The only
 * catalog read is the names of the categories on the page (none when no row has a category).
 */
export async function serializeTransactions(deps: CatalogDeps, rows: readonly TransactionRow[], jobs: readonly SerializableJob[]): Promise<TransactionDto[]> {
  if (rows.length === 0) return [];
  const names = await categoryNames(
    deps,
    rows.flatMap((r) => (r.categoryId === null ? [] : [r.categoryId])),
  );
  const byTransaction = new Map(jobs.map((j) => [j.transactionId, j]));
  return rows.map((row) => serializeTransaction(row, byTransaction.get(row.id), names));
}

/**
 * The caller's transactions from their own ledger, newest date first (ties by id, descending),
 * keyset-paginated on (date, id) so pages stay stable when rows are inserted between requests. The
 * cursor is decoded here, in the Worker (a bad one is a 400 on `cursor`); every filter runs in the
 * ledger. Another user's account, item or transactions are not in the caller's ledger: nothing matches.
 */
export async function listTransactions(deps: TransactionReadDeps, userId: string, filters: TransactionFilters): Promise<{ data: TransactionDto[]; nextCursor: string | null }> {
  const after = filters.cursor ? decodeTransactionCursor(filters.cursor) : undefined;
  const page = await deps.ledger(userId).listTransactions({
    accountId: filters.accountId,
    itemId: filters.itemId,
    categoryId: filters.categoryId,
    dateFrom: filters.dateFrom,
    dateTo: filters.dateTo,
    search: filters.search,
    limit: filters.limit,
    after,
  });
  return { data: await serializeTransactions(deps, page.rows, page.jobs), nextCursor: page.nextCursor };
}

/** One of the caller's transactions, or undefined (another user's is not in the caller's ledger: indistinguishable from missing). */
export async function getTransaction(deps: TransactionReadDeps, userId: string, id: string): Promise<TransactionDto | undefined> {
  const found = await deps.ledger(userId).getTransaction(id);
  if (!found) return undefined;
  const [dto] = await serializeTransactions(deps, [found.row], found.job ? [found.job] : []);
  return dto;
}
