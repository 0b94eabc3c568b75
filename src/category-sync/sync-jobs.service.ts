import { and, desc, eq, lt, or, sql } from "drizzle-orm";
import { z } from "zod";
import { chunk } from "../db/client.ts";
import { categoryMappings, metricCounters } from "../db/schema.ts";
import type { CategorySyncStatus } from "../ledger/ledger.schema.ts";
import { applyAttention, listAttention, type AttentionChange } from "../catalog/attention.repo.ts";
import { attention, type AttentionRow } from "../catalog/attention.schema.ts";
import { OUTBOX_COUNTERS, PENDING_GAUGE, parseJobCursor, type CategorySyncJobDto as LedgerJobDto } from "../ledger/outbox.repo.ts";
import { PluggyError } from "../pluggy/pluggy.errors.ts";
import type { CategorySyncMessage } from "../queues/messages.ts";
import { RetryableError } from "../queues/consumer.ts";
import { decodeCursor, encodeCursor } from "../platform/cursor.ts";
import { notFound, validationError } from "../platform/errors.ts";
import { LOCAL_FAILURES } from "./category-sync.reasons.ts";
import type { CatalogDeps, Services } from "../platform/services.ts";

/*
 * The category-sync outbox as the Worker sees it. Jobs live in each user's ledger (src/ledger/outbox.repo.ts
 * holds their version-guarded state machine); this module calls Pluggy between ledger calls (never from
 * inside one), applies the attention changes the ledger returns to the catalog's index, sends queue
 * messages, and answers the admin API: globally from the attention index, per user from the ledger.
 */

/** Counter names (hourly buckets): counted in each ledger, rolled up into the catalog's metric_counters. */
export const CATEGORY_SYNC_METRICS = OUTBOX_COUNTERS;

export const MAPPING_GONE = LOCAL_FAILURES.mappingGone;

/** Jobs the global list shows (the attention index holds them): failed, dead, pending for more than 10 minutes. */
export const ATTENTION_STATUSES = ["failed", "dead", "pending"] as const satisfies readonly CategorySyncStatus[];
type AttentionStatus = (typeof ATTENTION_STATUSES)[number];
const isAttentionStatus = (status: CategorySyncStatus): status is AttentionStatus => (ATTENTION_STATUSES as readonly string[]).includes(status);

/**
 * Sends sync messages (≤ 100 per `sendBatch`). Best effort by design: a failed send is logged and
 * counted out of the result, and the job stays pending for its ledger's alarm. Returns how many were sent.
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
      logger.error("category sync queue send failed; the ledger's alarm will re-queue", {
        jobs: part.map((m) => m.jobId).slice(0, 10),
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return sent;
}

/**
 * Applies what a ledger call returned to the catalog's attention index. Best effort: the ledger already
 * committed the transition (its own state is the truth, and `?user_id=` lists it whatever the index says),
 * so a failed catalog write is logged rather than failing the request or the message.
 */
