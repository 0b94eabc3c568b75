import { describe, expect, it } from "vitest";
import { authHeaders, uniqueUser } from "../helpers/auth.ts";
import { body, call } from "../helpers/http.ts";
import { makeCategory } from "../helpers/factories.ts";
import { PLUGGY, jobOf, localTransaction, mappedCategory, readTransaction } from "./support.ts";

/*
 * PATCH /api/banking/transactions/{id}/: validation, ownership, the local save and the outbox decision
 * (pending job vs. skipped with a reason). The sync itself is covered by the consumer and e2e tests.
 */

const patch = async (userId: string, transactionId: string, payload: unknown, init: RequestInit = {}) =>
  call(`/api/banking/transactions/${transactionId}/`, {
    method: "PATCH",
    headers: { ...(await authHeaders(userId)), ...(init.headers as Record<string, string> | undefined) },
    ...(init.body !== undefined ? { body: init.body } : { json: payload }),
  });

async function expectFieldError(res: Response, field: string) {
  expect(res.status).toBe(400);
  const json = await body(res);
  expect(json.error.code).toBe("validation_error");
  expect(json.error.details.map((d: { field: string }) => d.field)).toContain(field);
  return json;
}

describe("PATCH /api/banking/transactions/{id}/ validation", () => {
  const cases: Array<{ name: string; payload: unknown; field: string }> = [
    { name: "an extra field", payload: { category: null, description: "x" }, field: "description" },
    { name: "two extra fields", payload: { category: null, amount: "1.00", notes: "x" }, field: "notes" },
    { name: "only other fields", payload: { name: "x" }, field: "name" },
    { name: "a missing category", payload: {}, field: "category" },
    { name: "a non-uuid category", payload: { category: "groceries" }, field: "category" },
    { name: "a numeric category", payload: { category: 42 }, field: "category" },
    { name: "a boolean category", payload: { category: true }, field: "category" },
    { name: "an object category", payload: { category: { id: crypto.randomUUID() } }, field: "category" },
    { name: "an array category", payload: { category: [crypto.randomUUID()] }, field: "category" },
    { name: "an unknown category uuid", payload: { category: crypto.randomUUID() }, field: "category" },
  ];

  it.each(cases)("400 validation_error naming the field for $name", async ({ payload, field }) => {
    const userId = uniqueUser();
    const transaction = await localTransaction(userId);
    const before = await readTransaction(transaction);
    await expectFieldError(await patch(userId, transaction.id, payload), field);
    // Nothing was saved.
    const after = await readTransaction(transaction);
    expect(after.categoryVersion).toBe(before.categoryVersion);
    expect(after.categoryId).toBe(before.categoryId);
    expect(await jobOf(transaction)).toBeUndefined();
  });

  it("names each extra field", async () => {
    const userId = uniqueUser();
    const transaction = await localTransaction(userId);
    const json = await expectFieldError(await patch(userId, transaction.id, { category: null, a: 1, b: 2 }), "a");
    expect(json.error.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(["a", "b"]));
  });

  it.each([
    { name: "a JSON array body", raw: "[]" },
    { name: "a JSON string body", raw: '"x"' },
    { name: "a JSON null body", raw: "null" },
  ])("400 validation_error for $name", async ({ raw }) => {
    const userId = uniqueUser();
    const transaction = await localTransaction(userId);
    const res = await patch(userId, transaction.id, undefined, { body: raw, headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(400);
    expect((await body(res)).error.code).toBe("validation_error");
  });

  it("400 invalid_json for malformed JSON", async () => {
    const userId = uniqueUser();
    const transaction = await localTransaction(userId);
    const res = await patch(userId, transaction.id, undefined, { body: '{"category": ', headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(400);
    expect((await body(res)).error.code).toBe("invalid_json");
  });

  it.each(["text/plain", "application/x-www-form-urlencoded"])("415 unsupported_media_type for %s", async (type) => {
    const userId = uniqueUser();
    const transaction = await localTransaction(userId);
    const res = await patch(userId, transaction.id, undefined, { body: "category=x", headers: { "Content-Type": type } });
    expect(res.status).toBe(415);
    expect((await body(res)).error.code).toBe("unsupported_media_type");
  });

  describe.each([
    { name: "no token", headers: async () => ({}) },
    { name: "a bad token", headers: async () => ({ Authorization: "Bearer not-a-jwt" }) },
  ])("with $name", ({ headers }) => {
    it("401 unauthorized", async () => {
      const transaction = await localTransaction(uniqueUser());
      const res = await call(`/api/banking/transactions/${transaction.id}/`, { method: "PATCH", headers: await headers(), json: { category: null } });
      expect(res.status).toBe(401);
      expect((await body(res)).error.code).toBe("unauthorized");
    });
  });

  it("404 for another user's transaction, exactly like a missing one, and nothing changes", async () => {
    const owner = uniqueUser();
    const transaction = await localTransaction(owner);
    const category = await mappedCategory(PLUGGY.pix);
    const stranger = uniqueUser();
    const theirs = await patch(stranger, transaction.id, { category: category.id });
    const missing = await patch(stranger, crypto.randomUUID(), { category: category.id });
    expect(theirs.status).toBe(404);
    expect(missing.status).toBe(404);
    const [a, b] = [await body(theirs), await body(missing)];
    expect(a.error.code).toBe("not_found");
    expect(a.error.message).toBe(b.error.message);
    expect((await readTransaction(transaction)).categoryId).toBeNull();
  });

  it("works with and without the trailing slash", async () => {
    const userId = uniqueUser();
    const transaction = await localTransaction(userId, { pluggyId: null });
    const category = await makeCategory();
    for (const path of [`/api/banking/transactions/${transaction.id}/`, `/api/banking/transactions/${transaction.id}`]) {
      const res = await call(path, { method: "PATCH", headers: await authHeaders(userId), json: { category: category.id } });
      expect(res.status).toBe(200);
    }
  });
});

describe("PATCH /api/banking/transactions/{id}/ outcome", () => {
  it("saves the choice and queues a sync when the transaction has a Pluggy id and the category is mapped", async () => {
    const userId = uniqueUser();
    const transaction = await localTransaction(userId);
    const category = await mappedCategory(PLUGGY.groceries, { name: "Groceries (test)" });
    const res = await patch(userId, transaction.id, { category: category.id });
    expect(res.status).toBe(200);
    // A bookmark covering the write, for read-your-writes on the next GET.
    expect(res.headers.get("X-D1-Bookmark")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/);
    const { data } = await body(res);
    expect(data.id).toBe(transaction.id);
    expect(data.category).toEqual({ id: category.id, name: "Groceries (test)" });
    expect(data.category_sync).toMatchObject({ status: "pending", reason: null, attempts: 0 });
    expect(typeof data.category_sync.updated_at).toBe("string");

    const saved = await readTransaction(transaction);
    expect(saved).toMatchObject({ categoryId: category.id, categorySetByUser: true, categoryVersion: 1, categorySyncSkipReason: null, categorySyncSkippedAt: null });
    expect(saved.updatedAt >= transaction.updatedAt).toBe(true);
    const job = await jobOf(transaction);
    expect(job).toMatchObject({ version: 1, categoryId: category.id, pluggyTransactionId: transaction.pluggyId, pluggyCategoryId: PLUGGY.groceries, attempts: 0, lastError: null });
    expect(Date.parse(job?.dueAt ?? "")).toBeGreaterThan(Date.now() + 60_000);
  });

  it("keeps one job per transaction: a second change replaces its target and bumps the version", async () => {
    const userId = uniqueUser();
    const transaction = await localTransaction(userId);
    const first = await mappedCategory(PLUGGY.pix);
    const second = await mappedCategory(PLUGGY.ted);
    await patch(userId, transaction.id, { category: first.id });
    const jobId = (await jobOf(transaction))?.id;
    const res = await patch(userId, transaction.id, { category: second.id });
    expect((await body(res)).data.category_sync.status).toBe("pending");
    const job = await jobOf(transaction);
    expect(job).toMatchObject({ id: jobId, version: 2, categoryId: second.id, pluggyCategoryId: PLUGGY.ted });
    expect((await readTransaction(transaction)).categoryVersion).toBe(2);
  });

  describe.each([
    {
      name: "the transaction has no Pluggy id",
      reason: "transaction has no Pluggy id",
      make: async (userId: string) => ({ transaction: await localTransaction(userId, { pluggyId: null }), category: (await mappedCategory(PLUGGY.pix)).id }),
    },
    {
      name: "the category has no Pluggy mapping",
      reason: "category has no Pluggy mapping",
      make: async (userId: string) => ({ transaction: await localTransaction(userId), category: (await makeCategory()).id }),
    },
    {
      name: "the category is cleared",
      reason: "category cleared",
      make: async (userId: string) => ({ transaction: await localTransaction(userId), category: null }),
    },
  ])("when $name", ({ reason, make }) => {
    it(`saves locally and answers skipped: "${reason}"`, async () => {
      const userId = uniqueUser();
      const { transaction, category } = await make(userId);
      const res = await patch(userId, transaction.id, { category });
      expect(res.status).toBe(200);
      const { data } = await body(res);
      expect(data.category_sync).toMatchObject({ status: "skipped", reason, attempts: 0 });
      expect(data.category === null ? null : data.category.id).toBe(category);
      const saved = await readTransaction(transaction);
      expect(saved).toMatchObject({ categoryId: category, categorySetByUser: true, categoryVersion: 1, categorySyncSkipReason: reason });
      expect(saved.categorySyncSkippedAt).not.toBeNull();
      expect(await jobOf(transaction)).toBeUndefined();
    });
  });

  it("a skipped change drops the older pending job, so a superseded choice never reaches Pluggy", async () => {
    const userId = uniqueUser();
    const transaction = await localTransaction(userId);
    const mapped = await mappedCategory(PLUGGY.pix);
    await patch(userId, transaction.id, { category: mapped.id });
    expect(await jobOf(transaction)).toBeDefined();
    const res = await patch(userId, transaction.id, { category: null });
    expect((await body(res)).data.category_sync).toMatchObject({ status: "skipped", reason: "category cleared" });
    expect(await jobOf(transaction)).toBeUndefined();
    // And a later mapped change queues again, clearing the skip.
    const again = await patch(userId, transaction.id, { category: mapped.id });
    expect((await body(again)).data.category_sync.status).toBe("pending");
    const saved = await readTransaction(transaction);
    expect(saved).toMatchObject({ categoryVersion: 3, categorySyncSkipReason: null, categorySyncSkippedAt: null });
    expect((await jobOf(transaction))?.version).toBe(3);
  });

  it("GET shows the same category_sync afterwards", async () => {
    const userId = uniqueUser();
    const transaction = await localTransaction(userId, { pluggyId: null });
    const category = await makeCategory();
    await patch(userId, transaction.id, { category: category.id });
    const res = await call(`/api/banking/transactions/${transaction.id}/`, { headers: await authHeaders(userId) });
    expect((await body(res)).data.category_sync).toMatchObject({ status: "skipped", reason: "transaction has no Pluggy id" });
  });
});
