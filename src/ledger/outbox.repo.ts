import { and, asc, desc, eq, inArray, isNotNull, isNull, lte, min, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { AttentionChange } from "../catalog/attention.repo.ts";
import { RETRY_SWEEP_AFTER_MS, SWEEP_AFTER_MS } from "../category-sync/category-sync.config.ts";
import { CATEGORY_SYNC_REASONS, LOCAL_FAILURES } from "../category-sync/category-sync.reasons.ts";
import { decodeCursor, encodeCursor } from "../platform/cursor.ts";
import { newId } from "../platform/ids.ts";
import { hourBucket } from "../platform/metrics.ts";
import { categorySyncJobs, ledgerCounters, transactions, type CategorySyncJobRow, type CategorySyncStatus, type LedgerCounterRow } from "./ledger.schema.ts";
import type { LedgerDb } from "./user-ledger.ts";
import type { CategorySyncMessage } from "../queues/messages.ts";

/*
 * The category-sync outbox inside one user's ledger (`category_sync_jobs`, one row per transaction) and
 * every move of its state machine: pending → synced | failed | dead, and back to pending on a new change,
 * a retry, a redrive or a resync. Each function is synchronous on the ledger's SQLite and meant to run
 * inside one storage transaction (UserLedger wraps each call in `transactionSync`), so a transition, its
 * counter and its attention flag are written together or not at all. Writes about a job are conditional
 * on its version (and status): a message or an operator acting on an older version changes nothing.
 *
 * Attention: a job that needs an operator (failed, dead, or pending for longer than
 * ATTENTION_PENDING_AFTER_MS) is listed in the catalog's `attention` index, which a ledger cannot write
 * inside its own transaction. So every transition into or out of such a status returns an
 * `AttentionChange` for the caller to apply, and the job remembers what was published
 * (`attention_status`), so that only real transitions produce catalog writes.
 */

/** Counter names (hourly buckets), as the catalog's metric_counters knows them. */
export const OUTBOX_COUNTERS = {
  queued: "category_sync.queued",
  skipped: "category_sync.skipped",
  succeeded: "category_sync.succeeded",
  failed: "category_sync.failed",
  dead: "category_sync.dead",
  /** A transient failure that will be retried. */
  retried: "category_sync.retried",
  /** A message made obsolete by a newer change (no Pluggy call). */
  stale: "category_sync.stale",
  /** Re-queued by the alarm, a retry, a redrive or a resync. */
  requeued: "category_sync.requeued",
} as const;

/**
 * Not an event count: each ledger adds the change in its number of pending jobs at every roll-up, so
 * the sum over all buckets is the number of pending jobs everywhere (as of each ledger's last roll-up).
 */
export const PENDING_GAUGE = "category_sync.pending";

/** A job pending this long needs an operator (it joins the attention index). */
export const ATTENTION_PENDING_AFTER_MS = 10 * 60_000;

/** Why a change was not sent to Pluggy (the transaction's `category_sync_skip_reason`). */
export const OUTBOX_SKIP_REASONS = {
  noPluggyId: CATEGORY_SYNC_REASONS.no_pluggy_id,
  noMapping: CATEGORY_SYNC_REASONS.no_pluggy_mapping,
  cleared: CATEGORY_SYNC_REASONS.category_cleared,
} as const;
export type OutboxSkipReason = (typeof OUTBOX_SKIP_REASONS)[keyof typeof OUTBOX_SKIP_REASONS];

const KIND = "category_sync" as const;

/** Parameters bound per `IN (...)` list, well under SQLite's limit. */
const IDS_PER_STATEMENT = 90;

function chunk<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

const plus = (at: Date, ms: number): string => new Date(at.getTime() + ms).toISOString();

/** Adds `n` to a counter's hourly bucket (inside the caller's transaction). */
export function countOutbox(db: LedgerDb, name: string, n: number, at: Date): void {
  if (n === 0) return;
  db.insert(ledgerCounters)
    .values({ bucket: hourBucket(at), name, count: n })
    .onConflictDoUpdate({ target: [ledgerCounters.bucket, ledgerCounters.name], set: { count: sql`${ledgerCounters.count} + ${n}` } })
    .run();
}

/** Every counter, then none: the roll-up into the catalog takes them (call inside one transaction). */
export function drainCounters(db: LedgerDb): LedgerCounterRow[] {
  return db.delete(ledgerCounters).returning().all();
}

/** Whether anything was counted since the last drain. */
export function hasCounters(db: LedgerDb): boolean {
  return db.select({ name: ledgerCounters.name }).from(ledgerCounters).limit(1).get() !== undefined;
}

/** How many jobs are pending here now. */
export function countPending(db: LedgerDb): number {
  return db.select({ n: sql<number>`count(*)` }).from(categorySyncJobs).where(eq(categorySyncJobs.status, "pending")).get()?.n ?? 0;
}

/** The message that asks the consumer to sync `job` at its current version. */
export const messageFor = (userId: string, job: Pick<CategorySyncJobRow, "id" | "transactionId" | "version">): CategorySyncMessage => ({
  kind: "category.sync",
  jobId: job.id,
  transactionId: job.transactionId,
  version: job.version,
  userId,
});

/**
 * The columns of a job moving (back) to pending. A job that already was pending keeps when it became
 * pending and whatever the attention index holds about it (it has been waiting all along); any other
 * job starts a new pending period, out of the index.
 */
const enterPending = (at: string) => ({
  pendingSince: sql`case when ${categorySyncJobs.status} = 'pending' and ${categorySyncJobs.pendingSince} is not null then ${categorySyncJobs.pendingSince} else ${at} end`,
  attentionStatus: sql`case when ${categorySyncJobs.status} = 'pending' then ${categorySyncJobs.attentionStatus} else null end`,
});

/** The removal a job leaving its status for pending owes the index (a pending job keeps its entry). */
const removalOnReopen = (job: Pick<CategorySyncJobRow, "id" | "status" | "attentionStatus">): AttentionChange | null =>
  job.attentionStatus !== null && job.status !== "pending" ? { kind: KIND, remove: job.id } : null;

// ------------------------------------------------------------------------------------------------
// A user's change

export interface ChangeCategoryInput {
  userId: string;
  transactionId: string;
  /** The local category, or null to clear it. */
  categoryId: string | null;
  /** The category's Pluggy id from the catalog's mapping (null: not mapped). */
  pluggyCategoryId: string | null;
  /** Why no sync is due, when the Worker already knows (cleared, no mapping); the ledger adds "no Pluggy id". */
  skipReason: OutboxSkipReason | null;
  now: Date;
  /** When the alarm re-queues the job if it is still pending (a lost send). */
  dueAt: Date;
}

export type ChangeCategoryResult =
  | { outcome: "not_found" }
  | { outcome: "skipped"; reason: OutboxSkipReason; attention: AttentionChange | null }
  | { outcome: "queued"; message: CategorySyncMessage; dueAt: string; attention: AttentionChange | null };

/**
 * A user's category choice for one of their transactions: the transaction (category, chosen-by-user,
 * version + 1) and either its one sync job (pending at the new version, so every older message becomes a
 * no-op) or the reason no sync is due (and any older job is dropped, so it can never push a superseded
 * choice). Call inside one transaction. The queue send is the caller's, after the commit.
 */
export function changeCategory(db: LedgerDb, input: ChangeCategoryInput): ChangeCategoryResult {
  const at = input.now.toISOString();
  const transaction = db.select({ id: transactions.id, pluggyId: transactions.pluggyId }).from(transactions).where(eq(transactions.id, input.transactionId)).get();
  if (!transaction) return { outcome: "not_found" };
  const previous = db
    .select({ id: categorySyncJobs.id, status: categorySyncJobs.status, attentionStatus: categorySyncJobs.attentionStatus })
    .from(categorySyncJobs)
    .where(eq(categorySyncJobs.transactionId, transaction.id))
    .get();

  const skipReason: OutboxSkipReason | null =
    transaction.pluggyId === null
      ? OUTBOX_SKIP_REASONS.noPluggyId
      : input.categoryId === null
        ? OUTBOX_SKIP_REASONS.cleared
        : (input.skipReason ?? (input.pluggyCategoryId === null ? OUTBOX_SKIP_REASONS.noMapping : null));

  db.update(transactions)
    .set({
      categoryId: input.categoryId,
      categorySetByUser: true,
      categoryVersion: sql`${transactions.categoryVersion} + 1`,
      categorySyncSkipReason: skipReason,
      categorySyncSkippedAt: skipReason === null ? null : at,
      updatedAt: at,
    })
    .where(eq(transactions.id, transaction.id))
    .run();

  if (skipReason !== null || transaction.pluggyId === null || input.categoryId === null) {
    db.delete(categorySyncJobs).where(eq(categorySyncJobs.transactionId, transaction.id)).run();
    countOutbox(db, OUTBOX_COUNTERS.skipped, 1, input.now);
    const removed: AttentionChange | null = previous?.attentionStatus ? { kind: KIND, remove: previous.id } : null;
    return { outcome: "skipped", reason: skipReason ?? OUTBOX_SKIP_REASONS.cleared, attention: removed };
  }

  const dueAt = input.dueAt.toISOString();
  // The job's version is read from the row just bumped: the job can never be behind the transaction.
  const [job] = db
    .insert(categorySyncJobs)
    .values({
      id: newId(),
      transactionId: transaction.id,
      pluggyTransactionId: transaction.pluggyId,
      categoryId: input.categoryId,
      pluggyCategoryId: input.pluggyCategoryId,
      version: sql`(select ${transactions.categoryVersion} from ${transactions} where ${transactions.id} = ${transaction.id})`,
      status: "pending",
      attempts: 0,
      lastError: null,
      dueAt,
      syncedAt: null,
      pendingSince: at,
      attentionStatus: null,
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
        ...enterPending(at),
        updatedAt: at,
      },
    })
    .returning({ id: categorySyncJobs.id, transactionId: categorySyncJobs.transactionId, version: categorySyncJobs.version, dueAt: categorySyncJobs.dueAt })
    .all();
  if (!job) throw new Error("category sync job upsert returned no row");
  countOutbox(db, OUTBOX_COUNTERS.queued, 1, input.now);
  return { outcome: "queued", message: messageFor(input.userId, job), dueAt: job.dueAt, attention: previous ? removalOnReopen(previous) : null };
}