export async function publishAttention({ catalog, logger }: Pick<Services, "catalog" | "logger">, changes: ReadonlyArray<AttentionChange | null>, now: Date = new Date()): Promise<void> {
  const list = changes.filter((change): change is AttentionChange => change !== null);
  if (list.length === 0) return;
  try {
    await applyAttention(catalog, list, now);
  } catch (error) {
    logger.error("could not update the attention index for category syncs", {
      changes: list.length,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

export type SyncDeps = Pick<Services, "catalog" | "pluggy" | "logger" | "ledger"> & { now?: () => Date };

export type SyncOutcome = "synced" | "stale" | "failed" | "superseded" | "missing";

/**
 * Syncs one job to Pluggy (`PATCH /transactions/{id}` with the mapped category), for the queue consumer.
 * The message's user's ledger says whether the job is still due at this version (`jobForSync`: stale
 * messages return without calling Pluggy). The Pluggy id is mapped now, not when the user chose, so
 * mapping changes apply to pending syncs. Success marks `synced` only while the job still holds this
 * version. A transient Pluggy failure records the attempt and throws RetryableError (429: no sooner than
 * Pluggy asks); a permanent one marks `failed` with Pluggy's reason.
 */
export async function syncCategoryJob(deps: SyncDeps, message: CategorySyncMessage): Promise<SyncOutcome> {
  const { catalog, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const ledger = deps.ledger(message.userId);
  const found = await ledger.jobForSync({ jobId: message.jobId, version: message.version, transactionId: message.transactionId, now: now() });
  if (found.outcome === "missing") {
    logger.info("category sync job no longer exists; nothing to do", { job_id: message.jobId });
    return "missing";
  }
  if (found.outcome === "stale") return "stale";
  if (found.outcome === "failed") {
    await publishAttention(deps, [found.attention]);
    return "failed";
  }
  const { job } = found;

  const mapping = await catalog.query.categoryMappings.findFirst({ where: eq(categoryMappings.categoryId, job.categoryId) });
  if (!mapping) {
    const closed = await ledger.markFailed({ jobId: job.id, version: job.version, kind: "final", error: MAPPING_GONE, attempted: false, now: now() });
    await publishAttention(deps, [closed.attention]);
    return "failed";
  }

  let updated: Awaited<ReturnType<SyncDeps["pluggy"]["updateTransactionCategory"]>>;
  try {
    updated = await deps.pluggy.updateTransactionCategory(job.pluggyTransactionId, mapping.pluggyCategoryId);
  } catch (error) {
    const reason = error instanceof PluggyError ? error.reason : error instanceof Error ? error.message : String(error);
    if (error instanceof PluggyError && !error.transient) {
      const closed = await ledger.markFailed({ jobId: job.id, version: job.version, kind: "final", error: reason, pluggyCategoryId: mapping.pluggyCategoryId, now: now() });
      await publishAttention(deps, [closed.attention]);
      return "failed";
    }
    // The attempt and reason are recorded; the job stays pending, its ledger's alarm well behind the queue's retries.
    await ledger.markFailed({ jobId: job.id, version: job.version, kind: "retryable", error: reason, pluggyCategoryId: mapping.pluggyCategoryId, now: now() });
    const minDelaySeconds = error instanceof PluggyError && error.status === 429 ? (error.retryAfterSeconds ?? 0) : 0;
    throw new RetryableError(`Pluggy category update failed: ${reason}`, { minDelaySeconds, cause: error });
  }

  const marked = await ledger.markSynced({
    jobId: job.id,
    version: job.version,
    pluggyCategoryId: mapping.pluggyCategoryId,
    answer: { categoryId: updated.categoryId ?? null, category: updated.category ?? null },
    now: now(),
  });
  if (marked.outcome === "synced") {
    await publishAttention(deps, [marked.attention]);
    return "synced";
  }
  // A newer change holds the job. If it was already synced, our older call may have landed at Pluggy
  // after it: the ledger re-opened and re-queued it, so Pluggy ends holding the user's last choice.
  if (marked.resync) logger.info("an older category sync finished after a newer one; syncing the newer again", { job_id: job.id, version: marked.resync.version });
  return "superseded";
}

/**
 * Dead-letter consumer: retries are exhausted, so the job (if this message is still its current
 * version and it is still pending) becomes `dead`, keeping the last error for operators.
 */
export async function markCategorySyncDead(deps: Pick<Services, "catalog" | "logger" | "ledger">, message: CategorySyncMessage, now: Date = new Date()): Promise<boolean> {
  const result = await deps.ledger(message.userId).markDead({ jobId: message.jobId, version: message.version, now });
  await publishAttention(deps, [result.attention], now);
  return result.changed;
}

/** A job as the admin API shows it: the ledger's row and whose ledger holds it. */
export interface CategorySyncJobDto {
  id: string;
  user_id: string;
  transaction_id: string;
  pluggy_transaction_id: string;
  pluggy_category_id: string | null;
  status: CategorySyncStatus;
  attempts: number;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

const toJobDto = (userId: string, job: LedgerJobDto): CategorySyncJobDto => ({
  id: job.id,
  user_id: userId,
  transaction_id: job.transaction_id,
  pluggy_transaction_id: job.pluggy_transaction_id,
  pluggy_category_id: job.pluggy_category_id,
  status: job.status,
  attempts: job.attempts,
  last_error: job.last_error,
  created_at: job.created_at,
  updated_at: job.updated_at,
});

export interface JobListFilters {
  status?: CategorySyncStatus | undefined;
  userId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/**
 * Sync jobs for the admin list. With `userId`: any status, from that user's ledger, most recently
 * changed first. Without: only what the attention index holds (failed, dead, pending for more than 10
 * minutes), newest in its status first, whatever the number of users; asking for another status there
 * is a 400 that says to add `user_id`.
 */
export async function listCategorySyncJobs(deps: Pick<Services, "catalog" | "ledger">, filters: JobListFilters): Promise<{ data: CategorySyncJobDto[]; nextCursor: string | null }> {
  if (filters.userId !== undefined) {
    const userId = filters.userId;
    // Decoded here: a bad cursor thrown inside the ledger would reach us as a plain Error (a 500).
    if (filters.cursor) parseJobCursor(filters.cursor);
    const page = await deps.ledger(userId).listJobs({ limit: filters.limit, ...(filters.status ? { status: filters.status } : {}), ...(filters.cursor ? { cursor: filters.cursor } : {}) });
    return { data: page.data.map((job) => toJobDto(userId, job)), nextCursor: page.nextCursor };
  }
  if (filters.status !== undefined && !isAttentionStatus(filters.status)) {
    throw validationError("user_id", `listing ${filters.status} jobs needs user_id; without it the list holds failed, dead and long-pending jobs only`);
  }
  const statuses: AttentionStatus[] = filters.status ? [filters.status] : [...ATTENTION_STATUSES];
  const page = await listAttentionPage(deps, statuses, filters.limit, filters.cursor);
  const jobs = await jobsOf(deps, page.data);
  // An entry whose job moved on since it was indexed (its removal not yet applied) is left out.
  const data = page.data.flatMap((entry) => {
    const job = jobs.get(entry.id);
    return job && job.status === entry.status ? [toJobDto(entry.userId, job)] : [];
  });
  return { data, nextCursor: page.nextCursor };
}

const attentionCursor = z.object({ s: z.string().min(1).max(64), i: z.string().min(1).max(128) });

/**
 * One page of category-sync attention entries in `statuses`, newest `since` first, keyset on (since, id).
 * One status is `listAttention`; several are one query over the same index per status, merged here.
 */
async function listAttentionPage(deps: CatalogDeps, statuses: AttentionStatus[], limit: number, cursor: string | undefined): Promise<{ data: AttentionRow[]; nextCursor: string | null }> {
  const [only] = statuses;
  if (statuses.length === 1 && only) return listAttention(deps.catalog, { kind: "category_sync", status: only, limit, cursor });
  const after = cursor ? decodeCursor(cursor, attentionCursor) : undefined;
  const pages = await Promise.all(
    statuses.map((status) =>
      deps.catalog
        .select()
        .from(attention)
        .where(
          and(
            eq(attention.kind, "category_sync"),
            eq(attention.status, status),
            after ? or(lt(attention.since, after.s), and(eq(attention.since, after.s), lt(attention.id, after.i))) : undefined,
          ),
        )
        .orderBy(desc(attention.since), desc(attention.id))
        .limit(limit + 1),
    ),
  );
  const rows = pages.flat().sort((a, b) => (a.since === b.since ? (a.id < b.id ? 1 : -1) : a.since < b.since ? 1 : -1));
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  return { data, nextCursor: rows.length > limit && last ? encodeCursor({ s: last.since, i: last.id }) : null };
}

/** The jobs behind attention entries, one ledger call per user. */
async function jobsOf(deps: Pick<Services, "ledger">, entries: readonly AttentionRow[]): Promise<Map<string, LedgerJobDto>> {
  const byUser = new Map<string, string[]>();
  for (const entry of entries) byUser.set(entry.userId, [...(byUser.get(entry.userId) ?? []), entry.id]);
  const found = await Promise.all([...byUser].map(([userId, jobIds]) => deps.ledger(userId).getJobs({ jobIds })));
  return new Map(found.flat().map((job) => [job.id, job]));
}

/** Current number of pending jobs (for metrics): the sum of what each ledger last rolled up. */
export async function countPendingCategorySyncs({ catalog: db }: CatalogDeps): Promise<number> {
  const [row] = await db.select({ n: sql<number>`coalesce(sum(${metricCounters.count}), 0)` }).from(metricCounters).where(eq(metricCounters.name, PENDING_GAUGE));
  return Math.max(0, Number(row?.n ?? 0));
}

/** Whose job this is: the caller's `userId`, else the attention index (failed, dead and long-pending jobs are there). */
async function ownerOfJob({ catalog }: CatalogDeps, jobId: string, userId: string | undefined): Promise<string | null> {
  if (userId !== undefined) return userId;
  const [entry] = await catalog
    .select({ userId: attention.userId })
    .from(attention)
    .where(and(eq(attention.kind, "category_sync"), eq(attention.id, jobId)))
    .limit(1);
  return entry?.userId ?? null;
}

/**
 * Operator retry of one job, whatever its state: back to pending at its current version and queued
 * now (by its ledger). The attempt count and last error are kept for the record. The job is found
 * through the attention index, or in `userId`'s ledger when given; 404 when it is in neither.
 */
export async function retryCategorySync(deps: Pick<Services, "catalog" | "ledger" | "logger">, input: { jobId: string; userId?: string | undefined }, now: Date = new Date()): Promise<number> {
  const owner = await ownerOfJob(deps, input.jobId, input.userId);
  if (owner === null) throw notFound("category sync");
  const result = await deps.ledger(owner).retry({ jobId: input.jobId, now });
  if (result.outcome === "not_found") throw notFound("category sync");
  await publishAttention(deps, result.attention, now);
  return result.queued;
}

/**
 * Operator redrive: up to `limit` jobs in `status` (dead or failed), oldest first as the attention index
 * has them, back to pending and queued by their ledgers (one call per user). Returns how many were
 * re-opened (a failed send leaves them pending for the ledger's alarm, not lost).
 */
export async function redriveCategorySyncs(
  deps: Pick<Services, "catalog" | "ledger" | "logger">,
  options: { status: "dead" | "failed"; limit: number },
  now: Date = new Date(),
): Promise<number> {
  const perUser = new Map<string, number>();
  let taken = 0;
  let cursor: string | undefined;
  do {
    const page = await listAttention(deps.catalog, { kind: "category_sync", status: options.status, limit: Math.min(200, options.limit - taken), cursor, order: "asc" });
    for (const entry of page.data) perUser.set(entry.userId, (perUser.get(entry.userId) ?? 0) + 1);
    taken += page.data.length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor && taken < options.limit);
  let queued = 0;
  for (const [userId, limit] of perUser) {
    const result = await deps.ledger(userId).redrive({ status: options.status, limit, now });
    await publishAttention(deps, result.attention, now);
    queued += result.queued;
  }
  return queued;
}
