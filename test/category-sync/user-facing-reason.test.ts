import { describe, expect, it } from "vitest";
import { LOCAL_FAILURES } from "../../src/category-sync/category-sync.reasons.ts";
import { authHeaders, uniqueUser } from "../helpers/auth.ts";
import { makeCategory } from "../helpers/factories.ts";
import { body, call } from "../helpers/http.ts";
import { localTransaction, makeSyncJob } from "./support.ts";

/*
 * What the user API says about a category change that did not reach Pluggy: a stable code and a short
 * sentence of ours. Pluggy's own text (its codes, wording, whatever it echoes) stays on the admin side.
 */

const PLUGGY_TEXT = "400 INVALID_CATEGORY_FOR_TRANSACTION: Category 19050001 cannot be applied to transaction of account 8f2c (internal ref 77)";

async function jobFixture(status: "failed" | "dead", lastError: string) {
  const userId = uniqueUser();
  const transaction = await localTransaction(userId, { pluggyId: `ptx-${crypto.randomUUID()}` });
  const category = await makeCategory({ pluggyCategoryId: "19050001" });
  const job = await makeSyncJob(transaction, category.id, { status, lastError, attempts: 1 });
  return { userId, transaction, job };
}

async function userView(userId: string, transactionId: string) {
  const headers = await authHeaders(userId);
  const one = (await body(await call(`/api/banking/transactions/${transactionId}/`, { headers }))).data.category_sync;
  const listed = (await body(await call("/api/banking/transactions/", { headers }))).data.find((tx: { id: string }) => tx.id === transactionId)?.category_sync;
  return { one, listed };
}

describe("category_sync.reason on the user API", () => {
  it.each([
    ["failed", PLUGGY_TEXT, "rejected_by_pluggy", "Pluggy did not accept this category for the transaction"],
    ["dead", "503: Pluggy is down (upstream pod 3f9 timed out)", "pluggy_unavailable", "Pluggy could not be reached after repeated attempts"],
    ["failed", LOCAL_FAILURES.transactionGone, "transaction_gone", "transaction no longer exists"],
    ["failed", LOCAL_FAILURES.mappingGone, "no_pluggy_mapping", "category has no Pluggy mapping"],
    ["failed", LOCAL_FAILURES.superseded, "superseded", "a newer change replaced this one"],
  ] as const)("a %s job whose last error is %j → %s, in our words", async (status, lastError, code, sentence) => {
    const { userId, transaction } = await jobFixture(status, lastError);
    const { one, listed } = await userView(userId, transaction.id);
    expect(one).toMatchObject({ status, reason_code: code, reason: sentence });
    expect(listed).toEqual(one);
  });

  it("never shows Pluggy's text to the user; the admin API keeps it whole", async () => {
    const { userId, transaction, job } = await jobFixture("failed", PLUGGY_TEXT);
    const { one } = await userView(userId, transaction.id);
    expect(JSON.stringify(one)).not.toMatch(/INVALID_CATEGORY|internal ref|19050001/);
    const admin = await authHeaders(uniqueUser("ops"), { admin: true });
    const rows = (await body(await call("/api/admin/category-syncs/?status=failed&limit=200", { headers: admin }))).data as Array<{ id: string; last_error: string }>;
    expect(rows.find((row) => row.id === job.id)?.last_error).toBe(PLUGGY_TEXT);
  });

  it("a skipped change carries a code too; pending and synced carry none", async () => {
    const userId = uniqueUser();
    const headers = await authHeaders(userId);
    const transaction = await localTransaction(userId, { pluggyId: null });
    const category = await makeCategory({ pluggyCategoryId: "19050001" });
    const patched = await body(await call(`/api/banking/transactions/${transaction.id}/`, { method: "PATCH", headers, json: { category: category.id } }));
    expect(patched.data.category_sync).toMatchObject({ status: "skipped", reason_code: "no_pluggy_id", reason: "transaction has no Pluggy id" });

    const pending = await jobFixture("failed", PLUGGY_TEXT);
    await makeSyncJob(await localTransaction(pending.userId, { pluggyId: "ptx-pending" }), (await makeCategory({ pluggyCategoryId: "19050001" })).id, { status: "pending" });
    const rows = (await body(await call("/api/banking/transactions/", { headers: await authHeaders(pending.userId) }))).data as Array<{ category_sync: { status: string } | null }>;
    const pendingSync = rows.map((row) => row.category_sync).find((sync) => sync?.status === "pending");
    expect(pendingSync).toMatchObject({ reason_code: null, reason: null });
  });
});