// ------------------------------------------------------------------------------------------------
// The consumer's side

/** What the consumer needs to call Pluggy for a job. */
export interface JobForSync {
  id: string;
  transactionId: string;
  pluggyTransactionId: string;
  /** The local category: the Worker maps it to Pluggy's id now (mappings may have changed). */
  categoryId: string;
  version: number;
  attempts: number;
}

export type JobForSyncResult =
  | { outcome: "ready"; job: JobForSync }
  | { outcome: "missing" }
  | { outcome: "stale" }
  /** Closed without calling Pluggy: the transaction is gone, or a newer change overtook the job. */
  | { outcome: "failed"; lastError: string; attention: AttentionChange | null };

const isCurrent = (jobId: string, version: number) =>
  and(eq(categorySyncJobs.id, jobId), eq(categorySyncJobs.version, version), eq(categorySyncJobs.status, "pending"));

/**
 * Loads a job for sending at `version`. Missing (or not the message's transaction): nothing to do. An
 * older version, or a job no longer pending: stale (counted), no Pluggy call. A version newer than the
 * job's: stale, not counted (it cannot come from this ledger). A transaction gone or moved past the
 * job's version closes the job as failed here.
 */
export function jobForSync(db: LedgerDb, userId: string, input: { jobId: string; version: number; transactionId?: string | undefined; now: Date }): JobForSyncResult {
  const job = db.select().from(categorySyncJobs).where(eq(categorySyncJobs.id, input.jobId)).get();
  if (!job || (input.transactionId !== undefined && job.transactionId !== input.transactionId)) return { outcome: "missing" };
  if (input.version < job.version || job.status !== "pending") {
    countOutbox(db, OUTBOX_COUNTERS.stale, 1, input.now);
    return { outcome: "stale" };
  }
  if (input.version > job.version) return { outcome: "stale" };
  const transaction = db.select({ categoryVersion: transactions.categoryVersion }).from(transactions).where(eq(transactions.id, job.transactionId)).get();
  const localFailure = !transaction ? LOCAL_FAILURES.transactionGone : transaction.categoryVersion > job.version ? LOCAL_FAILURES.superseded : null;
  if (localFailure !== null) {
    const closed = finish(db, userId, { jobId: job.id, version: job.version, status: "failed", lastError: localFailure, attempted: false, now: input.now });
    return { outcome: "failed", lastError: localFailure, attention: closed.attention };
  }
  return {
    outcome: "ready",
    job: { id: job.id, transactionId: job.transactionId, pluggyTransactionId: job.pluggyTransactionId, categoryId: job.categoryId, version: job.version, attempts: job.attempts },
  };
}

