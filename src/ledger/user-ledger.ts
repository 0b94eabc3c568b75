import { DurableObject } from "cloudflare:workers";
import { drizzle, type DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import { eq, sql } from "drizzle-orm";
import { applyAttention, type AttentionChange } from "../catalog/attention.repo.ts";
import { SWEEP_AFTER_MS, SWEEP_BATCH_SIZE, SWEEP_MAX_BATCHES } from "../category-sync/category-sync.config.ts";
import { createDb } from "../db/client.ts";
import type { AppBindings } from "../platform/env.ts";
import { createLogger } from "../platform/logger.ts";
import { counterIncrement } from "../platform/metrics.ts";
import migrations from "./migrations/migrations.js";
import * as schema from "./ledger.schema.ts";
import type { AccountRow, CategorySyncJobRow, ItemRow, TransactionRow } from "./ledger.schema.ts";
import * as banking from "./banking.repo.ts";
import type { AccountInput, ItemInput, LocalAccounts, TransactionInput, TransactionPageCounts } from "./banking.inputs.ts";
import { nowIso } from "../platform/ids.ts";
import type { CategorySyncStatus, LedgerCounterRow } from "./ledger.schema.ts";
import type { CategorySyncMessage } from "../queues/messages.ts";
import * as outbox from "./outbox.repo.ts";
import type { CategorySyncJobDto, ChangeCategoryInput, ChangeCategoryResult, JobForSyncResult, MarkFailedInput, MarkSyncedInput, MarkSyncedResult, TransitionResult } from "./outbox.repo.ts";

export type LedgerDb = DrizzleSqliteDODatabase<typeof schema>;

const ledgerLogger = createLogger({ component: "user-ledger" });

/** ledger_meta key: consecutive alarms whose queue send or catalog write failed (drives their backoff). */
const ALARM_FAILURES_KEY = "outbox_alarm_failures";
const ALARM_RETRY_BASE_MS = 5_000;
/** ledger_meta key: when the counters are next rolled up into the catalog (ms since the epoch). */
const ROLLUP_DUE_KEY = "rollup_due_at";
/** ledger_meta key: this ledger's pending jobs as the catalog's PENDING_GAUGE last heard of them. */
const PENDING_REPORTED_KEY = "pending_reported";
/** ledger_meta key: when the counters last went to the catalog (ms since the epoch). */
const ROLLED_UP_AT_KEY = "rolled_up_at";
/** Counters reach the catalog at most this often per ledger, and no later than this after counting. */
export const ROLLUP_INTERVAL_MS = 60_000;

/**
 * One user's banking data: a SQLite Durable Object addressed by `idFromName(userId)` (see
 * `ledgerFor`). Its RPC methods are whole units of work (one transaction each), never a call per row,
 * and never wait on the network: Pluggy is called by the Worker or a queue consumer between calls.
 *
 * The schema migrates in the constructor, before any call is let in: a ledger idle since an older
 * deploy catches up the moment it is next woken (hence expand/contract migrations only; docs/scale.md).
 */
export class UserLedger extends DurableObject<AppBindings> {
  readonly db: LedgerDb;

  constructor(ctx: DurableObjectState, env: AppBindings) {
    super(ctx, env);
    this.db = drizzle(ctx.storage, { schema });
    void ctx.blockConcurrencyWhile(async () => {
      await migrate(this.db, migrations);
    });
  }

  /** The user this ledger belongs to, recorded by its first write (`bind`). */
  owner(): string | null {
    return this.db.select().from(schema.ledgerMeta).where(eq(schema.ledgerMeta.key, "user_id")).get()?.value ?? null;
  }

  /** Records whose ledger this is (idempotent); every write path calls it first. */
  protected bind(userId: string): void {
    this.db.insert(schema.ledgerMeta).values({ key: "user_id", value: userId }).onConflictDoNothing().run();
  }

  // ------------------------------------------------------------------------------------------------
  // Items, accounts, transactions: reads and Pluggy sync writes (src/ledger/banking.repo.ts)
  //
  // Rows come back as stored (the Worker serializes them; category names come from the catalog). List
  // cursors arrive decoded (`decode*Cursor` in banking.inputs.ts, in the Worker, where a bad one is a
  // 400) and leave encoded, in the HTTP API's format. Every write is one transaction.

  /** The bank connections, most recently registered first; a page and the next page's cursor. */
  listItems(query: banking.ItemListQuery): banking.Page<ItemRow> {
    return banking.listItems(this.db, query);
  }

  getItem(itemId: string): ItemRow | null {
    return banking.getItem(this.db, itemId);
  }

  /** The ids of the items held here; with `createdUpTo`, only items Pluggy created by then (erasure's sweep). */
  listItemIds(options: { createdUpTo?: string | undefined } = {}): string[] {
    return banking.listItemIds(this.db, options);
  }

  /** The accounts by (item id, id), optionally of one item. */
  listAccounts(query: banking.AccountListQuery): banking.Page<AccountRow> {
    return banking.listAccounts(this.db, query);
  }

  getAccount(accountId: string): AccountRow | null {
    return banking.getAccount(this.db, accountId);
  }

  /** The item's local accounts keyed by Pluggy account id. */
  localAccounts(itemId: string): LocalAccounts {
    return banking.localAccountsOf(this.db, itemId);
  }

  /** The transactions, newest date first, with every filter of the API and the rows' category-sync jobs. */
  listTransactions(query: banking.TransactionListQuery): banking.TransactionPage {
    return banking.listTransactions(this.db, query);
  }

  /** One transaction and its category-sync job, or null. */
  getTransaction(transactionId: string): { row: TransactionRow; job: CategorySyncJobRow | null } | null {
    return banking.getTransaction(this.db, transactionId);
  }

  /** Which of `pluggyIds` the item holds, each with its account's Pluggy id. */
  heldTransactionAccounts(itemId: string, pluggyIds: readonly string[]): Record<string, string> {
    return banking.heldTransactionAccounts(this.db, itemId, pluggyIds);
  }

  /**
   * Creates or refreshes a Pluggy item of `userId` (whose ledger this must be: another user's id is
   * refused, so a bug upstream can never mix two users' data). `created`: this call inserted the item.
   */
  applyItem(userId: string, item: ItemInput, now: string = nowIso()): { created: boolean; updated: boolean } {
    return this.ctx.storage.transactionSync(() => {
      const owner = this.owner();
      if (owner !== null && owner !== userId) throw new Error("this ledger belongs to another user");
      this.bind(userId);
      return banking.applyItem(this.db, item, now);
    });
  }

  /** Upserts the item's accounts (optionally dropping the ones not listed); returns them keyed by Pluggy id. */
  applyAccounts(itemId: string, accounts: readonly AccountInput[], options: banking.ApplyAccountsOptions & { now?: string } = {}): banking.ApplyAccountsResult {
    return this.ctx.storage.transactionSync(() => banking.applyAccounts(this.db, itemId, accounts, options.now ?? nowIso(), options));
  }

  /** Upserts one page of the item's transactions (categories already resolved by the Worker). */
  applyTransactionsPage(itemId: string, accountsByPluggyId: LocalAccounts, rows: readonly TransactionInput[], now: string = nowIso()): TransactionPageCounts {
    return this.ctx.storage.transactionSync(() => banking.applyTransactionsPage(this.db, itemId, accountsByPluggyId, rows, now));
  }

  /** Moves the item's watermark forward to `candidate` (never back); returns the stored one. */
  advanceWatermark(itemId: string, candidate: string): string | null {
    return banking.advanceWatermark(this.db, itemId, candidate);
  }

  /** A reconciliation succeeded: `last_reconciled_at = at` and the watermark forward to `maxCreatedAt`. */
  markReconciled(itemId: string, at: string, maxCreatedAt: string | null): string | null {
    return banking.markReconciled(this.db, itemId, at, maxCreatedAt);
  }

  /** Reconciliation: removes the account's rows in the window Pluggy no longer returns; returns how many. */
  removeVanished(scope: banking.VanishedScope): number {
    return this.ctx.storage.transactionSync(() => banking.removeVanished(this.db, scope));
  }

  /** Removes transactions by Pluggy id (only the item's, when given) with their jobs; returns how many. */
  deleteTransactionsByPluggyIds(pluggyIds: readonly string[], scope: { itemId?: string | undefined } = {}): number {
    return this.ctx.storage.transactionSync(() => banking.deleteTransactionsByPluggyIds(this.db, pluggyIds, scope));
  }

  /** Removes an item with its accounts, transactions and their category-sync jobs. */
  deleteItemData(itemId: string): banking.ItemRemoval {
    return this.ctx.storage.transactionSync(() => banking.deleteItemData(this.db, itemId));
  }

  /** A catalog category was deleted: its transactions here become uncategorized; returns how many. */
  clearCategory(categoryId: string, now: string = nowIso()): number {
    return this.ctx.storage.transactionSync(() => banking.clearCategory(this.db, categoryId, now));
  }

  /** Row counts per banking table. */
  footprint(): banking.Footprint {
    return banking.footprint(this.db);
  }

  /**
   * Erasure: deletes everything this ledger stores (its alarm too) and returns the counts it held. The
   * schema is applied again before any other call is let in, so the ledger answers as a new, empty one.
   */
  async eraseAll(): Promise<banking.Footprint> {
    const held = banking.footprint(this.db);
    // Last counts and the pending figure (now none) go to the catalog first; best effort, never blocks erasure.
    await this.rollUp(new Date(), 0);
    await this.ctx.blockConcurrencyWhile(async () => {
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      await migrate(this.db, migrations);
    });
    return held;
  }

  /**
   * Erasure's sweep: when the ledger holds no banking rows any more, erases it whole (its owner record,
   * counters and alarm), as `eraseAll`; decided and done with no other call let in between, so a
   * connection stored meanwhile is never lost. Returns whether it erased.
   */
  async eraseIfEmpty(): Promise<boolean> {
    let erased = false;
    await this.ctx.blockConcurrencyWhile(async () => {
      if (Object.values(banking.footprint(this.db)).some((n) => n > 0)) return;
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      await migrate(this.db, migrations);
      erased = true;
    });
    return erased;
  }

  // (end of items, accounts, transactions)

  // ------------------------------------------------------------------------------------------------
  // Category-sync outbox and the ledger's alarm (src/ledger/outbox.repo.ts)

  /**
   * A user's category choice (see `changeCategory` in outbox.repo.ts): the transaction and its outbox job
   * in one transaction. `queued` carries the message for the Worker to send (with its coalescing delay);
   * if that send is lost, this ledger's alarm re-queues the job at `dueAt`.
   */
  async changeCategory(input: ChangeCategoryInput): Promise<ChangeCategoryResult> {
    const result = this.ctx.storage.transactionSync(() => {
      const owner = this.owner();
      if (owner === null) this.bind(input.userId);
      else if (owner !== input.userId) throw new Error("this ledger belongs to another user");
      return outbox.changeCategory(this.db, input);
    });
    if (result.outcome === "queued") await this.armOutboxAlarm();
    await this.armRollup(input.now);
    return result;
  }

  /** The job to send at `version`, or why not (stale, missing, closed as failed here). */
  async jobForSync(input: { jobId: string; version: number; transactionId?: string; now?: Date }): Promise<JobForSyncResult> {
    const now = input.now ?? new Date();
    const result = this.ctx.storage.transactionSync(() => outbox.jobForSync(this.db, this.ownerId(), { ...input, now }));
    await this.armRollup(now);
    return result;
  }

  /** Pluggy accepted the job at `version`; a re-opened newer job (an older call landed late) is re-queued here. */
  async markSynced(input: Omit<MarkSyncedInput, "now"> & { now?: Date }): Promise<MarkSyncedResult> {
    const now = input.now ?? new Date();
    const result = this.ctx.storage.transactionSync(() => outbox.markSynced(this.db, this.ownerId(), { ...input, now }));
    if (result.outcome === "superseded" && result.resync) {
      await this.requeue([result.resync], now);
      await this.armOutboxAlarm();
    }
    await this.armRollup(now);
    return result;
  }

  /** A failed sync at `version`: `retryable` keeps it pending (the queue retries), `final` makes it failed. */
  async markFailed(input: Omit<MarkFailedInput, "now"> & { now?: Date }): Promise<TransitionResult> {
    const now = input.now ?? new Date();
    const result = this.ctx.storage.transactionSync(() => outbox.markFailed(this.db, this.ownerId(), { ...input, now }));
    await this.armRollup(now);
    return result;
  }

  /** Retries exhausted: dead at `version` if still pending. */
  async markDead(input: { jobId: string; version: number; now?: Date }): Promise<TransitionResult> {
    const now = input.now ?? new Date();
    const result = this.ctx.storage.transactionSync(() => outbox.markDead(this.db, this.ownerId(), { ...input, now }));
    await this.armRollup(now);
    return result;
  }

  /** Operator retry of one job, whatever its state: pending again and queued now. */
  async retry(input: { jobId: string; now?: Date }): Promise<{ outcome: "not_found" } | { outcome: "queued"; queued: number; attention: AttentionChange[] }> {
    const now = input.now ?? new Date();
    const reopened = this.ctx.storage.transactionSync(() => outbox.retryJob(this.db, this.ownerId(), { jobId: input.jobId, now }));
    if (!reopened) return { outcome: "not_found" };
    await this.requeue(reopened.messages, now);
    await this.armOutboxAlarm();
    await this.armRollup(now);
    return { outcome: "queued", queued: reopened.messages.length, attention: reopened.attention };
  }

  /** Operator redrive: up to `limit` dead (or failed) jobs, oldest first, pending again and queued now. */
  async redrive(input: { status: "dead" | "failed"; limit: number; now?: Date }): Promise<{ queued: number; attention: AttentionChange[] }> {
    const now = input.now ?? new Date();
    const reopened = this.ctx.storage.transactionSync(() => outbox.redriveJobs(this.db, this.ownerId(), { ...input, now }));
    if (reopened.messages.length > 0) {
      await this.requeue(reopened.messages, now);
      await this.armOutboxAlarm();
      await this.armRollup(now);
    }
    return { queued: reopened.messages.length, attention: reopened.attention };
  }

  /** Jobs, most recently changed first; the Worker validates `cursor` first (`parseJobCursor`). */
  listJobs(filters: { status?: CategorySyncStatus; limit: number; cursor?: string }): { data: CategorySyncJobDto[]; nextCursor: string | null } {
    return outbox.listJobs(this.db, filters);
  }

  getJob(input: { jobId: string }): CategorySyncJobDto | null {
    return outbox.getJob(this.db, input.jobId);
  }

  /** The counters since the last drain, then none (for the roll-up into the catalog). */
  drainCounters(): LedgerCounterRow[] {
    return this.ctx.storage.transactionSync(() => outbox.drainCounters(this.db));
  }

  /**
   * The cron sweeper, per ledger: re-queues pending jobs whose due time passed (bounded batches, each
   * claimed by moving its due time first), puts jobs pending for too long into the catalog's attention
   * index, and re-arms for the next due moment. It also rolls the counters up into the catalog when
   * due (at most once a minute). With nothing pending and nothing counted it leaves no alarm. A failed
   * send or catalog write loses nothing: the jobs stay pending and the alarm comes back with backoff.
   */
  override async alarm(): Promise<void> {
    const now = new Date();
    const next = await this.outboxAlarm(now);
    await this.rollUpIfDue(now);
    const rollup = this.rollupDueAt(now);
    const at = next === null ? rollup : rollup === null ? next : Math.min(next, rollup);
    if (at !== null) await this.ctx.storage.setAlarm(at);
  }

  private ownerId(): string {
    return this.owner() ?? "";
  }

  /** Moves the alarm earlier if a pending job needs it sooner (never later: the alarm re-arms itself). */
  private async armOutboxAlarm(): Promise<void> {
    const next = outbox.nextOutboxAlarm(this.db);
    if (next === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || next < current) await this.ctx.storage.setAlarm(next);
  }

  /** Sends re-queue messages now (≤ 100 per batch); returns the job ids whose send failed. */
  private async send(messages: readonly CategorySyncMessage[]): Promise<{ sent: number; failed: string[] }> {
    const out = { sent: 0, failed: [] as string[] };
    for (let i = 0; i < messages.length; i += 100) {
      const part = messages.slice(i, i + 100);
      try {
        await this.env.CATEGORY_SYNC_QUEUE.sendBatch(part.map((body) => ({ body })));
        out.sent += part.length;
      } catch (error) {
        out.failed.push(...part.map((m) => m.jobId));
        ledgerLogger.error("category sync queue send failed; the ledger's alarm will re-queue", {
          jobs: part.map((m) => m.jobId).slice(0, 10),
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return out;
  }

  /** Sends and counts re-queued jobs (a failed send leaves them pending for the alarm). */
  private async requeue(messages: readonly CategorySyncMessage[], now: Date): Promise<void> {
    const { sent } = await this.send(messages);
    if (sent > 0) this.ctx.storage.transactionSync(() => outbox.countOutbox(this.db, outbox.OUTBOX_COUNTERS.requeued, sent, now));
  }

  /** The outbox's part of the alarm; returns when it next needs the alarm (ms), or null. */
  private async outboxAlarm(now: Date): Promise<number | null> {
    const userId = this.owner();
    if (userId === null) return null;
    let failed = false;
    const nextDue = new Date(now.getTime() + SWEEP_AFTER_MS).toISOString();
    let requeued = 0;
    for (let round = 0; round < SWEEP_MAX_BATCHES && !failed; round++) {
      const claimed = this.ctx.storage.transactionSync(() => outbox.claimDueJobs(this.db, { now, limit: SWEEP_BATCH_SIZE, nextDue }));
      if (claimed.length === 0) break;
      const result = await this.send(claimed.map((job) => outbox.messageFor(userId, job)));
      requeued += result.sent;
      if (result.failed.length > 0) {
        failed = true;
        const dueAt = new Date(now.getTime() + this.alarmBackoffMs()).toISOString();
        this.ctx.storage.transactionSync(() => outbox.releaseClaim(this.db, { ids: result.failed, claimedDue: nextDue, dueAt }));
      }
      if (claimed.length < SWEEP_BATCH_SIZE) break;
    }
    if (requeued > 0) {
      this.ctx.storage.transactionSync(() => outbox.countOutbox(this.db, outbox.OUTBOX_COUNTERS.requeued, requeued, now));
      ledgerLogger.info("re-queued pending category syncs", { requeued });
    }
    if (!(await this.publishOverduePending(userId, now))) failed = true;

    let next = outbox.nextOutboxAlarm(this.db);
    if (failed) {
      // Not sooner than the backoff: what failed is due again at once, and would loop.
      const retryAt = now.getTime() + this.alarmBackoffMs();
      next = next === null ? retryAt : Math.max(next, retryAt);
      this.recordAlarmFailure(true);
    } else {
      this.recordAlarmFailure(false);
    }
    return next;
  }

  /**
   * Puts jobs pending for longer than ATTENTION_PENDING_AFTER_MS into the catalog's attention index
   * (this alarm has no caller to hand the change to). False when the catalog could not be written:
   * the jobs stay unflagged and the next alarm tries again.
   */
  private async publishOverduePending(userId: string, now: Date): Promise<boolean> {
    const cutoff = new Date(now.getTime() - outbox.ATTENTION_PENDING_AFTER_MS).toISOString();
    const overdue = outbox.overduePending(this.db, { cutoff, limit: 100 });
    if (overdue.length === 0) return true;
    const catalog = createDb(this.env.DB);
    try {
      await applyAttention(
        catalog,
        overdue.map((job) => ({ kind: "category_sync" as const, id: job.id, userId, status: "pending", since: job.pendingSince })),
        now,
      );
    } catch (error) {
      ledgerLogger.error("could not write overdue category syncs to the attention index; the alarm will retry", {
        jobs: overdue.length,
        error: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
    // A job that moved while the catalog was written (synced, failed, re-opened) must not stay listed.
    const { moved } = this.ctx.storage.transactionSync(() => outbox.flagOverduePending(this.db, overdue));
    if (moved.length > 0) {
      try {
        await applyAttention(catalog, moved.map((id) => ({ kind: "category_sync" as const, remove: id })), now);
      } catch (error) {
        ledgerLogger.error("could not take moved category syncs out of the attention index", { jobs: moved.slice(0, 10), error: error instanceof Error ? error.message : String(error) });
        return false;
      }
    }
    return true;
  }

  /** Backoff of an alarm whose send or catalog write failed: 5 s, doubling, at most SWEEP_AFTER_MS. */
  private alarmBackoffMs(): number {
    const failures = Number(this.db.select().from(schema.ledgerMeta).where(eq(schema.ledgerMeta.key, ALARM_FAILURES_KEY)).get()?.value ?? 0);
    return Math.min(SWEEP_AFTER_MS, ALARM_RETRY_BASE_MS * 2 ** Math.min(failures, 10));
  }

  private recordAlarmFailure(failed: boolean): void {
    if (!failed) {
      this.db.delete(schema.ledgerMeta).where(eq(schema.ledgerMeta.key, ALARM_FAILURES_KEY)).run();
      return;
    }
    this.db
      .insert(schema.ledgerMeta)
      .values({ key: ALARM_FAILURES_KEY, value: "1" })
      .onConflictDoUpdate({ target: schema.ledgerMeta.key, set: { value: sql`cast(${schema.ledgerMeta.value} as integer) + 1` } })
      .run();
  }

  /** Jobs published to the catalog's attention index, optionally only on `itemIds`' transactions (erasure). */
  attentionJobIds(options: { itemIds?: readonly string[] } = {}): string[] {
    return outbox.attentionJobIds(this.db, options);
  }

  /** Several jobs by id (those this ledger holds), for the admin list built from the attention index. */
  getJobs(input: { jobIds: readonly string[] }): CategorySyncJobDto[] {
    return outbox.getJobs(this.db, input.jobIds);
  }

  /**
   * When the counters next go to the catalog (ms), or null when there is nothing to roll up. The first
   * counter after a roll-up sets it a minute ahead, so a ledger writes the catalog at most once a
   * minute and no count waits longer than that.
   */
  private rollupDueAt(now: Date): number | null {
    const due = this.metaNumber(ROLLUP_DUE_KEY);
    if (due !== null) return due;
    if (!outbox.hasCounters(this.db)) return null;
    const at = now.getTime() + ROLLUP_INTERVAL_MS;
    this.setMeta(ROLLUP_DUE_KEY, at);
    return at;
  }

  /** After a call that counted something: the alarm is armed no later than the roll-up's due time. */
  private async armRollup(now: Date): Promise<void> {
    const due = this.rollupDueAt(now);
    if (due === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || due < current) await this.ctx.storage.setAlarm(due);
  }

  /**
   * The alarm's roll-up, when due. Also when only the number of pending jobs changed (jobs removed with
   * their transactions count nothing, yet the catalog's figure must follow), a minute after the last.
   */
  private async rollUpIfDue(now: Date): Promise<void> {
    let due = this.metaNumber(ROLLUP_DUE_KEY);
    const pending = outbox.countPending(this.db);
    if (due === null) {
      if (pending === (this.metaNumber(PENDING_REPORTED_KEY) ?? 0)) return;
      due = (this.metaNumber(ROLLED_UP_AT_KEY) ?? 0) + ROLLUP_INTERVAL_MS;
      if (due > now.getTime()) this.setMeta(ROLLUP_DUE_KEY, due);
    }
    if (due > now.getTime()) return;
    await this.rollUp(now, pending);
  }

  /**
   * Drains the counters into the catalog's `metric_counters` in one D1 batch (each in its own hourly
   * bucket), with the change in this ledger's number of pending jobs (the `PENDING_GAUGE` the metrics
   * sum). If the catalog cannot be written the counts are put back and tried again a minute later.
   */
  private async rollUp(now: Date, pending: number): Promise<boolean> {
    const counters = this.ctx.storage.transactionSync(() => outbox.drainCounters(this.db));
    const delta = pending - (this.metaNumber(PENDING_REPORTED_KEY) ?? 0);
    const catalog = createDb(this.env.DB);
    const [first, ...rest] = [
      ...counters.map((row) => counterIncrement({ catalog }, row.name, row.count, new Date(row.bucket))),
      ...(delta !== 0 ? [counterIncrement({ catalog }, outbox.PENDING_GAUGE, delta, now)] : []),
    ];
    try {
      if (first) await catalog.batch([first, ...rest]);
    } catch (error) {
      this.ctx.storage.transactionSync(() => {
        for (const row of counters) outbox.countOutbox(this.db, row.name, row.count, new Date(row.bucket));
        this.setMeta(ROLLUP_DUE_KEY, now.getTime() + ROLLUP_INTERVAL_MS);
      });
      ledgerLogger.error("could not roll the ledger's counters up into the catalog; retrying in a minute", {
        counters: counters.length,
        error: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
    this.ctx.storage.transactionSync(() => {
      this.setMeta(PENDING_REPORTED_KEY, pending);
      this.setMeta(ROLLED_UP_AT_KEY, now.getTime());
      this.db.delete(schema.ledgerMeta).where(eq(schema.ledgerMeta.key, ROLLUP_DUE_KEY)).run();
    });
    return true;
  }

  private metaNumber(key: string): number | null {
    const value = this.db.select().from(schema.ledgerMeta).where(eq(schema.ledgerMeta.key, key)).get()?.value;
    return value === undefined ? null : Number(value);
  }

  private setMeta(key: string, value: number): void {
    this.db
      .insert(schema.ledgerMeta)
      .values({ key, value: String(value) })
      .onConflictDoUpdate({ target: schema.ledgerMeta.key, set: { value: String(value) } })
      .run();
  }

  // (end of category-sync outbox)

  // ------------------------------------------------------------------------------------------------
  // Whole-ledger operations

  /** Bytes on disk (SQLite pages), for the capacity model and the bench. */
  databaseSize(): number {
    return this.ctx.storage.sql.databaseSize;
  }
}

export { ledgerFor } from "./ledger-stub.ts";
