import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { categories, categoryMappings, categorySyncJobs, transactions } from "../db/schema.ts";
import type { CategorySyncMessage } from "../queues/messages.ts";
import { notFound, validationError } from "../platform/errors.ts";
import { newId } from "../platform/ids.ts";
import type { Logger } from "../platform/logger.ts";
import { counterIncrement } from "../platform/metrics.ts";
import { SWEEP_AFTER_MS } from "./category-sync.config.ts";
import { CATEGORY_SYNC_REASONS } from "./category-sync.reasons.ts";
import { CATEGORY_SYNC_METRICS, sendSyncMessages } from "./sync-jobs.service.ts";

/** Why a category change was not sent to Pluggy (shown as `category_sync.reason` with status `skipped`). */
export const SKIP_REASONS = {
  noPluggyId: CATEGORY_SYNC_REASONS.no_pluggy_id,
  noMapping: CATEGORY_SYNC_REASONS.no_pluggy_mapping,
  cleared: CATEGORY_SYNC_REASONS.category_cleared,
} as const;
export type SkipReason = (typeof SKIP_REASONS)[keyof typeof SKIP_REASONS];

export interface CategoryChangeDeps {
  catalog: Db;
  categorySyncQueue: Queue<CategorySyncMessage>;
  /** Delay on the send, so rapid changes coalesce (see category-sync.config.ts). */
  sendDelaySeconds: number;
  logger: Logger;
  now?: Date;
}

export type CategoryChangeResult = { outcome: "queued"; message: CategorySyncMessage } | { outcome: "skipped"; reason: SkipReason };

/**
 * A user's category choice for one of their transactions. Saved locally first, in one D1 batch with
 * the outbox: the transaction (category, chosen-by-user, version + 1) and either the transaction's sync
 * job (pending, at the new version, so every older message becomes a no-op) or the reason no sync is
 * due (and any older job is dropped, so it can never push a superseded choice). The queue send comes
 * after the commit and is best effort: if it fails, the sweeper re-queues the pending job.
 * Another user's transaction is a 404; an unknown category a 400 on `category`.
 */
export async function changeTransactionCategory(
  deps: CategoryChangeDeps,
  userId: string,
  transactionId: string,
  categoryId: string | null,
): Promise<CategoryChangeResult> {
  const { catalog: db } = deps;
  const now = deps.now ?? new Date();
  const at = now.toISOString();
  const transaction = await db.query.transactions.findFirst({
    columns: { id: true, pluggyId: true },
    where: and(eq(transactions.id, transactionId), eq(transactions.userId, userId)),
  });
  if (!transaction) throw notFound("transaction");

  let pluggyCategoryId: string | null = null;
  if (categoryId !== null) {
    const [category] = await db
      .select({ id: categories.id, pluggyCategoryId: categoryMappings.pluggyCategoryId })
      .from(categories)
      .leftJoin(categoryMappings, eq(categoryMappings.categoryId, categories.id))
      .where(eq(categories.id, categoryId));
    if (!category) throw validationError("category", "unknown category");
    pluggyCategoryId = category.pluggyCategoryId;
  }

  const skipReason: SkipReason | null =
    transaction.pluggyId === null ? SKIP_REASONS.noPluggyId : categoryId === null ? SKIP_REASONS.cleared : pluggyCategoryId === null ? SKIP_REASONS.noMapping : null;

  const updateTransaction = db
    .update(transactions)
    .set({
      categoryId,
      categorySetByUser: true,
      categoryVersion: sql`${transactions.categoryVersion} + 1`,
      categorySyncSkipReason: skipReason,
      categorySyncSkippedAt: skipReason === null ? null : at,
      updatedAt: at,
    })
    .where(eq(transactions.id, transaction.id));

  if (skipReason !== null || transaction.pluggyId === null || categoryId === null) {
    await db.batch([
      updateTransaction,
      db.delete(categorySyncJobs).where(eq(categorySyncJobs.transactionId, transaction.id)),
      counterIncrement({ catalog: db }, CATEGORY_SYNC_METRICS.skipped, 1, now),
    ]);
    return { outcome: "skipped", reason: skipReason ?? SKIP_REASONS.cleared };
  }

  // The job's version is read from the row the first statement just bumped, so concurrent changes
  // can never leave the job behind the transaction.
  const [, upserted] = await db.batch([
    updateTransaction,
    db
      .insert(categorySyncJobs)
      .values({
        id: newId(),
        transactionId: transaction.id,
        userId,
        pluggyTransactionId: transaction.pluggyId,
        categoryId,
        pluggyCategoryId,
        version: sql`(select ${transactions.categoryVersion} from ${transactions} where ${transactions.id} = ${transaction.id})`,
        status: "pending",
        attempts: 0,
        lastError: null,
        dueAt: new Date(now.getTime() + SWEEP_AFTER_MS).toISOString(),
        syncedAt: null,
        createdAt: at,
        updatedAt: at,
      })
      .onConflictDoUpdate({
        target: categorySyncJobs.transactionId,
        set: {
          pluggyTransactionId: sql.raw(`excluded.${categorySyncJobs.pluggyTransactionId.name}`),
          categoryId: sql.raw(`excluded.${categorySyncJobs.categoryId.name}`),
          pluggyCategoryId: sql.raw(`excluded.${categorySyncJobs.pluggyCategoryId.name}`),
          version: sql.raw(`excluded.${categorySyncJobs.version.name}`),
          status: "pending",
          attempts: 0,
          lastError: null,
          dueAt: sql.raw(`excluded.${categorySyncJobs.dueAt.name}`),
          syncedAt: null,
          updatedAt: at,
        },
      })
      .returning({ id: categorySyncJobs.id, version: categorySyncJobs.version }),
    counterIncrement({ catalog: db }, CATEGORY_SYNC_METRICS.queued, 1, now),
  ]);
  const job = upserted[0];
  if (!job) throw new Error("category sync job upsert returned no row");
  const message: CategorySyncMessage = { kind: "category.sync", jobId: job.id, transactionId: transaction.id, version: job.version };
  await sendSyncMessages(deps, [message], deps.sendDelaySeconds);
  return { outcome: "queued", message };
}