export interface TransitionResult {
  /** False when the job was not pending at that version (a stale call: nothing changed). */
  changed: boolean;
  attention: AttentionChange | null;
}

function finish(
  db: LedgerDb,
  userId: string,
  input: { jobId: string; version: number; status: "failed" | "dead"; lastError: string | SQL; attempted: boolean; pluggyCategoryId?: string | undefined; now: Date },
): TransitionResult {
  const at = input.now.toISOString();
  const [row] = db
    .update(categorySyncJobs)
    .set({
      status: input.status,
      ...(input.attempted ? { attempts: sql`${categorySyncJobs.attempts} + 1` } : {}),
      lastError: input.lastError,
      ...(input.pluggyCategoryId !== undefined ? { pluggyCategoryId: input.pluggyCategoryId } : {}),
      pendingSince: null,
      attentionStatus: input.status,
      updatedAt: at,
    })
    .where(isCurrent(input.jobId, input.version))
    .returning({ id: categorySyncJobs.id })
    .all();
  if (!row) return { changed: false, attention: null };
  countOutbox(db, input.status === "failed" ? OUTBOX_COUNTERS.failed : OUTBOX_COUNTERS.dead, 1, input.now);
  return { changed: true, attention: { kind: KIND, id: row.id, userId, status: input.status, since: at } };
}

