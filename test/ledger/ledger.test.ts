import { describe, expect, it } from "vitest";
import { env, listDurableObjectIds } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { inLedger, ledgerOf } from "../helpers/ledger.ts";

describe("UserLedger storage", () => {
  it("migrates itself on first wake: the banking tables exist in an empty ledger", async () => {
    const userId = crypto.randomUUID();
    const tables = await inLedger(userId, (db) =>
      db.all<{ name: string }>(sql`select name from sqlite_master where type = 'table' and name not like '\\_%' escape '\\' and name not like 'sqlite%' order by name`),
    );
    expect(tables.map((t) => t.name)).toEqual(["accounts", "category_sync_jobs", "items", "ledger_counters", "ledger_meta", "transactions"]);
  });

  it("one ledger per user: the same name reaches the same object, another user another one", async () => {
    const a = crypto.randomUUID();
    const b = crypto.randomUUID();
    expect(ledgerOf(a).id.equals(ledgerOf(a).id)).toBe(true);
    expect(ledgerOf(a).id.equals(ledgerOf(b).id)).toBe(false);
    await ledgerOf(a).databaseSize();
    const ids = await listDurableObjectIds(env.USER_LEDGER);
    expect(ids.some((id) => id.equals(ledgerOf(a).id))).toBe(true);
  });

  it("reports its size in bytes for the capacity model", async () => {
    const size = await ledgerOf(crypto.randomUUID()).databaseSize();
    expect(size).toBeGreaterThan(0);
  });
});
