import { describe, expect, it, vi } from "vitest";
import { authHeaders, uniqueUser } from "../helpers/auth.ts";
import { body, call } from "../helpers/http.ts";
import { exactPath, sim } from "../helpers/simulator.ts";
import { PLUGGY, categorySyncQueueSettled, jobOf, mappedCategory, pluggyBackedTransaction, pluggyPatches, simCategoryOf } from "./support.ts";

/*
 * End to end: PATCH → D1 outbox → the real category-sync queue (and its DLQ) → consumer → the Pluggy
 * simulator. Queue delays are real time; vitest.config.ts keeps them at about a second.
 */

async function user() {
  const userId = uniqueUser();
  const headers = await authHeaders(userId);
  const fixture = await pluggyBackedTransaction(userId);
  return { userId, headers, ...fixture };
}

const patch = (headers: Record<string, string>, transactionId: string, category: string | null) =>
  call(`/api/banking/transactions/${transactionId}/`, { method: "PATCH", headers, json: { category } });

async function categorySync(headers: Record<string, string>, transactionId: string) {
  const res = await call(`/api/banking/transactions/${transactionId}/`, { headers });
  return (await body(res)).data.category_sync as { status: string; reason_code: string | null; reason: string | null; attempts: number };
}

const admin = () => authHeaders(uniqueUser("admin"), { admin: true });