export interface MarkSyncedInput {
  jobId: string;
  version: number;
  /** The Pluggy category id that was sent. */
  pluggyCategoryId: string;
  /** What Pluggy answered for the transaction (its category id and name), if anything. */
  answer: { categoryId: string | null; category: string | null };
  now: Date;
}

export type MarkSyncedResult =
  | { outcome: "synced"; attention: AttentionChange | null }
  /** A newer change holds the job. `resync` when that newer change was already synced and is re-opened. */
  | { outcome: "superseded"; resync: CategorySyncMessage | null };

/**
 * Pluggy accepted the category: the job becomes synced only while it still holds this version, and the
 * transaction takes what Pluggy now says unless the user changed it meanwhile. If a newer change was
 * already synced, this older call may have landed at Pluggy after it: that job is re-opened (pending,
 * due now + SWEEP_AFTER_MS) and its message returned, so Pluggy ends holding the user's last choice.
 */
export function markSynced(db: LedgerDb, userId: string, input: MarkSyncedInput): MarkSyncedResult {
  const at = input.now.toISOString();
  const previous = db.select({ attentionStatus: categorySyncJobs.attentionStatus }).from(categorySyncJobs).where(isCurrent(input.jobId, input.version)).get();
  const [marked] = db
    .update(categorySyncJobs)
    .set({
      status: "synced",
      attempts: sql`${categorySyncJobs.attempts} + 1`,
      lastError: null,
      pluggyCategoryId: input.pluggyCategoryId,
      syncedAt: at,
      pendingSince: null,
      attentionStatus: null,
      updatedAt: at,
    })
    .where(isCurrent(input.jobId, input.version))
    .returning({ id: categorySyncJobs.id, transactionId: categorySyncJobs.transactionId })
    .all();
  if (marked) {
    db.update(transactions)
      .set({ pluggyCategoryId: input.answer.categoryId ?? input.pluggyCategoryId, pluggyCategoryName: input.answer.category })
      .where(and(eq(transactions.id, marked.transactionId), eq(transactions.categoryVersion, input.version)))
      .run();
    countOutbox(db, OUTBOX_COUNTERS.succeeded, 1, input.now);
    return { outcome: "synced", attention: previous?.attentionStatus ? { kind: KIND, remove: marked.id } : null };
  }
  const [reopened] = db
    .update(categorySyncJobs)
    .set({ status: "pending", syncedAt: null, dueAt: plus(input.now, SWEEP_AFTER_MS), ...enterPending(at), updatedAt: at })
    .where(and(eq(categorySyncJobs.id, input.jobId), eq(categorySyncJobs.status, "synced"), sql`${categorySyncJobs.version} > ${input.version}`))
    .returning()
    .all();
  return { outcome: "superseded", resync: reopened ? messageFor(userId, reopened) : null };
}

