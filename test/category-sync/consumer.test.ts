import { describe, expect, it, vi } from "vitest";
import { eq } from "drizzle-orm";
import { categoryMappings } from "../../src/db/schema.ts";
import { categorySyncJobs, transactions } from "../../src/ledger/ledger.schema.ts";
import { inLedger } from "../helpers/ledger.ts";
import { exactPath, sim } from "../helpers/simulator.ts";
import { uniqueUser } from "../helpers/auth.ts";
import {
  PLUGGY,
  SYNC_DLQ,
  attentionOf,
  db,
  deliver,
  localTransaction,
  makeSyncJob,
  mappedCategory,
  messageOf,
  pluggyBackedTransaction,
  pluggyPatches,
  readJob,
  readTransaction,
  simCategoryOf,
} from "./support.ts";

/*
 * The category-sync consumer and its dead-letter handler, one message at a time through the Worker's
 * real `queue` entry (createMessageBatch + getQueueResult), against the Pluggy simulator.
 */

async function setup(pluggyCategoryId: string = PLUGGY.pix, jobOverrides: Parameters<typeof makeSyncJob>[2] = {}) {
  const userId = uniqueUser();
  const fixture = await pluggyBackedTransaction(userId);
  const category = await mappedCategory(pluggyCategoryId);
  const job = await makeSyncJob(fixture.transaction, category.id, jobOverrides);
  return { ...fixture, category, job };
}

