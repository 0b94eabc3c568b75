import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/*
 * One user's banking data, in that user's own SQLite Durable Object (`UserLedger`). Every row here
 * belongs to the ledger's user, so no table carries a user id and no index starts with one: the
 * database boundary is the user boundary. Instants are RFC 3339 UTC strings, booking dates YYYY-MM-DD,
 * money integer minor units (as in the catalog).
 *
 * Migrations: `npm run db:generate` writes them to src/ledger/migrations/ and each ledger applies what
 * it has not yet applied when it next wakes. Rules in docs/scale.md ("Ledger migrations").
 */

const timestamps = {
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
};

/** A bank connection. Its id is Pluggy's item id. */
export const items = sqliteTable(
  "items",
  {
    id: text("id").primaryKey(),
    connectorId: integer("connector_id"),
    connectorName: text("connector_name"),
    connectorImageUrl: text("connector_image_url"),
    status: text("status"),
    executionStatus: text("execution_status"),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    /** Pluggy's `lastUpdatedAt`: last successful sync with the institution. */
    lastUpdatedAt: text("last_updated_at"),
    /** Pluggy's `createdAt`. */
    pluggyCreatedAt: text("pluggy_created_at"),
    /** Transactions known up to this Pluggy `createdAt` (reconciliation watermark); advanced only on success. */
    transactionsWatermark: text("transactions_watermark"),
    lastReconciledAt: text("last_reconciled_at"),
    ...timestamps,
  },
  (t) => [index("items_created_idx").on(t.createdAt)],
);

export const accounts = sqliteTable(
  "accounts",
  {
    id: text("id").primaryKey(),
    pluggyId: text("pluggy_id").notNull(),
    itemId: text("item_id").notNull(),
    name: text("name"),
    type: text("type"),
    subtype: text("subtype"),
    number: text("number"),
    balanceMinor: integer("balance_minor"),
    currencyCode: text("currency_code"),
    ...timestamps,
  },
  (t) => [uniqueIndex("accounts_pluggy_id_uq").on(t.pluggyId), index("accounts_item_idx").on(t.itemId, t.id)],
);

export const transactions = sqliteTable(
  "transactions",
  {
    id: text("id").primaryKey(),
    /** Null for a transaction that did not come from Pluggy. */
    pluggyId: text("pluggy_id"),
    accountId: text("account_id").notNull(),
    itemId: text("item_id"),
    date: text("date").notNull(),
    description: text("description").notNull(),
    /** Lower-cased, accent-folded description for `search`. */
    descriptionFolded: text("description_folded").notNull(),
    amountMinor: integer("amount_minor").notNull(),
    currencyCode: text("currency_code").notNull(),
    type: text("type", { enum: ["DEBIT", "CREDIT"] }).notNull(),
    status: text("status", { enum: ["POSTED", "PENDING"] }).notNull(),
    /** The local category (ours). */
    categoryId: text("category_id"),
    /** 1 once the user chose a category; then Pluggy's category never overrides it. */
    categorySetByUser: integer("category_set_by_user", { mode: "boolean" }).notNull().default(false),
    /** Bumped on every user category change; makes older sync messages no-ops. */
    categoryVersion: integer("category_version").notNull().default(0),
    /** What Pluggy says (8-digit id and its name). */
    pluggyCategoryId: text("pluggy_category_id"),
    pluggyCategoryName: text("pluggy_category_name"),
    /** Why the last category change was not synced (`skipped` reason), when it was not. */
    categorySyncSkipReason: text("category_sync_skip_reason"),
    categorySyncSkippedAt: text("category_sync_skipped_at"),
    pluggyCreatedAt: text("pluggy_created_at"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("transactions_pluggy_id_uq").on(t.pluggyId),
    index("transactions_date_idx").on(sql`${t.date} desc`, sql`${t.id} desc`),
    index("transactions_account_date_idx").on(t.accountId, sql`${t.date} desc`, sql`${t.id} desc`),
    index("transactions_item_date_idx").on(t.itemId, sql`${t.date} desc`, sql`${t.id} desc`),
    index("transactions_category_date_idx").on(t.categoryId, sql`${t.date} desc`, sql`${t.id} desc`),
  ],
);

export const CATEGORY_SYNC_STATUSES = ["pending", "synced", "failed", "dead"] as const;
export type CategorySyncStatus = (typeof CATEGORY_SYNC_STATUSES)[number];

/** The category-sync outbox: one job per transaction, replaced by newer changes (higher version). */
export const categorySyncJobs = sqliteTable(
  "category_sync_jobs",
  {
    id: text("id").primaryKey(),
    transactionId: text("transaction_id").notNull(),
    pluggyTransactionId: text("pluggy_transaction_id").notNull(),
    categoryId: text("category_id").notNull(),
    /** Resolved from the mapping at send time. */
    pluggyCategoryId: text("pluggy_category_id"),
    version: integer("version").notNull(),
    status: text("status", { enum: CATEGORY_SYNC_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    /** When the ledger's alarm re-queues it if it is still pending. */
    dueAt: text("due_at").notNull(),
    syncedAt: text("synced_at"),
    /** When the job last entered `pending` (a change, a retry, a redrive); null in any other status. */
    pendingSince: text("pending_since"),
    /**
     * The status this job was last published with in the catalog's `attention` index (failed, dead, or
     * pending for too long), or null when it is not there: tells a transition whether to remove it.
     */
    attentionStatus: text("attention_status", { enum: CATEGORY_SYNC_STATUSES }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("category_sync_jobs_transaction_uq").on(t.transactionId),
    index("category_sync_jobs_status_due_idx").on(t.status, t.dueAt),
    index("category_sync_jobs_status_updated_idx").on(t.status, t.updatedAt),
  ],
);

/** The ledger's own facts: whose ledger it is (`user_id`), when it was created. */
export const ledgerMeta = sqliteTable("ledger_meta", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

/**
 * The ledger's operational counters (category_sync.queued, .synced, ...), hourly buckets like the
 * catalog's `metric_counters`. Written in the same transaction as the transition they count; drained
 * (read and cleared) by the roll-up into the catalog.
 */
export const ledgerCounters = sqliteTable(
  "ledger_counters",
  {
    bucket: text("bucket").notNull(),
    name: text("name").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.bucket, t.name] })],
);

export type ItemRow = typeof items.$inferSelect;
export type AccountRow = typeof accounts.$inferSelect;
export type TransactionRow = typeof transactions.$inferSelect;
export type CategorySyncJobRow = typeof categorySyncJobs.$inferSelect;
export type LedgerCounterRow = typeof ledgerCounters.$inferSelect;