export interface MarkFailedInput {
  jobId: string;
  version: number;
  /** `retryable`: the queue retries (the job stays pending); `final`: the job becomes failed. */
  kind: "retryable" | "final";
  /** Pluggy's reason, or one of LOCAL_FAILURES. */
  error: string;
  /** The Pluggy category id that was sent, if a call was made. */
  pluggyCategoryId?: string | undefined;
  /** Whether Pluggy was called (counts an attempt). Default: true. */
  attempted?: boolean | undefined;
  now: Date;
}

/**
 * A failed sync at `version`. Final: the job becomes failed with the reason (into the attention index).
 * Retryable: the attempt and reason are recorded and the job stays pending, due well after the queue's
 * own retries (RETRY_SWEEP_AFTER_MS). Either way a stale version changes nothing.
 */
export function markFailed(db: LedgerDb, userId: string, input: MarkFailedInput): TransitionResult {
  const attempted = input.attempted ?? true;
  if (input.kind === "final") {
    return finish(db, userId, { jobId: input.jobId, version: input.version, status: "failed", lastError: input.error, attempted, pluggyCategoryId: input.pluggyCategoryId, now: input.now });
  }
  const [row] = db
    .update(categorySyncJobs)
    .set({
      ...(attempted ? { attempts: sql`${categorySyncJobs.attempts} + 1` } : {}),
      lastError: input.error,
      ...(input.pluggyCategoryId !== undefined ? { pluggyCategoryId: input.pluggyCategoryId } : {}),
      dueAt: plus(input.now, RETRY_SWEEP_AFTER_MS),
      updatedAt: input.now.toISOString(),
    })
    .where(isCurrent(input.jobId, input.version))
    .returning({ id: categorySyncJobs.id })
    .all();
  if (row) countOutbox(db, OUTBOX_COUNTERS.retried, 1, input.now);
  return { changed: row !== undefined, attention: null };
}

/** Retries exhausted (the dead-letter queue): dead at `version` if still pending, keeping the last error. */
export function markDead(db: LedgerDb, userId: string, input: { jobId: string; version: number; now: Date }): TransitionResult {
  return finish(db, userId, {
    jobId: input.jobId,
    version: input.version,
    status: "dead",
    lastError: sql`coalesce(${categorySyncJobs.lastError}, 'retries exhausted')`,
    attempted: false,
    now: input.now,
  });
}

// ------------------------------------------------------------------------------------------------
// Operators

export interface ReopenResult {
  /** The re-opened jobs' messages, for the ledger to send. */
  messages: CategorySyncMessage[];
  attention: AttentionChange[];
}

function reopen(db: LedgerDb, userId: string, ids: readonly string[], statusGuard: CategorySyncStatus | undefined, now: Date): ReopenResult {
  const at = now.toISOString();
  const result: ReopenResult = { messages: [], attention: [] };
  for (const part of chunk(ids, IDS_PER_STATEMENT)) {
    const guard = and(inArray(categorySyncJobs.id, part), statusGuard ? eq(categorySyncJobs.status, statusGuard) : undefined);
    const before = new Map(
      db
        .select({ id: categorySyncJobs.id, status: categorySyncJobs.status, attentionStatus: categorySyncJobs.attentionStatus })
        .from(categorySyncJobs)
        .where(guard)
        .all()
        .map((job) => [job.id, job]),
    );
    const rows = db
      .update(categorySyncJobs)
      .set({ status: "pending", syncedAt: null, dueAt: plus(now, SWEEP_AFTER_MS), ...enterPending(at), updatedAt: at })
      .where(guard)
      .returning()
      .all();
    for (const row of rows) {
      result.messages.push(messageFor(userId, row));
      const previous = before.get(row.id);
      const removal = previous ? removalOnReopen(previous) : null;
      if (removal) result.attention.push(removal);
    }
  }
  return result;
}

/**
 * Operator retry of one job, whatever its state: back to pending at its current version (attempts and
 * last error kept for the record). Null when the job does not exist.
 */
export function retryJob(db: LedgerDb, userId: string, input: { jobId: string; now: Date }): ReopenResult | null {
  const job = db.select({ id: categorySyncJobs.id }).from(categorySyncJobs).where(eq(categorySyncJobs.id, input.jobId)).get();
  if (!job) return null;
  return reopen(db, userId, [job.id], undefined, input.now);
}

