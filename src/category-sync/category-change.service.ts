import { eq } from "drizzle-orm";
import { categories, categoryMappings } from "../db/schema.ts";
import type { CategorySyncMessage } from "../queues/messages.ts";
import { OUTBOX_SKIP_REASONS, type OutboxSkipReason } from "../ledger/outbox.repo.ts";
import { notFound, validationError } from "../platform/errors.ts";
import type { Services } from "../platform/services.ts";
import { SWEEP_AFTER_MS } from "./category-sync.config.ts";
import { publishAttention, sendSyncMessages } from "./sync-jobs.service.ts";

/** Why a category change was not sent to Pluggy (shown as `category_sync.reason` with status `skipped`). */
export const SKIP_REASONS = OUTBOX_SKIP_REASONS;
export type SkipReason = OutboxSkipReason;

export type CategoryChangeDeps = Pick<Services, "catalog" | "ledger" | "categorySyncQueue" | "logger"> & {
  /** Delay on the send, so rapid changes coalesce (see category-sync.config.ts). */
  sendDelaySeconds: number;
  now?: Date;
};

export type CategoryChangeResult = { outcome: "queued"; message: CategorySyncMessage } | { outcome: "skipped"; reason: SkipReason };

/**
 * A user's category choice for one of their transactions. The catalog says whether the category exists
 * and what it maps to at Pluggy; then ONE call to the user's ledger saves the transaction (category,
 * chosen-by-user, version + 1) together with either its sync job (pending at the new version, so every
 * older message becomes a no-op) or the reason no sync is due (any older job dropped, so it can never
 * push a superseded choice). The queue send comes after that commit and is best effort: if it is lost,
 * the ledger's alarm re-queues the pending job when it is due. A job leaving the attention index
 * (failed, dead or long pending, now changed again) is taken out of it.
 * Another user's transaction is a 404; an unknown category a 400 on `category`.
 */
export async function changeTransactionCategory(
  deps: CategoryChangeDeps,
  userId: string,
  transactionId: string,
  categoryId: string | null,
): Promise<CategoryChangeResult> {
  const now = deps.now ?? new Date();
  const ledger = deps.ledger(userId);

  let pluggyCategoryId: string | null = null;
  if (categoryId !== null) {
    const [category] = await deps.catalog
      .select({ id: categories.id, pluggyCategoryId: categoryMappings.pluggyCategoryId })
      .from(categories)
      .leftJoin(categoryMappings, eq(categoryMappings.categoryId, categories.id))
      .where(eq(categories.id, categoryId));
    if (!category) {
      // A transaction that is not the caller's is a 404 before anything is said about the body.
      if ((await ledger.getTransaction(transactionId)) === null) throw notFound("transaction");
      throw validationError("category", "unknown category");
    }
    pluggyCategoryId = category.pluggyCategoryId;
  }

  const result = await ledger.changeCategory({
    userId,
    transactionId,
    categoryId,
    pluggyCategoryId,
    skipReason: categoryId === null ? SKIP_REASONS.cleared : null,
    now,
    dueAt: new Date(now.getTime() + SWEEP_AFTER_MS),
  });
  if (result.outcome === "not_found") throw notFound("transaction");
  await publishAttention(deps, [result.attention], now);
  if (result.outcome === "skipped") return { outcome: "skipped", reason: result.reason };
  await sendSyncMessages(deps, [result.message], deps.sendDelaySeconds);
  return { outcome: "queued", message: result.message };
}
