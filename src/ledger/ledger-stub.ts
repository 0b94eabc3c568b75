import type { AppBindings } from "../platform/env.ts";
import type { UserLedger } from "./user-ledger.ts";

/**
 * The caller's ledger: one Durable Object per user, found by name, created on first use. Kept apart from
 * the class so code that only calls ledgers (services, scripts and tests on Node) does not load the
 * Durable Object runtime module.
 */
export function ledgerFor(env: Pick<AppBindings, "USER_LEDGER">, userId: string): DurableObjectStub<UserLedger> {
  return env.USER_LEDGER.get(env.USER_LEDGER.idFromName(userId));
}