/** Operator redrive: up to `limit` jobs in `status` (dead or failed), oldest first, back to pending. */
export function redriveJobs(db: LedgerDb, userId: string, input: { status: "dead" | "failed"; limit: number; now: Date }): ReopenResult {
  const ids = db
    .select({ id: categorySyncJobs.id })
    .from(categorySyncJobs)
    .where(eq(categorySyncJobs.status, input.status))
    .orderBy(asc(categorySyncJobs.updatedAt), asc(categorySyncJobs.id))
    .limit(input.limit)
    .all()
    .map((row) => row.id);
  return reopen(db, userId, ids, input.status, input.now);
}

export interface CategorySyncJobDto {
  id: string;
  transaction_id: string;
  pluggy_transaction_id: string;
  pluggy_category_id: string | null;
  status: CategorySyncStatus;
  version: number;
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
  version: row.version,
  attempts: row.attempts,
  last_error: row.lastError,
  created_at: row.createdAt,
  updated_at: row.updatedAt,
});

const jobCursor = z.object({ u: z.string().min(1).max(64), i: z.string().min(1).max(128) });
export type JobCursor = z.infer<typeof jobCursor>;

/**
 * Decodes a job-list cursor; throws the API's 400 (`validation_error` on `cursor`) when it is not one.
 * The Worker calls it before asking the ledger: an error thrown inside a ledger call reaches the
 * Worker as a plain Error (a 500), never as the API's error.
 */
export const parseJobCursor = (cursor: string): JobCursor => decodeCursor(cursor, jobCursor);

/** The ledger's jobs, most recently changed first (keyset on updated_at, id), optionally of one status. */
export function listJobs(
  db: LedgerDb,
  filters: { status?: CategorySyncStatus | undefined; limit: number; cursor?: string | undefined },
): { data: CategorySyncJobDto[]; nextCursor: string | null } {
  const where: SQL[] = [];
  if (filters.status) where.push(eq(categorySyncJobs.status, filters.status));
  if (filters.cursor) {
    const after = parseJobCursor(filters.cursor);
    where.push(sql`(${categorySyncJobs.updatedAt}, ${categorySyncJobs.id}) < (${after.u}, ${after.i})`);
  }
  const rows = db
    .select()
    .from(categorySyncJobs)
    .where(and(...where))
    .orderBy(desc(categorySyncJobs.updatedAt), desc(categorySyncJobs.id))
    .limit(filters.limit + 1)
    .all();
  const page = rows.slice(0, filters.limit);
  const last = page.at(-1);
  return { data: page.map(toJobDto), nextCursor: rows.length > filters.limit && last ? encodeCursor({ u: last.updatedAt, i: last.id }) : null };
}

export function getJob(db: LedgerDb, jobId: string): CategorySyncJobDto | null {
  const row = db.select().from(categorySyncJobs).where(eq(categorySyncJobs.id, jobId)).get();
  return row ? toJobDto(row) : null;
}

/** The jobs among `jobIds` this ledger holds (in no particular order). */
export function getJobs(db: LedgerDb, jobIds: readonly string[]): CategorySyncJobDto[] {
  return chunk([...new Set(jobIds)], IDS_PER_STATEMENT).flatMap((part) => db.select().from(categorySyncJobs).where(inArray(categorySyncJobs.id, part)).all().map(toJobDto));
}

// ------------------------------------------------------------------------------------------------
// The alarm

/**
 * Claims up to `limit` pending jobs due at `now` (oldest due first) by moving their due time to
 * `nextDue` before they are sent, as the cron sweeper did. Returns the claimed rows.
 */
export function claimDueJobs(db: LedgerDb, input: { now: Date; limit: number; nextDue: string }): CategorySyncJobRow[] {
  const at = input.now.toISOString();
  const ids = db
    .select({ id: categorySyncJobs.id })
    .from(categorySyncJobs)
    .where(and(eq(categorySyncJobs.status, "pending"), lte(categorySyncJobs.dueAt, at)))
    .orderBy(asc(categorySyncJobs.dueAt))
    .limit(input.limit)
    .all()
    .map((row) => row.id);
  const claimed: CategorySyncJobRow[] = [];
  for (const part of chunk(ids, IDS_PER_STATEMENT)) {
    claimed.push(
      ...db
        .update(categorySyncJobs)
        .set({ dueAt: input.nextDue })
        .where(and(inArray(categorySyncJobs.id, part), eq(categorySyncJobs.status, "pending"), lte(categorySyncJobs.dueAt, at)))
        .returning()
        .all(),
    );
  }
  return claimed;
}

