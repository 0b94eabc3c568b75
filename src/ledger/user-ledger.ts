import { DurableObject } from "cloudflare:workers";
import { drizzle, type DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import { eq } from "drizzle-orm";
import type { AppBindings } from "../platform/env.ts";
import migrations from "./migrations/migrations.js";
import * as schema from "./ledger.schema.ts";
import type { AccountRow, CategorySyncJobRow, ItemRow, TransactionRow } from "./ledger.schema.ts";
import * as banking from "./banking.repo.ts";
import type { AccountInput, ItemInput, LocalAccounts, TransactionInput, TransactionPageCounts } from "./banking.inputs.ts";
import { nowIso } from "../platform/ids.ts";

export type LedgerDb = DrizzleSqliteDODatabase<typeof schema>;

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
    await this.ctx.blockConcurrencyWhile(async () => {
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      await migrate(this.db, migrations);
    });
    return held;
  }

  // (end of items, accounts, transactions)

  // ------------------------------------------------------------------------------------------------
  // Category-sync outbox and the ledger's alarm (src/ledger/outbox.repo.ts)

  // (end of category-sync outbox)

  // ------------------------------------------------------------------------------------------------
  // Whole-ledger operations

  /** Bytes on disk (SQLite pages), for the capacity model and the bench. */
  databaseSize(): number {
    return this.ctx.storage.sql.databaseSize;
  }
}

/** The caller's ledger: one Durable Object per user, found by name, created on first use. */
export function ledgerFor(env: Pick<AppBindings, "USER_LEDGER">, userId: string): DurableObjectStub<UserLedger> {
  return env.USER_LEDGER.get(env.USER_LEDGER.idFromName(userId));
}
