import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { eq } from "drizzle-orm";
import { categoryMappings, pluggyCategories } from "../../src/db/schema.ts";
import { categoryIdForPluggy } from "../../src/category-sync/mappings.service.ts";
import { authHeaders, uniqueUser } from "../helpers/auth.ts";
import { body, call, callWithEnv } from "../helpers/http.ts";
import { makeCategory } from "../helpers/factories.ts";
import { sim } from "../helpers/simulator.ts";
import {
  PLUGGY,
  armLedgerAlarm,
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
  runLedgerAlarm,
  simCategoryOf,
} from "./support.ts";

/*
 * The admin API of this domain: categories, Pluggy's tree, mappings, sync jobs and metrics, with the
 * auth matrix (no token → 401, a user token → 403) generated over every route.
 */

const admin = () => authHeaders(uniqueUser("admin"), { admin: true });

const ROUTES: Array<{ method: string; path: string; json?: unknown }> = [
  { method: "GET", path: "/api/admin/categories/" },
  { method: "POST", path: "/api/admin/categories/", json: { name: "x" } },
  { method: "GET", path: `/api/admin/categories/${crypto.randomUUID()}/` },
  { method: "PATCH", path: `/api/admin/categories/${crypto.randomUUID()}/`, json: { name: "x" } },
  { method: "DELETE", path: `/api/admin/categories/${crypto.randomUUID()}/` },
  { method: "GET", path: "/api/admin/pluggy-categories/" },
  { method: "GET", path: "/api/admin/category-mappings/" },
  { method: "PUT", path: `/api/admin/category-mappings/${crypto.randomUUID()}/`, json: { pluggy_category_id: PLUGGY.pix } },
  { method: "DELETE", path: `/api/admin/category-mappings/${crypto.randomUUID()}/` },
  { method: "POST", path: "/api/admin/category-mappings/import-pluggy/" },
  { method: "GET", path: "/api/admin/category-syncs/" },
  { method: "POST", path: `/api/admin/category-syncs/${crypto.randomUUID()}/retry/` },
  { method: "POST", path: "/api/admin/category-syncs/redrive/", json: { status: "dead" } },
  { method: "GET", path: "/api/admin/metrics/" },
];

describe.each(ROUTES)("$method $path", ({ method, path, json }) => {
  it("401 without a token", async () => {
    const res = await call(path, { method, ...(json !== undefined ? { json } : {}) });
    expect(res.status).toBe(401);
    expect((await body(res)).error.code).toBe("unauthorized");
  });
  it("403 for a user (non-admin) token", async () => {
    const res = await call(path, { method, headers: await authHeaders(uniqueUser()), ...(json !== undefined ? { json } : {}) });
    expect(res.status).toBe(403);
    expect((await body(res)).error.code).toBe("forbidden");
  });
});