/** Sets the due time of pending jobs still holding `claimedDue` (a failed send hands them back). */
export function releaseClaim(db: LedgerDb, input: { ids: readonly string[]; claimedDue: string; dueAt: string }): void {
  for (const part of chunk(input.ids, IDS_PER_STATEMENT)) {
    db.update(categorySyncJobs)
      .set({ dueAt: input.dueAt })
      .where(and(inArray(categorySyncJobs.id, part), eq(categorySyncJobs.status, "pending"), eq(categorySyncJobs.dueAt, input.claimedDue)))
      .run();
  }
}

/** Pending jobs pending since `cutoff` or earlier and not yet in the attention index (at most `limit`). */
export function overduePending(db: LedgerDb, input: { cutoff: string; limit: number }): { id: string; pendingSince: string }[] {
  return db
    .select({ id: categorySyncJobs.id, pendingSince: categorySyncJobs.pendingSince })
    .from(categorySyncJobs)
    .where(and(eq(categorySyncJobs.status, "pending"), isNull(categorySyncJobs.attentionStatus), lte(categorySyncJobs.pendingSince, input.cutoff)))
    .orderBy(asc(categorySyncJobs.pendingSince))
    .limit(input.limit)
    .all()
    .flatMap((row) => (row.pendingSince === null ? [] : [{ id: row.id, pendingSince: row.pendingSince }]));
}

/**
 * Records that these jobs are now in the attention index as `pending`, for those still pending since
 * the same instant (a job that moved meanwhile is returned in `moved`, so its entry can be taken out).
 */
export function flagOverduePending(db: LedgerDb, jobs: readonly { id: string; pendingSince: string }[]): { flagged: string[]; moved: string[] } {
  const out = { flagged: [] as string[], moved: [] as string[] };
  for (const job of jobs) {
    const [row] = db
      .update(categorySyncJobs)
      .set({ attentionStatus: "pending" })
      .where(and(eq(categorySyncJobs.id, job.id), eq(categorySyncJobs.status, "pending"), isNull(categorySyncJobs.attentionStatus), eq(categorySyncJobs.pendingSince, job.pendingSince)))
      .returning({ id: categorySyncJobs.id })
      .all();
    (row ? out.flagged : out.moved).push(job.id);
  }
  return out;
}

/**
 * When the outbox next needs the alarm (ms since the epoch), or null when nothing is pending: the
 * earliest due time of a pending job, or the earliest moment a pending job becomes overdue for the
 * attention index.
 */
export function nextOutboxAlarm(db: LedgerDb): number | null {
  const [due] = db.select({ at: min(categorySyncJobs.dueAt) }).from(categorySyncJobs).where(eq(categorySyncJobs.status, "pending")).all();
  const [since] = db
    .select({ at: min(categorySyncJobs.pendingSince) })
    .from(categorySyncJobs)
    .where(and(eq(categorySyncJobs.status, "pending"), isNull(categorySyncJobs.attentionStatus)))
    .all();
  const candidates = [due?.at ? Date.parse(due.at) : null, since?.at ? Date.parse(since.at) + ATTENTION_PENDING_AFTER_MS : null].filter(
    (at): at is number => at !== null && Number.isFinite(at),
  );
  return candidates.length === 0 ? null : Math.min(...candidates);
}

/**
 * The ids of the jobs this ledger has published to the catalog's attention index (`attention_status`
 * set), optionally only those on transactions of `itemIds`: what erasing the ledger, or some of its
 * items, must also take out of the index (by primary key), found before the jobs themselves go.
 */
export function attentionJobIds(db: LedgerDb, options: { itemIds?: readonly string[] | undefined } = {}): string[] {
  const flagged = isNotNull(categorySyncJobs.attentionStatus);
  if (options.itemIds === undefined) return db.select({ id: categorySyncJobs.id }).from(categorySyncJobs).where(flagged).all().map((row) => row.id);
  if (options.itemIds.length === 0) return [];
  return db
    .select({ id: categorySyncJobs.id })
    .from(categorySyncJobs)
    .innerJoin(transactions, eq(transactions.id, categorySyncJobs.transactionId))
    .where(and(flagged, sql`${transactions.itemId} IN (SELECT value FROM json_each(${JSON.stringify(options.itemIds)}))`))
    .all()
    .map((row) => row.id);
}
