import { index, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/*
 * The catalog's `attention` index (D1): every piece of work that needs an operator, whichever user's
 * ledger holds it, so the admin lists find it without visiting users. Written only on transitions into
 * or out of a needing-attention status (never per unit of work), by whoever made the transition: the
 * Worker with what a ledger call returned, or a ledger's alarm itself.
 */

/** What needs attention: a category-sync job (its id is the job id). */
export const ATTENTION_KINDS = ["category_sync"] as const;
export type AttentionKind = (typeof ATTENTION_KINDS)[number];

export const attention = sqliteTable(
  "attention",
  {
    kind: text("kind", { enum: ATTENTION_KINDS }).notNull(),
    /** The work's own id (a job id for `category_sync`). */
    id: text("id").notNull(),
    /** Whose ledger holds it. */
    userId: text("user_id").notNull(),
    /** The status that needs attention: `failed`, `dead`, or `pending` (for too long). */
    status: text("status").notNull(),
    /** Since when it has been in that status. */
    since: text("since").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.kind, t.id] }),
    index("attention_kind_status_since_idx").on(t.kind, t.status, t.since),
    // Erasure removes a user's rows without scanning everyone's.
    index("attention_user_idx").on(t.userId),
  ],
);

export type AttentionRow = typeof attention.$inferSelect;
