import { env, runInDurableObject } from "cloudflare:test";
import { ledgerFor, type LedgerDb, type UserLedger } from "../../src/ledger/user-ledger.ts";

/** The user's ledger stub, as the Worker reaches it. */
export const ledgerOf = (userId: string) => ledgerFor(env, userId);

/**
 * Runs `fn` inside the user's ledger with its drizzle database: fixtures write and assertions read the
 * ledger's own SQLite directly, as the catalog tests read D1.
 */
export function inLedger<T>(userId: string, fn: (db: LedgerDb, ledger: UserLedger) => T | Promise<T>): Promise<T> {
  return runInDurableObject(ledgerOf(userId), async (instance: UserLedger) => fn(instance.db, instance));
}
