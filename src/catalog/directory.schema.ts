import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The item directory: which user owns each Pluggy item, so a webhook, a reconciliation or an operator
 * reaches the right ledger without scanning users. One row per item (a few dozen bytes); written when
 * an item becomes known and when it is deleted or reconciled, never per webhook.
 */
export const itemDirectory = sqliteTable(
  "item_directory",
  {
    itemId: text("item_id").primaryKey(),
    userId: text("user_id").notNull(),
    /** When the reconciliation cron should next look at this item (indexed: the cron reads only what is due). */
    nextReconcileAt: text("next_reconcile_at").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("item_directory_user_idx").on(t.userId), index("item_directory_reconcile_idx").on(t.nextReconcileAt)],
);

export type ItemDirectoryRow = typeof itemDirectory.$inferSelect;