describe("admin categories", () => {
  it("creates, reads, renames, moves and deletes a category", async () => {
    const headers = await admin();
    const parent = await makeCategory({ name: "Parent (admin test)" });
    const created = await call("/api/admin/categories/", { method: "POST", headers, json: { name: "  Coffee  ", parent_id: parent.id } });
    expect(created.status).toBe(201);
    const category = (await body(created)).data;
    expect(category).toEqual({ id: expect.any(String), name: "Coffee", parent_id: parent.id, pluggy_category_id: null });

    expect((await body(await call(`/api/admin/categories/${category.id}`, { headers }))).data).toEqual(category);
    const list = await body(await call("/api/admin/categories/", { headers }));
    expect(list.next_cursor).toBeNull();
    expect(list.data.map((c: { id: string }) => c.id)).toContain(category.id);

    const renamed = await call(`/api/admin/categories/${category.id}/`, { method: "PATCH", headers, json: { name: "Café" } });
    expect((await body(renamed)).data).toMatchObject({ name: "Café", parent_id: parent.id });
    const moved = await call(`/api/admin/categories/${category.id}/`, { method: "PATCH", headers, json: { parent_id: null } });
    expect((await body(moved)).data).toMatchObject({ name: "Café", parent_id: null });

    const deleted = await call(`/api/admin/categories/${category.id}/`, { method: "DELETE", headers });
    expect(deleted.status).toBe(204);
    expect((await call(`/api/admin/categories/${category.id}/`, { headers })).status).toBe(404);
    expect((await call(`/api/admin/categories/${category.id}/`, { method: "DELETE", headers })).status).toBe(404);
  });

  it.each([
    { name: "an unknown parent", payload: () => ({ name: "x", parent_id: crypto.randomUUID() }), field: "parent_id" },
    { name: "a non-uuid parent", payload: () => ({ name: "x", parent_id: "food" }), field: "parent_id" },
    { name: "an empty name", payload: () => ({ name: "   " }), field: "name" },
    { name: "a missing name", payload: () => ({}), field: "name" },
    { name: "an extra field", payload: () => ({ name: "x", pluggy_category_id: PLUGGY.pix }), field: "pluggy_category_id" },
  ])("POST 400 for $name", async ({ payload, field }) => {
    const res = await call("/api/admin/categories/", { method: "POST", headers: await admin(), json: payload() });
    expect(res.status).toBe(400);
    const json = await body(res);
    expect(json.error.code).toBe("validation_error");
    expect(json.error.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it("refuses cycles: a category under itself or under its own descendant", async () => {
    const headers = await admin();
    const a = await makeCategory();
    const b = await makeCategory({ parentId: a.id });
    const c = await makeCategory({ parentId: b.id });
    for (const parent of [a.id, c.id, b.id]) {
      const res = await call(`/api/admin/categories/${a.id}/`, { method: "PATCH", headers, json: { parent_id: parent } });
      expect(res.status).toBe(400);
      expect((await body(res)).error.details[0].field).toBe("parent_id");
    }
    // Moving a leaf elsewhere is fine.
    const other = await makeCategory();
    expect((await call(`/api/admin/categories/${c.id}/`, { method: "PATCH", headers, json: { parent_id: other.id } })).status).toBe(200);
  });

  it("PATCH 404 for an unknown category and 400 for an empty body", async () => {
    const headers = await admin();
    expect((await call(`/api/admin/categories/${crypto.randomUUID()}/`, { method: "PATCH", headers, json: { name: "x" } })).status).toBe(404);
    const category = await makeCategory();
    expect((await call(`/api/admin/categories/${category.id}/`, { method: "PATCH", headers, json: {} })).status).toBe(400);
  });

  it("refuses a second sibling with the same name (ignoring case) on create, rename and move: 409", async () => {
    const headers = await admin();
    const parent = await makeCategory();
    const name = `Dup ${crypto.randomUUID().slice(0, 8)}`;
    expect((await call("/api/admin/categories/", { method: "POST", headers, json: { name, parent_id: parent.id } })).status).toBe(201);
    const again = await call("/api/admin/categories/", { method: "POST", headers, json: { name: name.toUpperCase(), parent_id: parent.id } });
    expect(again.status).toBe(409);
    expect((await body(again)).error.code).toBe("conflict");
    // The same name elsewhere in the tree is fine, but renaming or moving it into the clash is not.
    const elsewhere = await call("/api/admin/categories/", { method: "POST", headers, json: { name } });
    expect(elsewhere.status).toBe(201);
    const id = (await body(elsewhere)).data.id;
    expect((await call(`/api/admin/categories/${id}/`, { method: "PATCH", headers, json: { parent_id: parent.id } })).status).toBe(409);
    const other = await makeCategory({ parentId: parent.id });
    expect((await call(`/api/admin/categories/${other.id}/`, { method: "PATCH", headers, json: { name } })).status).toBe(409);
    expect((await call(`/api/admin/categories/${other.id}/`, { method: "PATCH", headers, json: { name: other.name } })).status).toBe(200);
  });

  it("DELETE of a category with children is a 409 conflict", async () => {
    const headers = await admin();
    const parent = await makeCategory();
    await makeCategory({ parentId: parent.id });
    const res = await call(`/api/admin/categories/${parent.id}/`, { method: "DELETE", headers });
    expect(res.status).toBe(409);
    expect((await body(res)).error.code).toBe("conflict");
  });

  it("DELETE makes the category none on transactions (without writing users' ledgers) and removes its mapping", async () => {
    const headers = await admin();
    const category = await mappedCategory(PLUGGY.pix);
    const userId = uniqueUser();
    const transaction = await localTransaction(userId, { categoryId: category.id });
    const user = await authHeaders(userId);
    expect((await body(await call(`/api/banking/transactions/${transaction.id}/`, { headers: user }))).data.category).toMatchObject({ id: category.id });
    expect((await call(`/api/admin/categories/${category.id}/`, { method: "DELETE", headers })).status).toBe(204);
    expect((await body(await call(`/api/banking/transactions/${transaction.id}/`, { headers: user }))).data.category).toBeNull();
    // The ledger keeps the id: a delete costs the same whatever the number of users.
    expect((await readTransaction(transaction)).categoryId).toBe(category.id);
    expect(await db().query.categoryMappings.findFirst({ where: eq(categoryMappings.categoryId, category.id) })).toBeUndefined();
  });
});

describe("Pluggy categories and mappings", () => {
  it("serves Pluggy's tree from the cache, and refreshes it on ?refresh=true", async () => {
    const headers = await admin();
    const first = await body(await call("/api/admin/pluggy-categories/", { headers }));
    expect(first.data.length).toBeGreaterThan(50);
    const pix = first.data.find((c: { id: string }) => c.id === PLUGGY.pix);
    expect(pix).toMatchObject({ id: PLUGGY.pix, parent_id: PLUGGY.transfers, description: expect.any(String) });
    const fetchedAt = pix.fetched_at;
    const cached = await body(await call("/api/admin/pluggy-categories", { headers }));
    expect(cached.data.find((c: { id: string }) => c.id === PLUGGY.pix).fetched_at).toBe(fetchedAt);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const refreshed = await body(await call("/api/admin/pluggy-categories/?refresh=true", { headers }));
    expect(refreshed.data.find((c: { id: string }) => c.id === PLUGGY.pix).fetched_at > fetchedAt).toBe(true);
    expect(refreshed.data).toHaveLength(first.data.length);
  });

  it("refreshes a cache older than a day, and drops categories Pluggy no longer lists", async () => {
    const headers = await admin();
    await call("/api/admin/pluggy-categories/", { headers });
    const old = new Date(Date.now() - 25 * 60 * 60_000).toISOString();
    await db().update(pluggyCategories).set({ fetchedAt: old });
    await db().insert(pluggyCategories).values({ id: "99887766", description: "Gone", fetchedAt: old });
    const res = await body(await call("/api/admin/pluggy-categories/", { headers }));
    expect(res.data.every((c: { fetched_at: string }) => c.fetched_at > old)).toBe(true);
    expect(res.data.some((c: { id: string }) => c.id === "99887766")).toBe(false);
  });

  it("502/503 when Pluggy fails on a forced refresh", async () => {
    // The app runs as a simulator tenant of this test's own, so the fault cannot meet anyone else's /categories.
    const tenant = `${env.PLUGGY_CLIENT_ID}+${crypto.randomUUID()}`;
    const faultId = await sim.fault({ path: "^/categories$", method: "GET", clientId: tenant, status: 503, times: 10 });
    try {
      const res = await callWithEnv("/api/admin/pluggy-categories/?refresh=true", { headers: await admin() }, { PLUGGY_CLIENT_ID: tenant });
      expect(res.status).toBe(503);
      const json = await body(res);
      expect(json.error.code).toBe("upstream_unavailable");
      expect((await sim.faultState(faultId)).hits).toBeGreaterThanOrEqual(1);
    } finally {
      await sim.clearFault(faultId);
    }
  });

  it("400 for an unknown query parameter", async () => {
    const res = await call("/api/admin/pluggy-categories/?refresh=yes", { headers: await admin() });
    expect(res.status).toBe(400);
  });

  it("PUT maps a category (checked against Pluggy's tree), GET lists it, DELETE removes it", async () => {
    const headers = await admin();
    const category = await makeCategory({ name: "Mapped in test" });
    const put = await call(`/api/admin/category-mappings/${category.id}/`, { method: "PUT", headers, json: { pluggy_category_id: PLUGGY.restaurants } });
    expect(put.status).toBe(200);
    const mapping = (await body(put)).data;
    expect(mapping).toMatchObject({ category_id: category.id, category_name: "Mapped in test", parent_id: null, pluggy_category_id: PLUGGY.restaurants });
    expect(typeof mapping.pluggy_category_name).toBe("string");
    expect(mapping.updated_at).not.toBeNull();

    const list = await body(await call("/api/admin/category-mappings/", { headers }));
    expect(list.next_cursor).toBeNull();
    expect(list.data.find((m: { category_id: string }) => m.category_id === category.id)).toEqual(mapping);
    const unmapped = await makeCategory();
    const again = await body(await call("/api/admin/category-mappings", { headers }));
    expect(again.data.find((m: { category_id: string }) => m.category_id === unmapped.id)).toMatchObject({ pluggy_category_id: null, pluggy_category_name: null, updated_at: null });

    // Re-mapping replaces; the category list shows it too.
    await call(`/api/admin/category-mappings/${category.id}`, { method: "PUT", headers, json: { pluggy_category_id: PLUGGY.food } });
    expect((await body(await call(`/api/admin/categories/${category.id}/`, { headers }))).data.pluggy_category_id).toBe(PLUGGY.food);

    const del = await call(`/api/admin/category-mappings/${category.id}/`, { method: "DELETE", headers });
    expect(del.status).toBe(204);
    expect((await body(await call(`/api/admin/categories/${category.id}/`, { headers }))).data.pluggy_category_id).toBeNull();
    expect((await call(`/api/admin/category-mappings/${category.id}/`, { method: "DELETE", headers })).status).toBe(204);
  });

  it.each([
    { name: "a Pluggy id that does not exist", json: { pluggy_category_id: "12345678" } },
    { name: "not 8 digits", json: { pluggy_category_id: "0507" } },
    { name: "a number", json: { pluggy_category_id: 5070000 } },
    { name: "an extra field", json: { pluggy_category_id: PLUGGY.pix, note: "x" } },
    { name: "an empty body", json: {} },
  ])("PUT 400 for $name", async ({ json }) => {
    const category = await makeCategory();
    const res = await call(`/api/admin/category-mappings/${category.id}/`, { method: "PUT", headers: await admin(), json });
    expect(res.status).toBe(400);
    expect((await body(res)).error.code).toBe("validation_error");
    expect(await db().query.categoryMappings.findFirst({ where: eq(categoryMappings.categoryId, category.id) })).toBeUndefined();
  });

  it("PUT accepts any id in Pluggy's tree at any depth (a third-level one too) and refuses a well-formed id Pluggy does not have", async () => {
    const headers = await admin();
    const category = await makeCategory({ name: "Concerts in test" });
    const put = await call(`/api/admin/category-mappings/${category.id}/`, { method: "PUT", headers, json: { pluggy_category_id: "07040003" } });
    expect(put.status).toBe(200);
    expect((await body(put)).data).toMatchObject({ pluggy_category_id: "07040003", pluggy_category_name: "Cinema, theater and concerts" });
    const missing = await call(`/api/admin/category-mappings/${category.id}/`, { method: "PUT", headers, json: { pluggy_category_id: "07040009" } });
    expect(missing.status).toBe(400);
    expect((await body(missing)).error.code).toBe("validation_error");
    // Leave Pluggy's tree unmapped for the import test.
    expect((await call(`/api/admin/category-mappings/${category.id}/`, { method: "DELETE", headers })).status).toBe(204);
  });

  it("PUT/DELETE 404 for an unknown category", async () => {
    const headers = await admin();
    const id = crypto.randomUUID();
    expect((await call(`/api/admin/category-mappings/${id}/`, { method: "PUT", headers, json: { pluggy_category_id: PLUGGY.pix } })).status).toBe(404);
    expect((await call(`/api/admin/category-mappings/${id}/`, { method: "DELETE", headers })).status).toBe(404);
  });

  it("imports Pluggy's tree as local categories mapped 1:1, idempotently, reusing existing mappings", async () => {
    const headers = await admin();
    // This file's D1, as the import first meets it: nothing mapped but what this test maps (other tests
    // map Pluggy categories of their own, and the import rightly reuses whatever it finds).
    await db().delete(categoryMappings);
    // An operator already mapped a category to Pluggy's "Transfers": the import reuses it as the parent.
    const transfers = await mappedCategory(PLUGGY.transfers, { name: "Our transfers" });
    const first = await call("/api/admin/category-mappings/import-pluggy/", { method: "POST", headers });
    expect(first.status).toBe(200);
    const result = (await body(first)).data;
    expect(result.total).toBeGreaterThan(50);
    expect(result.existing).toBe(1);
    expect(result.created + result.existing).toBe(result.total);

    const pixId = await categoryIdForPluggy(PLUGGY.pix);
    const pix = (await body(await call(`/api/admin/categories/${pixId}/`, { headers }))).data;
    expect(pix).toMatchObject({ pluggy_category_id: PLUGGY.pix, parent_id: transfers.id });
    const food = (await body(await call(`/api/admin/categories/${await categoryIdForPluggy(PLUGGY.food)}/`, { headers }))).data;
    expect(food.parent_id).toBeNull();
    const restaurants = (await body(await call(`/api/admin/categories/${await categoryIdForPluggy(PLUGGY.restaurants)}/`, { headers }))).data;
    expect(restaurants.parent_id).toBe(food.id);
    // Three levels: Gas stations under Automotive under Transportation.
    const automotive = (await body(await call(`/api/admin/categories/${await categoryIdForPluggy("19050000")}/`, { headers }))).data;
    const gas = (await body(await call(`/api/admin/categories/${await categoryIdForPluggy("19050001")}/`, { headers }))).data;
    expect(gas).toMatchObject({ name: "Gas stations", pluggy_category_id: "19050001", parent_id: automotive.id });
    expect(automotive.parent_id).toBe(await categoryIdForPluggy("19000000"));

    const second = (await body(await call("/api/admin/category-mappings/import-pluggy", { method: "POST", headers }))).data;
    expect(second).toEqual({ total: result.total, created: 0, existing: result.total });
  });
});

describe("admin category syncs", () => {
  it("lists jobs with the contract's row shape, filters by status and pages with a cursor", async () => {
    const headers = await admin();
    const category = await mappedCategory(PLUGGY.pix);
    const userId = uniqueUser();
    const dead: Array<{ id: string }> = [];
    for (let i = 0; i < 3; i++) {
      dead.push(await makeSyncJob(await localTransaction(userId), category.id, { status: "dead", lastError: `503: down ${i}`, attempts: 4, updatedAt: new Date(Date.UTC(2020, 0, 1 + i)).toISOString() }));
    }
    const res = await call("/api/admin/category-syncs/?status=dead&limit=2", { headers });
    expect(res.status).toBe(200);
    const page = await body(res);
    expect(page.data).toHaveLength(2);
    expect(Object.keys(page.data[0]).sort()).toEqual(
      ["attempts", "created_at", "id", "last_error", "pluggy_category_id", "pluggy_transaction_id", "status", "transaction_id", "updated_at", "user_id"].sort(),
    );
    expect(page.data.every((row: { status: string }) => row.status === "dead")).toBe(true);
    const seen: string[] = page.data.map((row: { id: string }) => row.id);
    let cursor = page.next_cursor;
    while (cursor) {
      const next = await body(await call(`/api/admin/category-syncs/?status=dead&limit=2&cursor=${encodeURIComponent(cursor)}`, { headers }));
      seen.push(...next.data.map((row: { id: string }) => row.id));
      cursor = next.next_cursor;
    }
    expect(seen).toEqual(expect.arrayContaining(dead.map((j) => j.id)));
    expect(new Set(seen).size).toBe(seen.length);
    // Most recently changed first.
    const mine = seen.filter((id) => dead.some((j) => j.id === id));
    expect(mine).toEqual([dead[2]?.id, dead[1]?.id, dead[0]?.id]);
  });

  it("without user_id lists failed, dead and long-pending jobs of every user; any other status needs user_id (400)", async () => {
    const headers = await admin();
    const category = await mappedCategory(PLUGGY.pix);
    const [alice, bob] = [uniqueUser(), uniqueUser()];
    const failed = await makeSyncJob(await localTransaction(alice), category.id, { status: "failed", lastError: "400 X: y" });
    const dead = await makeSyncJob(await localTransaction(bob), category.id, { status: "dead", lastError: "503: down" });
    const synced = await makeSyncJob(await localTransaction(bob), category.id, { status: "synced" });
    const fresh = await makeSyncJob(await localTransaction(bob), category.id, { status: "pending" });
    // Pending for 11 minutes: the ledger's alarm puts it in the index.
    const stuck = await makeSyncJob(await localTransaction(alice), category.id, { status: "pending", pendingSince: new Date(Date.now() - 11 * 60_000).toISOString() });
    await armLedgerAlarm(alice);
    await runLedgerAlarm(alice);
    const pending: Array<{ id: string; user_id: string }> = (await body(await call("/api/admin/category-syncs/?status=pending&limit=200", { headers }))).data;
    expect(pending.find((row) => row.id === stuck.id)).toMatchObject({ user_id: alice, status: "pending" });
    expect(pending.some((row) => row.id === fresh.id)).toBe(false);
    const all: Array<{ id: string; user_id: string; status: string }> = (await body(await call("/api/admin/category-syncs/?limit=200", { headers }))).data;
    expect(all.find((row) => row.id === failed.id)).toMatchObject({ user_id: alice, status: "failed", last_error: "400 X: y" });
    expect(all.find((row) => row.id === dead.id)).toMatchObject({ user_id: bob, status: "dead" });
    // A synced job, and one pending for less than 10 minutes, need no operator: not in the global list.
    expect(all.some((row) => row.id === synced.id || row.id === fresh.id)).toBe(false);
    expect(all.some((row) => row.id === stuck.id)).toBe(true);

    for (const status of ["synced"]) {
      const res = await call(`/api/admin/category-syncs/?status=${status}`, { headers });
      expect(res.status).toBe(400);
      const json = await body(res);
      expect(json.error.code).toBe("validation_error");
      expect(json.error.details.map((d: { field: string }) => d.field)).toContain("user_id");
      expect(json.error.message).toMatch(/user_id/);
    }
  });

  it("with user_id lists that user's jobs in any status from their ledger, most recently changed first, with a cursor", async () => {
    const headers = await admin();
    const category = await mappedCategory(PLUGGY.pix);
    const userId = uniqueUser();
    const other = await makeSyncJob(await localTransaction(uniqueUser()), category.id, { status: "synced" });
    const jobs = [];
    for (const [i, status] of (["synced", "pending", "failed"] as const).entries()) {
      jobs.push(await makeSyncJob(await localTransaction(userId), category.id, { status, updatedAt: new Date(Date.UTC(2021, 0, 1 + i)).toISOString() }));
    }
    const synced = await body(await call(`/api/admin/category-syncs/?status=synced&user_id=${userId}`, { headers }));
    expect(synced).toMatchObject({ data: [{ id: jobs[0]?.id, user_id: userId, status: "synced" }], next_cursor: null });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: Array<{ id: string }>; next_cursor: string | null } = await body(await call(`/api/admin/category-syncs/?user_id=${userId}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { headers }));
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((row) => row.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([jobs[2]?.id, jobs[1]?.id, jobs[0]?.id]);
    expect(seen).not.toContain(other.id);
    expect((await call(`/api/admin/category-syncs/?user_id=${userId}&cursor=zzz`, { headers })).status).toBe(400);
  });

  it("a failed job is in the global list until it syncs, then it leaves it", async () => {
    const headers = await admin();
    const category = await mappedCategory(PLUGGY.pix);
    const userId = uniqueUser();
    const { transaction } = await pluggyBackedTransaction(userId);
    // Pluggy refuses the first try: the consumer marks the job failed and indexes it.
    const job = await makeSyncJob(transaction, category.id);
    const faultId = await sim.fault({ path: `^/transactions/${transaction.pluggyId}$`, method: "PATCH", status: 400, codeDescription: "X", message: "refused", times: 1 });
    await deliver(messageOf(job));
    await sim.clearFault(faultId);
    const listed = async () => ((await body(await call("/api/admin/category-syncs/?status=failed&limit=200", { headers }))).data as Array<{ id: string }>).some((row) => row.id === job.id);
    expect(await listed()).toBe(true);
    expect(await attentionOf(job.id)).toMatchObject({ userId, status: "failed" });

    expect((await call(`/api/admin/category-syncs/${job.id}/retry/`, { method: "POST", headers })).status).toBe(202);
    await vi.waitUntil(async () => (await readJob(job)).status === "synced", { timeout: 15_000, interval: 100 });
    expect(await listed()).toBe(false);
    expect(await attentionOf(job.id)).toBeUndefined();
  });

  it("a job pending for more than 10 minutes is in the global list until it syncs, then it leaves it", async () => {
    const headers = await admin();
    const category = await mappedCategory(PLUGGY.pix);
    const userId = uniqueUser();
    const { transaction } = await pluggyBackedTransaction(userId);
    const job = await makeSyncJob(transaction, category.id, { pendingSince: new Date(Date.now() - 11 * 60_000).toISOString() });
    await armLedgerAlarm(userId);
    await runLedgerAlarm(userId);
    const listed = async () => ((await body(await call("/api/admin/category-syncs/?limit=200", { headers }))).data as Array<{ id: string }>).some((row) => row.id === job.id);
    expect(await listed()).toBe(true);
    // Its message finally arrives and Pluggy takes it: synced, and out of the index.
    await deliver(messageOf(job));
    expect((await readJob(job)).status).toBe("synced");
    expect(await listed()).toBe(false);
    expect(await attentionOf(job.id)).toBeUndefined();
  });

  it.each(["?status=lost", "?limit=0", "?limit=201", "?cursor=zzz", "?foo=1", "?status=synced", "?user_id="])("400 for %s", async (query) => {
    const res = await call(`/api/admin/category-syncs/${query}`, { headers: await admin() });
    expect(res.status).toBe(400);
  });

  it("retry puts one failed job back to pending and queues it (202 {queued: 1}): it then syncs and Pluggy holds the category; 404 for an unknown job", async () => {
    const headers = await admin();
    const category = await mappedCategory(PLUGGY.pix);
    const userId = uniqueUser();
    const { item, transaction, pluggyTransactionId } = await pluggyBackedTransaction(userId);
    const job = await makeSyncJob(transaction, category.id, { status: "failed", lastError: "400 X: y", attempts: 1 });
    expect(await pluggyPatches(pluggyTransactionId)).toEqual([]);
    const res = await call(`/api/admin/category-syncs/${job.id}/retry/`, { method: "POST", headers });
    expect(res.status).toBe(202);
    expect(await body(res)).toEqual({ data: { queued: 1 } });
    await vi.waitUntil(async () => (await readJob(job)).status === "synced", { timeout: 15_000, interval: 100 });
    const after = await readJob(job);
    expect(after).toMatchObject({ status: "synced", attempts: 2, lastError: null, pluggyCategoryId: PLUGGY.pix });
    expect(after.updatedAt > job.updatedAt).toBe(true);
    expect(await simCategoryOf(item.id, pluggyTransactionId)).toBe(PLUGGY.pix);
    expect((await pluggyPatches(pluggyTransactionId)).map((request) => request.body)).toEqual([{ categoryId: PLUGGY.pix }]);
    expect((await call(`/api/admin/category-syncs/${crypto.randomUUID()}/retry/`, { method: "POST", headers })).status).toBe(404);
  });

  it("retry finds a job that needs no operator (synced) only with its owner's user_id", async () => {
    const headers = await admin();
    const category = await mappedCategory(PLUGGY.pix);
    const userId = uniqueUser();
    const job = await makeSyncJob(await localTransaction(userId), category.id, { status: "synced" });
    expect((await call(`/api/admin/category-syncs/${job.id}/retry/`, { method: "POST", headers })).status).toBe(404);
    expect((await call(`/api/admin/category-syncs/${job.id}/retry/?user_id=${uniqueUser()}`, { method: "POST", headers })).status).toBe(404);
    const res = await call(`/api/admin/category-syncs/${job.id}/retry/?user_id=${userId}`, { method: "POST", headers });
    expect(res.status).toBe(202);
    expect(await body(res)).toEqual({ data: { queued: 1 } });
    expect((await readJob(job)).status).not.toBe("synced");
  });

  it("redrive re-queues up to limit jobs of the given status, oldest first", async () => {
    const headers = await admin();
    const category = await mappedCategory(PLUGGY.pix);
    const userId = uniqueUser();
    // Dead jobs: once redriven they end failed (Pluggy does not know these transactions), never dead again,
    // so the counts below cannot race the consumer.
    for (let i = 0; i < 3; i++) await makeSyncJob(await localTransaction(userId), category.id, { status: "dead", lastError: "x" });
    const before = await body(await call("/api/admin/category-syncs/?status=dead&limit=200", { headers }));
    expect(before.data.length).toBeGreaterThanOrEqual(3);
    const limited = await call("/api/admin/category-syncs/redrive/", { method: "POST", headers, json: { status: "dead", limit: 2 } });
    expect(limited.status).toBe(202);
    expect(await body(limited)).toEqual({ data: { queued: 2 } });
    const rest = await body(await call("/api/admin/category-syncs/redrive", { method: "POST", headers, json: { status: "dead" } }));
    expect(rest.data.queued).toBe(before.data.length - 2);
    const none = await body(await call("/api/admin/category-syncs/redrive", { method: "POST", headers, json: { status: "dead" } }));
    expect(none.data.queued).toBe(0);
  });

  it.each([
    { name: "a status that cannot be redriven", json: { status: "pending" } },
    { name: "a limit over 1000", json: { status: "dead", limit: 1001 } },
    { name: "an extra field", json: { status: "dead", dry_run: true } },
    { name: "no status", json: {} },
  ])("redrive 400 for $name", async ({ json }) => {
    const res = await call("/api/admin/category-syncs/redrive/", { method: "POST", headers: await admin(), json });
    expect(res.status).toBe(400);
    expect((await body(res)).error.code).toBe("validation_error");
  });
});