describe("category.sync consumer", () => {
  it("syncs the mapped category to Pluggy, marks the job synced and acks", async () => {
    const { job, item, pluggyTransactionId, transaction } = await setup(PLUGGY.ted);
    const { id, result } = await deliver(messageOf(job));
    expect(result.explicitAcks).toEqual([id]);
    expect(result.retryMessages).toEqual([]);
    const after = await readJob(job);
    expect(after).toMatchObject({ status: "synced", attempts: 1, lastError: null, pluggyCategoryId: PLUGGY.ted });
    expect(after.syncedAt).not.toBeNull();
    expect(await simCategoryOf(item.id, pluggyTransactionId)).toBe(PLUGGY.ted);
    const calls = await pluggyPatches(pluggyTransactionId);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.body).toEqual({ categoryId: PLUGGY.ted });
    // What Pluggy now says is recorded on the transaction.
    expect((await readTransaction(transaction)).pluggyCategoryId).toBe(PLUGGY.ted);
  });

  it("maps the category at send time: a mapping changed after the PATCH is what Pluggy gets", async () => {
    const { job, category, item, pluggyTransactionId } = await setup(PLUGGY.pix);
    await db().update(categoryMappings).set({ pluggyCategoryId: PLUGGY.restaurants }).where(eq(categoryMappings.categoryId, category.id));
    await deliver(messageOf(job));
    expect(await simCategoryOf(item.id, pluggyTransactionId)).toBe(PLUGGY.restaurants);
    expect((await readJob(job)).pluggyCategoryId).toBe(PLUGGY.restaurants);
  });

  it("acks a stale version without calling Pluggy", async () => {
    const { job, pluggyTransactionId } = await setup(PLUGGY.pix, { version: 3 });
    const { id, result } = await deliver(messageOf(job, 2));
    expect(result.explicitAcks).toEqual([id]);
    expect(await pluggyPatches(pluggyTransactionId)).toHaveLength(0);
    expect(await readJob(job)).toMatchObject({ status: "pending", attempts: 0, version: 3 });
  });

  it.each(["synced", "failed", "dead"] as const)("acks without calling Pluggy when the job is already %s", async (status) => {
    const { job, pluggyTransactionId } = await setup(PLUGGY.pix, { status });
    const { id, result } = await deliver(messageOf(job));
    expect(result.explicitAcks).toEqual([id]);
    expect(await pluggyPatches(pluggyTransactionId)).toHaveLength(0);
    expect((await readJob(job)).status).toBe(status);
  });

  it("acks a message whose job no longer exists, and drops a malformed body", async () => {
    const missing = await deliver({ kind: "category.sync", jobId: crypto.randomUUID(), transactionId: crypto.randomUUID(), version: 1, userId: uniqueUser() });
    expect(missing.result.explicitAcks).toEqual([missing.id]);
    const malformed = await deliver({ kind: "category.sync", jobId: "x", version: "one" });
    expect(malformed.result.explicitAcks).toEqual([malformed.id]);
    // A message without its user cannot reach a ledger: malformed too, dropped without a Pluggy call.
    const { job, pluggyTransactionId } = await setup();
    const { userId: _userId, ...withoutUser } = messageOf(job);
    const ownerless = await deliver(withoutUser);
    expect(ownerless.result.explicitAcks).toEqual([ownerless.id]);
    expect(await pluggyPatches(pluggyTransactionId)).toHaveLength(0);
    expect(await readJob(job)).toMatchObject({ status: "pending", attempts: 0 });
  });

  it("marks the job failed, without calling Pluggy, when the category lost its mapping", async () => {
    const { job, category, pluggyTransactionId } = await setup();
    await db().delete(categoryMappings).where(eq(categoryMappings.categoryId, category.id));
    const { id, result } = await deliver(messageOf(job));
    expect(result.explicitAcks).toEqual([id]);
    expect(await readJob(job)).toMatchObject({ status: "failed", lastError: "category has no Pluggy mapping", attempts: 0 });
    expect(await pluggyPatches(pluggyTransactionId)).toHaveLength(0);
  });

  describe.each([
    { status: 503, codeDescription: undefined },
    { status: 500, codeDescription: undefined },
    { status: 502, codeDescription: undefined },
    { status: 408, codeDescription: undefined },
    { status: 409, codeDescription: "ITEM_IS_ALREADY_UPDATING" },
  ])("transient Pluggy failure $status", ({ status, codeDescription }) => {
    it("records the attempt and asks the broker for a retry with backoff", async () => {
      const { job, pluggyTransactionId } = await setup();
      await sim.fault({ path: exactPath(`/transactions/${pluggyTransactionId}`), method: "PATCH", status, ...(codeDescription ? { codeDescription } : {}) });
      const { id, result, retryDelays } = await deliver(messageOf(job), { attempts: 2 });
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryMessages).toHaveLength(1);
      expect(result.retryMessages[0]?.msgId).toBe(id);
      // Tests run with CATEGORY_SYNC_RETRY_BASE/CAP_SECONDS = 1 (vitest.config.ts).
      expect(retryDelays).toEqual([1]);
      const after = await readJob(job);
      expect(after.status).toBe("pending");
      expect(after.attempts).toBe(1);
      expect(after.lastError).toMatch(new RegExp(`^${status}`));
      // The ledger's alarm stays away while the queue retries.
      expect(Date.parse(after.dueAt)).toBeGreaterThan(Date.now() + 5 * 60_000);
    });
  });

  it("waits at least Pluggy's RateLimit-Reset on a 429", async () => {
    const { job, pluggyTransactionId } = await setup();
    await sim.fault({ path: exactPath(`/transactions/${pluggyTransactionId}`), method: "PATCH", status: 429, rateLimitReset: 37 });
    const { result, retryDelays } = await deliver(messageOf(job));
    expect(result.retryMessages).toHaveLength(1);
    expect(retryDelays).toEqual([37]);
    expect(await readJob(job)).toMatchObject({ status: "pending", attempts: 1 });
    expect((await readJob(job)).lastError).toMatch(/^429/);
  });

  it("counts attempts across retries and clears the error once synced", async () => {
    const { job } = await setup();
    await sim.fault({ path: exactPath(`/transactions/${job.pluggyTransactionId}`), method: "PATCH", status: 503, times: 2 });
    await deliver(messageOf(job), { attempts: 1 });
    await deliver(messageOf(job), { attempts: 2 });
    expect(await readJob(job)).toMatchObject({ status: "pending", attempts: 2 });
    const { result } = await deliver(messageOf(job), { attempts: 3 });
    expect(result.retryMessages).toEqual([]);
    expect(await readJob(job)).toMatchObject({ status: "synced", attempts: 3, lastError: null });
  });

  describe.each([
    { status: 400, codeDescription: "INVALID_PARAMETERS", message: "categoryId is not valid for this transaction" },
    { status: 403, codeDescription: "FORBIDDEN", message: "not allowed" },
    { status: 404, codeDescription: "TRANSACTION_NOT_FOUND", message: "Transaction not found" },
    { status: 422, codeDescription: undefined, message: "Unprocessable" },
  ])("permanent Pluggy failure $status", ({ status, codeDescription, message }) => {
    it("marks the job failed with Pluggy's reason and acks", async () => {
      const { job, pluggyTransactionId } = await setup();
      await sim.fault({ path: exactPath(`/transactions/${pluggyTransactionId}`), method: "PATCH", status, message, ...(codeDescription ? { codeDescription } : {}) });
      const { id, result } = await deliver(messageOf(job));
      expect(result.explicitAcks).toEqual([id]);
      expect(result.retryMessages).toEqual([]);
      const after = await readJob(job);
      expect(after.status).toBe("failed");
      expect(after.attempts).toBe(1);
      expect(after.lastError).toContain(String(status));
      expect(after.lastError).toContain(message);
      if (codeDescription) expect(after.lastError).toContain(codeDescription);
      // An operator finds it without knowing whose it is: the catalog's attention index lists it.
      expect(await attentionOf(job.id)).toMatchObject({ userId: job.userId, status: "failed" });
    });
  });

  it("a transaction Pluggy does not know is a permanent failure (the simulator's own 404)", async () => {
    const userId = uniqueUser();
    const transaction = await localTransaction(userId, { pluggyId: `unknown-${crypto.randomUUID()}` });
    const category = await mappedCategory(PLUGGY.pix);
    const job = await makeSyncJob(transaction, category.id);
    await deliver(messageOf(job));
    const after = await readJob(job);
    expect(after.status).toBe("failed");
    expect(after.lastError).toMatch(/^404 TRANSACTION_NOT_FOUND/);
  });

  it("never marks a newer version synced when an older call finishes after the change (version race)", async () => {
    const { job, transaction, pluggyTransactionId } = await setup(PLUGGY.pix);
    const newer = await mappedCategory(PLUGGY.ted);
    // Pluggy answers slowly; the user changes the category while the call is in flight.
    await sim.fault({ path: exactPath(`/transactions/${pluggyTransactionId}`), method: "PATCH", delayMs: 1500 });
    const inFlight = deliver(messageOf(job));
    await vi.waitUntil(async () => (await pluggyPatches(pluggyTransactionId)).length === 1, { timeout: 5000, interval: 50 });
    await inLedger(transaction.userId, (ledger) => {
      ledger.update(transactions).set({ categoryId: newer.id, categoryVersion: 2 }).where(eq(transactions.id, transaction.id)).run();
      ledger.update(categorySyncJobs).set({ categoryId: newer.id, version: 2, status: "pending" }).where(eq(categorySyncJobs.id, job.id)).run();
    });
    const { id, result } = await inFlight;
    expect(result.explicitAcks).toEqual([id]);
    const after = await readJob(job);
    expect(after).toMatchObject({ status: "pending", version: 2, syncedAt: null });
    // The older answer is not recorded as what Pluggy says for the newer choice.
    expect((await readTransaction(transaction)).pluggyCategoryId).not.toBe(PLUGGY.pix);
  });

  it("re-syncs the newer choice when an older call lands after the newer one was synced", async () => {
    const { job, transaction, item, pluggyTransactionId } = await setup(PLUGGY.pix);
    const newer = await mappedCategory(PLUGGY.ted);
    await sim.fault({ path: exactPath(`/transactions/${pluggyTransactionId}`), method: "PATCH", delayMs: 1500 });
    const inFlight = deliver(messageOf(job));
    await vi.waitUntil(async () => (await pluggyPatches(pluggyTransactionId)).length === 1, { timeout: 5000, interval: 50 });
    // Meanwhile the newer version was synced (by another consumer invocation).
    await inLedger(transaction.userId, (ledger) => {
      ledger.update(transactions).set({ categoryId: newer.id, categoryVersion: 2 }).where(eq(transactions.id, transaction.id)).run();
      ledger
        .update(categorySyncJobs)
        .set({ categoryId: newer.id, version: 2, status: "synced", syncedAt: new Date().toISOString(), pendingSince: null })
        .where(eq(categorySyncJobs.id, job.id))
        .run();
    });
    await inFlight;
    // Pluggy may now hold the older choice: the job is re-opened and re-queued, and ends synced with the newer one.
    await vi.waitUntil(async () => (await readJob(job)).status === "synced" && (await simCategoryOf(item.id, pluggyTransactionId)) === PLUGGY.ted, {
      timeout: 15_000,
      interval: 200,
    });
    expect((await readJob(job)).version).toBe(2);
  });
});

