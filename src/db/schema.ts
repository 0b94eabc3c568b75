import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/*
 * One table per domain shape. Instants are RFC 3339 UTC strings; booking dates are YYYY-MM-DD strings,
 * so both sort correctly as text. Money is integer minor units. Pluggy ids are unique, so upserts are
 * `ON CONFLICT (pluggy_id) DO UPDATE`.
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
    userId: text("user_id").notNull(),
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
  (t) => [index("items_user_idx").on(t.userId, t.createdAt)],
);

export const accounts = sqliteTable(
  "accounts",
  {
    id: text("id").primaryKey(),
    pluggyId: text("pluggy_id").notNull(),
    itemId: text("item_id").notNull(),
    userId: text("user_id").notNull(),
    name: text("name"),
    type: text("type"),
    subtype: text("subtype"),
    number: text("number"),
    balanceMinor: integer("balance_minor"),
    currencyCode: text("currency_code"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("accounts_pluggy_id_uq").on(t.pluggyId),
    index("accounts_user_idx").on(t.userId, t.itemId, t.id),
    index("accounts_item_idx").on(t.itemId),
  ],
);

export const transactions = sqliteTable(
  "transactions",
  {
    id: text("id").primaryKey(),
    /** Null for a transaction that did not come from Pluggy. */
    pluggyId: text("pluggy_id"),
    userId: text("user_id").notNull(),
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
    index("transactions_user_date_idx").on(t.userId, sql`${t.date} desc`, sql`${t.id} desc`),
    index("transactions_user_account_date_idx").on(t.userId, t.accountId, sql`${t.date} desc`, sql`${t.id} desc`),
    index("transactions_user_item_date_idx").on(t.userId, t.itemId, sql`${t.date} desc`, sql`${t.id} desc`),
    index("transactions_user_category_date_idx").on(t.userId, t.categoryId, sql`${t.date} desc`, sql`${t.id} desc`),
    index("transactions_item_idx").on(t.itemId),
    index("transactions_account_idx").on(t.accountId),
  ],
);

/** Local categories: one global tree shared by every user. */
export const categories = sqliteTable(
  "categories",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    parentId: text("parent_id"),
    ...timestamps,
  },
  (t) => [index("categories_parent_idx").on(t.parentId), index("categories_name_idx").on(t.name)],
);

/** Local category → Pluggy's 8-digit category id. */
export const categoryMappings = sqliteTable(
  "category_mappings",
  {
    categoryId: text("category_id").primaryKey(),
    pluggyCategoryId: text("pluggy_category_id").notNull(),
    ...timestamps,
  },
  (t) => [index("category_mappings_pluggy_idx").on(t.pluggyCategoryId)],
);

/** Pluggy's category tree, cached. */
export const pluggyCategories = sqliteTable(
  "pluggy_categories",
  {
    id: text("id").primaryKey(),
    description: text("description").notNull(),
    descriptionTranslated: text("description_translated"),
    parentId: text("parent_id"),
    parentDescription: text("parent_description"),
    fetchedAt: text("fetched_at").notNull(),
  },
  (t) => [index("pluggy_categories_parent_idx").on(t.parentId)],
);

export const WEBHOOK_EVENT_STATUSES = [
  "received",
  "processing",
  "processed",
  "failed",
  "dead",
  "ignored",
  "rejected",
] as const;
export type WebhookEventStatus = (typeof WEBHOOK_EVENT_STATUSES)[number];

/** Every accepted (or signed-but-invalid) webhook delivery. Raw bytes live in R2 under `r2Key`. */
export const webhookEvents = sqliteTable(
  "webhook_events",
  {
    eventId: text("event_id").primaryKey(),
    event: text("event").notNull(),
    itemId: text("item_id"),
    status: text("status", { enum: WEBHOOK_EVENT_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    replayCount: integer("replay_count").notNull().default(0),
    lastError: text("last_error"),
    receivedAt: text("received_at").notNull(),
    processedAt: text("processed_at"),
    bodySha256: text("body_sha256").notNull(),
    r2Key: text("r2_key").notNull(),
    contentType: text("content_type"),
    /** Which configured key verified it ("key:0", "key:1", "none"). */
    matchedKey: text("matched_key"),
    requestId: text("request_id"),
    /** Set when retention purged the raw body; replay/download then answer 410. */
    payloadPurgedAt: text("payload_purged_at"),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    index("webhook_events_status_received_idx").on(t.status, t.receivedAt),
    index("webhook_events_event_received_idx").on(t.event, t.receivedAt),
    index("webhook_events_item_idx").on(t.itemId, t.receivedAt),
    index("webhook_events_received_idx").on(t.receivedAt),
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
    userId: text("user_id").notNull(),
    pluggyTransactionId: text("pluggy_transaction_id").notNull(),
    categoryId: text("category_id").notNull(),
    /** Resolved from the mapping at send time. */
    pluggyCategoryId: text("pluggy_category_id"),
    version: integer("version").notNull(),
    status: text("status", { enum: CATEGORY_SYNC_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    /** When the sweeper should re-queue it if it is still pending. */
    dueAt: text("due_at").notNull(),
    syncedAt: text("synced_at"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("category_sync_jobs_transaction_uq").on(t.transactionId),
    index("category_sync_jobs_status_due_idx").on(t.status, t.dueAt),
    index("category_sync_jobs_status_updated_idx").on(t.status, t.updatedAt),
  ],
);

/**
 * Hourly counters for metrics (`bucket` = "YYYY-MM-DDTHH:00:00Z"), e.g. `category_sync.succeeded`,
 * `webhooks.duplicate`, `reconcile.added`. Upserted with `count = count + n`.
 */
export const metricCounters = sqliteTable(
  "metric_counters",
  {
    bucket: text("bucket").notNull(),
    name: text("name").notNull(),
    count: integer("count").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.bucket, t.name] }), index("metric_counters_name_bucket_idx").on(t.name, t.bucket)],
);

/** Erasure requests (`DELETE /api/banking/me/`): lets a repeated request be harmless and shows progress. */
export const erasureRequests = sqliteTable("erasure_requests", {
  userId: text("user_id").primaryKey(),
  status: text("status", { enum: ["queued", "done"] }).notNull(),
  requestedAt: text("requested_at").notNull(),
  completedAt: text("completed_at"),
});

export type ItemRow = typeof items.$inferSelect;
export type AccountRow = typeof accounts.$inferSelect;
export type TransactionRow = typeof transactions.$inferSelect;
export type CategoryRow = typeof categories.$inferSelect;
export type WebhookEventRow = typeof webhookEvents.$inferSelect;
export type CategorySyncJobRow = typeof categorySyncJobs.$inferSelect;
