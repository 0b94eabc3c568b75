import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/*
 * The catalog (D1): what is global, never per-user banking data (that lives in each user's ledger,
 * src/ledger). One table per shape; the item directory and the attention index are in src/catalog.
 * Instants are RFC 3339 UTC strings, so they sort correctly as text.
 */

const timestamps = {
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
};

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

export type CategoryRow = typeof categories.$inferSelect;
export type WebhookEventRow = typeof webhookEvents.$inferSelect;
