import { DurableObject } from "cloudflare:workers";
import { drizzle, type DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import { eq } from "drizzle-orm";
import type { AppBindings } from "../platform/env.ts";
import migrations from "./migrations/migrations.js";
import * as schema from "./ledger.schema.ts";

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