describe("category sync end to end", () => {
  it("PATCH a mapped category → the transaction shows synced and Pluggy holds the category", async () => {
    const { headers, transaction, item, pluggyTransactionId } = await user();
    const category = await mappedCategory(PLUGGY.restaurants);
    const res = await patch(headers, transaction.id, category.id);
    expect((await body(res)).data.category_sync.status).toBe("pending");
    await vi.waitUntil(async () => (await categorySync(headers, transaction.id)).status === "synced", { timeout: 15_000, interval: 200 });
    expect(await categorySync(headers, transaction.id)).toMatchObject({ status: "synced", reason: null, attempts: 1 });
    expect(await simCategoryOf(item.id, pluggyTransactionId)).toBe(PLUGGY.restaurants);
    const read = await body(await call(`/api/banking/transactions/${transaction.id}/`, { headers }));
    expect(read.data.pluggy_category).toMatchObject({ id: PLUGGY.restaurants });
  });

  it("with injected 503s: pending with attempts rising, then synced", async () => {
    const { headers, transaction, item, pluggyTransactionId } = await user();
    await sim.fault({ path: exactPath(`/transactions/${pluggyTransactionId}`), method: "PATCH", status: 503, times: 2 });
    const category = await mappedCategory(PLUGGY.ted);
    await patch(headers, transaction.id, category.id);
    const seen: Array<{ status: string; attempts: number }> = [];
    await vi.waitUntil(
      async () => {
        const state = await categorySync(headers, transaction.id);
        seen.push({ status: state.status, attempts: state.attempts });
        return state.status === "synced";
      },
      { timeout: 20_000, interval: 100 },
    );
    const pendingAttempts = seen.filter((s) => s.status === "pending").map((s) => s.attempts);
    expect(pendingAttempts).toContain(1);
    expect(pendingAttempts).toEqual([...pendingAttempts].sort((a, b) => a - b));
    expect(seen.at(-1)).toEqual({ status: "synced", attempts: 3 });
    expect(await simCategoryOf(item.id, pluggyTransactionId)).toBe(PLUGGY.ted);
    expect(await pluggyPatches(pluggyTransactionId)).toHaveLength(3);
  });

  it("with an injected 429: retried no sooner than RateLimit-Reset, then synced", async () => {
    const { headers, transaction, pluggyTransactionId } = await user();
    await sim.fault({ path: exactPath(`/transactions/${pluggyTransactionId}`), method: "PATCH", status: 429, rateLimitReset: 3 });
    const category = await mappedCategory(PLUGGY.pix);
    await patch(headers, transaction.id, category.id);
    await vi.waitUntil(async () => (await categorySync(headers, transaction.id)).status === "synced", { timeout: 20_000, interval: 200 });
    const calls = await pluggyPatches(pluggyTransactionId);
    expect(calls).toHaveLength(2);
    const [first, second] = calls;
    expect(Date.parse(second?.at ?? "") - Date.parse(first?.at ?? "")).toBeGreaterThanOrEqual(2900);
    expect((await jobOf(transaction))?.attempts).toBe(2);
  });

  it("with an injected 400: failed with Pluggy's reason, no retries", async () => {
    const { headers, transaction, pluggyTransactionId } = await user();
    await sim.fault({
      path: exactPath(`/transactions/${pluggyTransactionId}`),
      method: "PATCH",
      status: 400,
      codeDescription: "INVALID_CATEGORY_FOR_TRANSACTION",
      message: "Category cannot be applied to this transaction",
    });
    const category = await mappedCategory(PLUGGY.salary);
    await patch(headers, transaction.id, category.id);
    await vi.waitUntil(async () => (await categorySync(headers, transaction.id)).status === "failed", { timeout: 15_000, interval: 200 });
    const state = await categorySync(headers, transaction.id);
    // The user sees our code and sentence; Pluggy's text stays on the admin side.
    expect(state).toMatchObject({ reason_code: "rejected_by_pluggy", reason: "Pluggy did not accept this category for the transaction" });
    expect((await jobOf(transaction))?.lastError).toBe("400 INVALID_CATEGORY_FOR_TRANSACTION: Category cannot be applied to this transaction");
    expect(state.attempts).toBe(1);
    await categorySyncQueueSettled(); // any retry of the message would have been delivered by now
    expect(await pluggyPatches(pluggyTransactionId)).toHaveLength(1);
    expect(await categorySync(headers, transaction.id)).toMatchObject({ status: "failed", attempts: 1 });
  });

  it("retries exhausted → dead (via the DLQ, keeping the last error) → redrive → synced", async () => {
    const { headers, transaction, item, pluggyTransactionId } = await user();
    const faultId = await sim.fault({ path: exactPath(`/transactions/${pluggyTransactionId}`), method: "PATCH", status: 503, times: 100, message: "Pluggy is down" });
    const category = await mappedCategory(PLUGGY.groceries);
    await patch(headers, transaction.id, category.id);
    await vi.waitUntil(async () => (await categorySync(headers, transaction.id)).status === "dead", { timeout: 25_000, interval: 200 });
    const dead = await categorySync(headers, transaction.id);
    expect(dead).toMatchObject({ reason_code: "pluggy_unavailable", reason: "Pluggy could not be reached after repeated attempts" });
    expect((await jobOf(transaction))?.lastError).toBe("503: Pluggy is down");
    // vitest.config.ts: max_retries 3 → 4 deliveries.
    expect(dead.attempts).toBe(4);

    await sim.clearFault(faultId);
    const job = await jobOf(transaction);
    const adminHeaders = await admin();
    const listed = await body(await call("/api/admin/category-syncs/?status=dead&limit=200", { headers: adminHeaders }));
    expect(listed.data.find((row: { id: string }) => row.id === job?.id)).toMatchObject({
      transaction_id: transaction.id,
      pluggy_transaction_id: pluggyTransactionId,
      pluggy_category_id: PLUGGY.groceries,
      status: "dead",
      last_error: "503: Pluggy is down",
    });
    const redrive = await call("/api/admin/category-syncs/redrive/", { method: "POST", headers: adminHeaders, json: { status: "dead", limit: 1000 } });
    expect(redrive.status).toBe(202);
    expect((await body(redrive)).data.queued).toBeGreaterThanOrEqual(1);
    await vi.waitUntil(async () => (await categorySync(headers, transaction.id)).status === "synced", { timeout: 15_000, interval: 200 });
    expect(await simCategoryOf(item.id, pluggyTransactionId)).toBe(PLUGGY.groceries);
  });

  it("10 rapid changes → at most 2 Pluggy calls, and Pluggy ends holding the last choice", async () => {
    const { headers, transaction, item, pluggyTransactionId } = await user();
    const choices = [PLUGGY.pix, PLUGGY.ted, PLUGGY.restaurants, PLUGGY.food, PLUGGY.salary, PLUGGY.groceries, PLUGGY.transfers, PLUGGY.pix, PLUGGY.ted, PLUGGY.restaurants];
    const categories = [];
    for (const pluggyId of choices) categories.push(await mappedCategory(pluggyId));
    for (const category of categories) {
      const res = await patch(headers, transaction.id, category.id);
      expect(res.status).toBe(200);
    }
    await vi.waitUntil(async () => (await categorySync(headers, transaction.id)).status === "synced", { timeout: 15_000, interval: 200 });
    // Every message the ten changes queued has been delivered once the sentinel is.
    await categorySyncQueueSettled();
    const calls = await pluggyPatches(pluggyTransactionId);
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls.length).toBeLessThanOrEqual(2);
    expect(calls.at(-1)?.body).toEqual({ categoryId: PLUGGY.restaurants });
    expect(await simCategoryOf(item.id, pluggyTransactionId)).toBe(PLUGGY.restaurants);
    expect((await jobOf(transaction))?.version).toBe(10);
    console.log(`10 rapid changes → ${calls.length} Pluggy PATCH call(s)`);
  });

  it("a cleared category after a mapped one is never sent", async () => {
    const { headers, transaction, pluggyTransactionId } = await user();
    const category = await mappedCategory(PLUGGY.pix);
    await patch(headers, transaction.id, category.id);
    const res = await patch(headers, transaction.id, null);
    expect((await body(res)).data.category_sync).toMatchObject({ status: "skipped", reason: "category cleared" });
    // The first change's message has been delivered (and found stale) once the sentinel is.
    await categorySyncQueueSettled();
    expect(await pluggyPatches(pluggyTransactionId)).toHaveLength(0);
    expect((await categorySync(headers, transaction.id)).status).toBe("skipped");
  });
});