describe("category.sync dead-letter handler", () => {
  it("marks the job dead and keeps the last error", async () => {
    const { job, pluggyTransactionId } = await setup(PLUGGY.pix, { attempts: 4, lastError: "503: Simulated failure (503)" });
    const { id, result } = await deliver(messageOf(job), { queue: SYNC_DLQ });
    expect(result.explicitAcks).toEqual([id]);
    expect(await readJob(job)).toMatchObject({ status: "dead", lastError: "503: Simulated failure (503)", attempts: 4 });
    expect(await attentionOf(job.id)).toMatchObject({ userId: job.userId, status: "dead" });
    expect(await pluggyPatches(pluggyTransactionId)).toHaveLength(0);
  });

  it("gives a reason when none was recorded", async () => {
    const { job } = await setup();
    await deliver(messageOf(job), { queue: SYNC_DLQ });
    expect(await readJob(job)).toMatchObject({ status: "dead", lastError: "retries exhausted" });
  });

  it("leaves a job alone when the dead message is for an older version or the job is done", async () => {
    const newer = await setup(PLUGGY.pix, { version: 5 });
    await deliver(messageOf(newer.job, 4), { queue: SYNC_DLQ });
    expect((await readJob(newer.job)).status).toBe("pending");
    const synced = await setup(PLUGGY.pix, { status: "synced" });
    await deliver(messageOf(synced.job), { queue: SYNC_DLQ });
    expect((await readJob(synced.job)).status).toBe("synced");
  });
});
