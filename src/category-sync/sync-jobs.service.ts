import { and, asc, desc, eq, inArray, lte, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { chunk, type Db } from "../db/client.ts";
import { categoryMappings, categorySyncJobs, transactions, type CategorySyncJobRow, type CategorySyncStatus } from "../db/schema.ts";
import type { PluggyApi } from "../pluggy/pluggy.client.ts";
import { PluggyError } from "../pluggy/pluggy.errors.ts";
import type { CategorySyncMessage } from "../queues/messages.ts";
import { RetryableError } from "../queues/consumer.ts";
import { decodeCursor, encodeCursor } from "../platform/cursor.ts";
import { notFound } from "../platform/errors.ts";
import type { Logger } from "../platform/logger.ts";
import { incrementCounter } from "../platform/metrics.ts";
import { RETRY_SWEEP_AFTER_MS, SWEEP_AFTER_MS, SWEEP_BATCH_SIZE, SWEEP_MAX_BATCHES } from "./category-sync.config.ts";
import { LOCAL_FAILURES } from "./category-sync.reasons.ts";
import type { CatalogDeps, Services } from "../platform/services.ts";

/** What queues category syncs: the catalog, the category sync queue, a logger. */
export type CategorySyncQueueDeps = Pick<Services, "catalog" | "categorySyncQueue" | "logger">;

/*
 * The category-sync outbox (`category_sync_jobs`, one row per transaction) and every move of its
 * state machine: pending → synced | failed | dead, and back to pending on a new change, a retry or a
 * redrive. Each write is conditional on the job's version (and status), so a message or an operator
 * acting on an older version can never overwrite the outcome of a newer one.
 */

/** Counter names in metric_counters (hourly buckets). */
export const CATEGORY_SYNC_METRICS = {
  queued: "category_sync.queued",
  skipped: "category_sync.skipped",
  succeeded: "category_sync.succeeded",
  failed: "category_sync.failed",
  dead: "category_sync.dead",
  /** A transient failure that will be retried. */
  retried: "category_sync.retried",
  /** A message made obsolete by a newer change (no Pluggy call). */
  stale: "category_sync.stale",
  /** Re-queued by the sweeper, a retry or a redrive. */
  requeued: "category_sync.requeued",
} as const;

export const MAPPING_GONE = LOCAL_FAILURES.mappingGone;

/** The message that asks the consumer to sync `job` at its current version. */
export const messageFor = (job: Pick<CategorySyncJobRow, "id" | "transactionId" | "version">): CategorySyncMessage => ({
  kind: "category.sync",
  jobId: job.id,
  transactionId: job.transactionId,
  version: job.version,
});

/**
 * Sends sync messages (≤ 100 per `sendBatch`). Best effort by design: a failed send is logged and
 * counted out of the result, and the job stays pending for the sweeper. Returns how many were sent.
 */
export async function sendSyncMessages(
  { categorySyncQueue: queue, logger }: Pick<Services, "categorySyncQueue" | "logger">,
  messages: CategorySyncMessage[],
  delaySeconds: number,
): Promise<number> {
  let sent = 0;
  for (const part of chunk(messages, 100)) {
    try {
      if (part.length === 1 && part[0]) await queue.send(part[0], { delaySeconds });
      else await queue.sendBatch(part.map((body) => ({ body, delaySeconds })));
      sent += part.length;
    } catch (error) {
      logger.error("category sync queue send failed; the sweeper will re-queue", {
        jobs: part.map((m) => m.jobId).slice(0, 10),
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return sent;
}

export interface SyncDeps {
  catalog: Db;
  pluggy: PluggyApi;
  logger: Logger;
  /** For re-queuing when an older call may have overwritten a newer synced choice. */
  categorySyncQueue?: Queue<CategorySyncMessage>;
  now?: () => Date;
}

export type SyncOutcome = "synced" | "stale" | "failed" | "superseded" | "missing";

const isCurrent = (message: CategorySyncMessage) =>
  and(eq(categorySyncJobs.id, message.jobId), eq(categorySyncJobs.version, message.version), eq(categorySyncJobs.status, "pending"));

/**
 * Syncs one job to Pluggy (`PATCH /transactions/{id}` with the mapped category), for the queue consumer.
 * Stale messages (older version, or the job is no longer pending) return without calling Pluggy. The
 * Pluggy id is mapped now, not when the user chose, so mapping changes apply to pending syncs.
 * Success marks `synced` only while the job still holds this version. A transient Pluggy failure records
 * the attempt and throws RetryableError (429: no sooner than Pluggy asks); a permanent one marks `failed`
 * with Pluggy's reason.
 */
export async function syncCategoryJob(deps: SyncDeps, message: CategorySyncMessage): Promise<SyncOutcome> {
  const { catalog: db, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const job = await db.query.categorySyncJobs.findFirst({ where: eq(categorySyncJobs.id, message.jobId) });
  if (!job || job.transactionId !== message.transactionId) {
    logger.info("category sync job no longer exists; nothing to do", { job_id: message.jobId });
    return "missing";
  }
  if (message.version < job.version || job.status !== "pending") {
    await incrementCounter({ catalog: db }, CATEGORY_SYNC_METRICS.stale, 1, now());
    return "stale";
  }
  if (message.version > job.version) {
    logger.warn("category sync message is newer than its job; ignored", { job_id: job.id, message_version: message.version, job_version: job.version });
    return "stale";
  }
  const transaction = await db.query.transactions.findFirst({ columns: { id: true, categoryVersion: true }, where: eq(transactions.id, job.transactionId) });
  if (!transaction) {
    await finish({ catalog: db }, message, { status: "failed", lastError: LOCAL_FAILURES.transactionGone }, now());
    return "failed";
  }
  if (transaction.categoryVersion > job.version) {
    // Unreachable while changes go through changeTransactionCategory (job and version move in one
    // batch); closed as failed rather than left pending for the sweeper to re-queue forever.
    await finish({ catalog: db }, message, { status: "failed", lastError: LOCAL_FAILURES.superseded }, now());
    return "failed";
  }

  const mapping = await db.query.categoryMappings.findFirst({ where: eq(categoryMappings.categoryId, job.categoryId) });
  if (!mapping) {
    await finish({ catalog: db }, message, { status: "failed", lastError: MAPPING_GONE }, now());
    return "failed";
  }

  let updated: Awaited<ReturnType<PluggyApi["updateTransactionCategory"]>>;
  try {
    updated = await deps.pluggy.updateTransactionCategory(job.pluggyTransactionId, mapping.pluggyCategoryId);
  } catch (error) {
    const reason = error instanceof PluggyError ? error.reason : error instanceof Error ? error.message : String(error);
    if (error instanceof PluggyError && !error.transient) {
      await finish({ catalog: db }, message, { status: "failed", lastError: reason, pluggyCategoryId: mapping.pluggyCategoryId, attempted: true }, now());
      return "failed";
    }
    await recordAttempt({ catalog: db }, message, reason, mapping.pluggyCategoryId, now());
    const minDelaySeconds = error instanceof PluggyError && error.status === 429 ? (error.retryAfterSeconds ?? 0) : 0;
    throw new RetryableError(`Pluggy category update failed: ${reason}`, { minDelaySeconds, cause: error });
  }

  const at = now();
  const [marked] = await db.batch([
    db
      .update(categorySyncJobs)
      .set({
        status: "synced",
        attempts: sql`${categorySyncJobs.attempts} + 1`,
        lastError: null,
        pluggyCategoryId: mapping.pluggyCategoryId,
        syncedAt: at.toISOString(),
        updatedAt: at.toISOString(),
      })
      .where(isCurrent(message))
      .returning({ id: categorySyncJobs.id }),
    // What Pluggy now says about the transaction, unless the user has changed it again meanwhile.
    db
      .update(transactions)
      .set({ pluggyCategoryId: updated.categoryId ?? mapping.pluggyCategoryId, pluggyCategoryName: updated.category ?? null })
      .where(and(eq(transactions.id, job.transactionId), eq(transactions.categoryVersion, message.version))),
  ]);
  if (marked.length > 0) {
    await incrementCounter({ catalog: db }, CATEGORY_SYNC_METRICS.succeeded, 1, at);
    return "synced";
  }
  await resyncIfOverwritten(deps, message, at);
  return "superseded";
}

/**
 * Our call succeeded but a newer change arrived while it was in flight. If that newer change was
 * already synced, our older call may have landed at Pluggy after it: sync the newer one again so
 * Pluggy ends holding the user's last choice. Otherwise its own pending message will do the work.
 */
async function resyncIfOverwritten(deps: SyncDeps, message: CategorySyncMessage, at: Date): Promise<void> {
  const { catalog: db } = deps;
  const [reopened] = await db
    .update(categorySyncJobs)
    .set({ status: "pending", dueAt: new Date(at.getTime() + SWEEP_AFTER_MS).toISOString(), updatedAt: at.toISOString() })
    .where(and(eq(categorySyncJobs.id, message.jobId), eq(categorySyncJobs.status, "synced"), sql`${categorySyncJobs.version} > ${message.version}`))
    .returning();
  if (!reopened) return;
  deps.logger.info("an older category sync finished after a newer one; syncing the newer again", { job_id: reopened.id, version: reopened.version });
  if (deps.categorySyncQueue) await sendSyncMessages({ categorySyncQueue: deps.categorySyncQueue, logger: deps.logger }, [messageFor(reopened)], 0);
}

async function finish(
  { catalog: db }: CatalogDeps,
  message: CategorySyncMessage,
  outcome: { status: "failed" | "dead"; lastError: string; pluggyCategoryId?: string; attempted?: boolean },
  at: Date,
): Promise<boolean> {
  const [row] = await db
    .update(categorySyncJobs)
    .set({
      status: outcome.status,
      ...(outcome.attempted ? { attempts: sql`${categorySyncJobs.attempts} + 1` } : {}),
      lastError: outcome.lastError,
      ...(outcome.pluggyCategoryId ? { pluggyCategoryId: outcome.pluggyCategoryId } : {}),
      updatedAt: at.toISOString(),
    })
    .where(isCurrent(message))
    .returning({ id: categorySyncJobs.id });
  if (row) await incrementCounter({ catalog: db }, outcome.status === "failed" ? CATEGORY_SYNC_METRICS.failed : CATEGORY_SYNC_METRICS.dead, 1, at);
  return row !== undefined;
}

/** A transient failure: count the attempt, keep the reason, and keep the sweeper away while the queue retries. */
async function recordAttempt({ catalog: db }: CatalogDeps, message: CategorySyncMessage, reason: string, pluggyCategoryId: string, at: Date): Promise<void> {
  const [row] = await db
    .update(categorySyncJobs)
    .set({
      attempts: sql`${categorySyncJobs.attempts} + 1`,
      lastError: reason,
      pluggyCategoryId,
      dueAt: new Date(at.getTime() + RETRY_SWEEP_AFTER_MS).toISOString(),
      updatedAt: at.toISOString(),
    })
    .where(isCurrent(message))
    .returning({ id: categorySyncJobs.id });
  if (row) await incrementCounter({ catalog: db }, CATEGORY_SYNC_METRICS.retried, 1, at);
}

/**
 * Dead-letter consumer: retries are exhausted, so the job (if this message is still its current
 * version and it is still pending) becomes `dead`, keeping the last error for operators.
 */
export async function markCategorySyncDead({ catalog: db }: CatalogDeps, message: CategorySyncMessage, now: Date = new Date()): Promise<boolean> {
  const job = await db.query.categorySyncJobs.findFirst({ columns: { lastError: true }, where: eq(categorySyncJobs.id, message.jobId) });
  if (!job) return false;
  return finish({ catalog: db }, message, { status: "dead", lastError: job.lastError ?? "retries exhausted" }, now);
}

/**
 * Cron sweeper: re-queues jobs still pending after their due time (a lost send, a crashed consumer,
 * a message dropped by the broker), in bounded batches, pushing each job's due time forward first
 * so overlapping runs do not queue it twice.
 */
export async function sweepPendingCategorySyncs(
  deps: CategorySyncQueueDeps,
  now: Date = new Date(),
  limits: { batchSize?: number; maxBatches?: number } = {},
): Promise<{ requeued: number }> {
  const { catalog: db } = deps;
  const batchSize = limits.batchSize ?? SWEEP_BATCH_SIZE;
  const maxBatches = limits.maxBatches ?? SWEEP_MAX_BATCHES;
  const at = now.toISOString();
  const nextDue = new Date(now.getTime() + SWEEP_AFTER_MS).toISOString();
  let requeued = 0;
  for (let round = 0; round < maxBatches; round++) {
    const due = await db
      .select({ id: categorySyncJobs.id })
      .from(categorySyncJobs)
      .where(and(eq(categorySyncJobs.status, "pending"), lte(categorySyncJobs.dueAt, at)))
      .orderBy(asc(categorySyncJobs.dueAt))
      .limit(batchSize);
    if (due.length === 0) break;
    const claimed: CategorySyncJobRow[] = [];
    for (const part of chunk(due.map((r) => r.id), 90)) {
      claimed.push(
        ...(await db
          .update(categorySyncJobs)
          .set({ dueAt: nextDue })
          .where(and(inArray(categorySyncJobs.id, part), eq(categorySyncJobs.status, "pending"), lte(categorySyncJobs.dueAt, at)))
          .returning()),
      );
    }
    const sent = await sendSyncMessages(deps, claimed.map(messageFor), 0);
    requeued += sent;
    if (due.length < batchSize) break;
  }
  if (requeued > 0) {
    await incrementCounter({ catalog: db }, CATEGORY_SYNC_METRICS.requeued, requeued, now);
    deps.logger.info("re-queued pending category syncs", { requeued });
  }
  return { requeued };
}

export interface CategorySyncJobDto {
  id: string;
  transaction_id: string;
  pluggy_transaction_id: string;
  pluggy_category_id: string | null;
  status: CategorySyncStatus;
  attempts: number;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

const toJobDto = (row: CategorySyncJobRow): CategorySyncJobDto => ({
  id: row.id,
  transaction_id: row.transactionId,
  pluggy_transaction_id: row.pluggyTransactionId,
  pluggy_category_id: row.pluggyCategoryId,
  status: row.status,
  attempts: row.attempts,
  last_error: row.lastError,
  created_at: row.createdAt,
  updated_at: row.updatedAt,
});

const jobCursor = z.object({ u: z.string().min(1).max(64), i: z.string().min(1).max(128) });

/** Sync jobs, most recently changed first (keyset on updated_at, id), optionally of one status. */
export async function listCategorySyncJobs(
  { catalog: db }: CatalogDeps,
  filters: { status?: CategorySyncStatus | undefined; limit: number; cursor?: string | undefined },
): Promise<{ data: CategorySyncJobDto[]; nextCursor: string | null }> {
  const where: SQL[] = [];
  if (filters.status) where.push(eq(categorySyncJobs.status, filters.status));
  if (filters.cursor) {
    const after = decodeCursor(filters.cursor, jobCursor);
    // A row-value comparison lets SQLite seek the index to the cursor instead of scanning up to it.
    where.push(sql`(${categorySyncJobs.updatedAt}, ${categorySyncJobs.id}) < (${after.u}, ${after.i})`);
  }
  const rows = await db
    .select()
    .from(categorySyncJobs)
    .where(and(...where))
    .orderBy(desc(categorySyncJobs.updatedAt), desc(categorySyncJobs.id))
    .limit(filters.limit + 1);
  const page = rows.slice(0, filters.limit);
  const last = page.at(-1);
  return { data: page.map(toJobDto), nextCursor: rows.length > filters.limit && last ? encodeCursor({ u: last.updatedAt, i: last.id }) : null };
}

/** Current number of pending jobs (for metrics). */
export async function countPendingCategorySyncs({ catalog: db }: CatalogDeps): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)` }).from(categorySyncJobs).where(eq(categorySyncJobs.status, "pending"));
  return Number(row?.n ?? 0);
}

async function requeue(deps: CategorySyncQueueDeps, ids: string[], statusGuard: CategorySyncStatus[] | undefined, now: Date): Promise<number> {
  const { catalog: db } = deps;
  const at = now.toISOString();
  const reopened: CategorySyncJobRow[] = [];
  for (const part of chunk(ids, 90)) {
    const guard = statusGuard ? inArray(categorySyncJobs.status, statusGuard) : undefined;
    reopened.push(
      ...(await db
        .update(categorySyncJobs)
        .set({ status: "pending", syncedAt: null, dueAt: new Date(now.getTime() + SWEEP_AFTER_MS).toISOString(), updatedAt: at })
        .where(and(inArray(categorySyncJobs.id, part), guard))
        .returning()),
    );
  }
  const sent = await sendSyncMessages(deps, reopened.map(messageFor), 0);
  if (sent > 0) await incrementCounter({ catalog: db }, CATEGORY_SYNC_METRICS.requeued, sent, now);
  return reopened.length;
}

/**
 * Operator retry of one job, whatever its state: back to pending at its current version and queued
 * now. The attempt count and last error are kept for the record. 404 when the job does not exist.
 */
export async function retryCategorySync(deps: CategorySyncQueueDeps, id: string, now: Date = new Date()): Promise<number> {
  const job = await deps.catalog.query.categorySyncJobs.findFirst({ columns: { id: true }, where: eq(categorySyncJobs.id, id) });
  if (!job) throw notFound("category sync");
  return requeue(deps, [id], undefined, now);
}

/**
 * Operator redrive: up to `limit` jobs in `status` (dead or failed), oldest first, back to pending and
 * queued. Returns how many were re-opened (a failed send leaves them to the sweeper, not lost).
 */
export async function redriveCategorySyncs(
  deps: CategorySyncQueueDeps,
  options: { status: "dead" | "failed"; limit: number },
  now: Date = new Date(),
): Promise<number> {
  const rows = await deps.catalog
    .select({ id: categorySyncJobs.id })
    .from(categorySyncJobs)
    .where(eq(categorySyncJobs.status, options.status))
    .orderBy(asc(categorySyncJobs.updatedAt), asc(categorySyncJobs.id))
    .limit(options.limit);
  if (rows.length === 0) return 0;
  return requeue(deps, rows.map((r) => r.id), [options.status], now);
}
