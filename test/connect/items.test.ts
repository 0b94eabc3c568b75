import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { itemDirectory } from "../../src/catalog/directory.schema.ts";
import { createDb } from "../../src/db/client.ts";
import { accounts, categorySyncJobs, items, transactions } from "../../src/ledger/ledger.schema.ts";
import { authHeaders, tokenFor, uniqueUser } from "../helpers/auth.ts";
import { makeAccount, makeItem, makeTransaction } from "../helpers/factories.ts";
import { body, call } from "../helpers/http.ts";
import { inLedger } from "../helpers/ledger.ts";
import { eventsQueueSettled } from "../helpers/queues.ts";
import { exactPath, sim } from "../helpers/simulator.ts";

/*
 * Registering, refreshing and deleting bank connections: ownership decided by Pluggy's
 * clientUserId, Pluggy's refusals and failures in the contract's envelope, local data kept consistent:
 * the item in its owner's ledger, its owner in the catalog's item directory.
 */

const db = () => createDb(env.DB);

/** Who the catalog's item directory says owns the item (empty when it does not know it). */
const directoryEntry = (itemId: string) => db().select({ itemId: itemDirectory.itemId, userId: itemDirectory.userId }).from(itemDirectory).where(eq(itemDirectory.itemId, itemId)).all();

/** The item's row in `user`'s ledger, or null. */
const ledgerItem = (user: string, itemId: string) => inLedger(user, (ledger) => ledger.select().from(items).where(eq(items.id, itemId)).get() ?? null);

async function register(user: string, itemId: string): Promise<Response> {
  return call("/api/banking/items/", { method: "POST", headers: await authHeaders(user), json: { item_id: itemId } });
}

async function refresh(user: string, itemId: string): Promise<Response> {
  return call(`/api/banking/items/${itemId}/refresh/`, { method: "POST", headers: await authHeaders(user) });
}

async function remove(user: string, itemId: string): Promise<Response> {
  return call(`/api/banking/items/${itemId}/`, { method: "DELETE", headers: await authHeaders(user) });
}

/** An item at the simulator, registered locally to `user` without going through the API (no sync queued). */
async function registeredItem(user: string, options: { transactionsPerAccount?: number } = {}) {
  const created = await sim.createItem({ clientUserId: user, transactionsPerAccount: options.transactionsPerAccount ?? 0 });
  await makeItem(user, { id: created.item.id, status: "UPDATED", executionStatus: "SUCCESS" });
  return created;
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const AUTH_FAILURES: [string, () => Promise<Record<string, string>>][] = [
  ["no token", async () => ({})],
  ["a bad token", async () => ({ Authorization: `Bearer ${await tokenFor(uniqueUser(), { secret: "wrong-secret-0123456789abcdef0123456789" })}` })],
];

describe.each([
  { method: "POST", route: "/api/banking/items/", path: (_id: string): string => "/api/banking/items/", json: (id: string): unknown => ({ item_id: id }) },
  { method: "POST", route: "/api/banking/items/{id}/refresh/", path: (id: string): string => `/api/banking/items/${id}/refresh/`, json: (): unknown => undefined },
  { method: "DELETE", route: "/api/banking/items/{id}/", path: (id: string): string => `/api/banking/items/${id}/`, json: (): unknown => undefined },
])("$method $route: authentication", ({ method, path, json }) => {
  it.each(AUTH_FAILURES)("401 with %s, and Pluggy is never called", async (_name, headers) => {
    const user = uniqueUser();
    const { item } = await registeredItem(user);
    const payload = json(item.id);
    const res = await call(path(item.id), { method, headers: await headers(), ...(payload ? { json: payload } : {}) });
    expect(res.status).toBe(401);
    expect((await body(res)).error.code).toBe("unauthorized");
    expect(await sim.requests({ path: item.id })).toEqual([]);
  });
});

describe("POST /api/banking/items/ (register)", () => {
  it("registers an item Pluggy created for the caller: 201 with the Item shape, then queues its first sync", async () => {
    const user = uniqueUser();
    const created = await sim.createItem({ clientUserId: user, connectorId: 212, transactionsPerAccount: 3 });
    const res = await register(user, created.item.id);
    expect(res.status).toBe(201);
    expect(await body(res)).toEqual({
      data: {
        id: created.item.id,
        connector: { id: 212, name: "Nubank", image_url: created.item.connector.imageUrl },
        status: "UPDATED",
        execution_status: "SUCCESS",
        error: null,
        last_updated_at: created.item.lastUpdatedAt,
        created_at: created.item.createdAt,
      },
    });
    const listed = await body(await call("/api/banking/items/", { headers: await authHeaders(user) }));
    expect(listed.data.map((item: { id: string }) => item.id)).toEqual([created.item.id]);
    // The catalog's item directory names the caller as the owner; the item lives in the caller's ledger.
    expect(await directoryEntry(created.item.id)).toEqual([{ itemId: created.item.id, userId: user }]);
    expect(await ledgerItem(user, created.item.id)).toMatchObject({ id: created.item.id, connectorId: 212, status: "UPDATED" });

    const synced = await eventually(
      async () => (await body(await call(`/api/banking/transactions/?item_id=${created.item.id}`, { headers: await authHeaders(user) }))).data as unknown[],
      (rows) => rows.length === 6,
    );
    expect(synced).toHaveLength(6);
    const accountList = await body(await call(`/api/banking/accounts/?item_id=${created.item.id}`, { headers: await authHeaders(user) }));
    expect(accountList.data.map((account: { pluggy_id: string }) => account.pluggy_id).sort()).toEqual(created.accounts.map((account) => account.id).sort());
  });

  it("answers 200 when the item is already the caller's, refreshing its state from Pluggy", async () => {
    const user = uniqueUser();
    const { item } = await registeredItem(user);
    await sim.updateItem(item.id, { status: "LOGIN_ERROR", executionStatus: "INVALID_CREDENTIALS", error: { code: "INVALID_CREDENTIALS", message: "Credenciais inválidas" } });
    const res = await register(user, item.id);
    expect(res.status).toBe(200);
    expect((await body(res)).data).toMatchObject({ id: item.id, status: "LOGIN_ERROR", execution_status: "INVALID_CREDENTIALS", error: { code: "INVALID_CREDENTIALS", message: "Credenciais inválidas" } });
  });

  it.each([
    ["created for another user (clientUserId)", async (_caller: string) => (await sim.createItem({ clientUserId: uniqueUser("other"), transactionsPerAccount: 0 })).item.id],
    ["already registered to another user", async (caller: string) => {
      const { item } = await sim.createItem({ clientUserId: caller, transactionsPerAccount: 0 });
      await makeItem(uniqueUser("other"), { id: item.id });
      return item.id;
    }],
    ["unknown to Pluggy", async () => crypto.randomUUID()],
  ])("answers 404 not_found for an item %s, and stores nothing", async (_name, makeId) => {
    const user = uniqueUser();
    const itemId = await makeId(user);
    const before = await directoryEntry(itemId);
    const res = await register(user, itemId);
    expect(res.status).toBe(404);
    expect((await body(res)).error).toMatchObject({ code: "not_found", message: "item not found" });
    expect(await directoryEntry(itemId)).toEqual(before);
    expect(await ledgerItem(user, itemId)).toBeNull();
    expect((await body(await call("/api/banking/items/", { headers: await authHeaders(user) }))).data).toEqual([]);
  });

  it.each([
    ["no body", undefined, "item_id"],
    ["a missing item_id", {}, "item_id"],
    ["an item_id that is not a uuid", { item_id: "abc" }, "item_id"],
    ["an unknown field", { item_id: crypto.randomUUID(), user_id: "x" }, "user_id"],
  ])("refuses %s with 400 validation_error", async (_name, json, field) => {
    const res = await call("/api/banking/items/", { method: "POST", headers: await authHeaders(uniqueUser()), ...(json !== undefined ? { json } : {}) });
    expect(res.status).toBe(400);
    const { error } = await body(res);
    expect(error.code).toBe("validation_error");
    expect(error.details.map((detail: { field: string }) => detail.field)).toContain(field);
  });

  it.each([
    [500, 502, "upstream_error"],
    [503, 503, "upstream_unavailable"],
  ])("answers Pluggy's persistent %i as %i %s after one read retry (interactive profile), storing nothing", async (pluggyStatus, status, code) => {
    const user = uniqueUser();
    const { item } = await sim.createItem({ clientUserId: user, transactionsPerAccount: 0 });
    await sim.fault({ path: exactPath(`/items/${item.id}`), method: "GET", status: pluggyStatus, times: 10, message: "stack trace at line 1" });
    const res = await register(user, item.id);
    expect(res.status).toBe(status);
    const { error } = await body(res);
    expect(error.code).toBe(code);
    expect(error.message).not.toContain("stack trace");
    expect(await sim.requests({ path: exactPath(`/items/${item.id}`), method: "GET" })).toHaveLength(2);
    expect(await directoryEntry(item.id)).toEqual([]);
    expect(await ledgerItem(user, item.id)).toBeNull();
  });

  it("answers a Pluggy that does not answer with 503 upstream_unavailable within the interactive budget (≈8 s), storing nothing", async () => {
    const user = uniqueUser();
    const { item } = await sim.createItem({ clientUserId: user, transactionsPerAccount: 0 });
    await sim.fault({ path: exactPath(`/items/${item.id}`), method: "GET", delayMs: 20_000, times: 5 });
    const res = await register(user, item.id);
    expect(res.status).toBe(503);
    expect((await body(res)).error).toMatchObject({ code: "upstream_unavailable", message: "Pluggy did not answer in time" });
    // The attempt and its one retry, both cut off: the simulator is still holding both (no answer yet)
    // when the app has answered — not the background profile's 3 × 15 s. (The bench measures time.)
    const reads = await sim.requests({ path: exactPath(`/items/${item.id}`), method: "GET" });
    expect(reads.map((read) => read.status)).toEqual([null, null]);
    expect(await directoryEntry(item.id)).toEqual([]);
    expect(await ledgerItem(user, item.id)).toBeNull();
  });

  it("answers 201 to exactly one of concurrent registrations of one item, 200 to the rest, and queues one first sync", async () => {
    const user = uniqueUser();
    const created = await sim.createItem({ clientUserId: user, transactionsPerAccount: 2 });
    const responses = await Promise.all(Array.from({ length: 6 }, () => register(user, created.item.id)));
    expect(responses.map((res) => res.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    for (const res of responses) expect((await body(res)).data.id).toBe(created.item.id);

    const synced = await eventually(
      async () => (await body(await call(`/api/banking/transactions/?item_id=${created.item.id}`, { headers: await authHeaders(user) }))).data as unknown[],
      (rows) => rows.length === 4,
    );
    expect(synced).toHaveLength(4);
    // Every item.sync reads the item's accounts once; any extra sync queued by the registrations has been
    // delivered once a sentinel sent after them is.
    await eventsQueueSettled();
    expect(await sim.requests({ path: `^/accounts\\?itemId=${created.item.id}$`, method: "GET" })).toHaveLength(1);
  });

  it("rides out one Pluggy 5xx on the read (retried) and registers", async () => {
    const user = uniqueUser();
    const { item } = await sim.createItem({ clientUserId: user, transactionsPerAccount: 0 });
    await sim.fault({ path: exactPath(`/items/${item.id}`), method: "GET", status: 502 });
    expect((await register(user, item.id)).status).toBe(201);
  });
});

describe("POST /api/banking/items/{id}/refresh/", () => {
  it("asks Pluggy to update the item: 202 with the item as Pluggy now reports it, stored locally", async () => {
    const user = uniqueUser();
    const { item } = await registeredItem(user);
    const res = await refresh(user, item.id);
    expect(res.status).toBe(202);
    expect((await body(res)).data).toMatchObject({ id: item.id, status: "UPDATING", execution_status: "CREATED", error: null });
    expect(await sim.requests({ path: exactPath(`/items/${item.id}`), method: "PATCH" })).toHaveLength(1);
    expect(await ledgerItem(user, item.id)).toMatchObject({ id: item.id, status: "UPDATING", executionStatus: "CREATED" });
    expect(await directoryEntry(item.id)).toEqual([{ itemId: item.id, userId: user }]);
    expect((await call(`/api/banking/items/${item.id}/refresh`, { method: "POST", headers: await authHeaders(user) })).status).toBe(409);
  });

  it("answers 409 conflict with Pluggy's reason while the item is already updating", async () => {
    const user = uniqueUser();
    const { item } = await registeredItem(user);
    expect((await refresh(user, item.id)).status).toBe(202);
    const res = await refresh(user, item.id);
    expect(res.status).toBe(409);
    const { error } = await body(res);
    expect(error.code).toBe("conflict");
    expect(error.message).toContain("ITEM_IS_ALREADY_UPDATING");
  });

  it("answers 409 conflict with Pluggy's reason when asked again before the allowed frequency", async () => {
    const user = uniqueUser();
    const { item } = await registeredItem(user);
    expect((await refresh(user, item.id)).status).toBe(202);
    await sim.updateItem(item.id, { status: "UPDATED", executionStatus: "SUCCESS" });
    const res = await refresh(user, item.id);
    expect(res.status).toBe(409);
    const { error } = await body(res);
    expect(error.code).toBe("conflict");
    expect(error.message).toContain("CLIENT_IS_UPDATING_BEFORE_ALLOWED_FREQUENCY");
  });

  it("answers Pluggy's 429 as 429 rate_limited with Retry-After from RateLimit-Reset, without retrying the write", async () => {
    const user = uniqueUser();
    const { item } = await registeredItem(user);
    await sim.fault({ path: exactPath(`/items/${item.id}`), method: "PATCH", status: 429, rateLimitReset: 37 });
    const res = await refresh(user, item.id);
    expect(res.status).toBe(429);
    expect(res.headers.get("Retry-After")).toBe("37");
    const { error } = await body(res);
    expect(error.code).toBe("rate_limited");
    expect(error.message).toContain("Pluggy");
    expect(await sim.requests({ path: exactPath(`/items/${item.id}`), method: "PATCH" })).toHaveLength(1);
  });

  it.each([
    [500, 502, "upstream_error"],
    [503, 503, "upstream_unavailable"],
  ])("answers Pluggy's %i as %i %s", async (pluggyStatus, status, code) => {
    const user = uniqueUser();
    const { item } = await registeredItem(user);
    await sim.fault({ path: exactPath(`/items/${item.id}`), method: "PATCH", status: pluggyStatus });
    const res = await refresh(user, item.id);
    expect(res.status).toBe(status);
    expect((await body(res)).error.code).toBe(code);
  });

  it.each([
    ["another user's item", async () => (await registeredItem(uniqueUser("owner"))).item.id],
    ["an unknown item", async () => crypto.randomUUID()],
    ["an item at Pluggy for the caller but not registered", async (caller: string) => (await sim.createItem({ clientUserId: caller, transactionsPerAccount: 0 })).item.id],
  ])("answers 404 for %s and never calls Pluggy", async (_name, makeId) => {
    const user = uniqueUser();
    const itemId = await makeId(user);
    const res = await refresh(user, itemId);
    expect(res.status).toBe(404);
    expect((await body(res)).error.code).toBe("not_found");
    expect(await sim.requests({ path: exactPath(`/items/${itemId}`), method: "PATCH" })).toEqual([]);
  });

  it("answers 404 when Pluggy no longer has the item", async () => {
    const user = uniqueUser();
    const { item } = await registeredItem(user);
    await sim.deleteItem(item.id);
    const res = await refresh(user, item.id);
    expect(res.status).toBe(404);
    expect((await body(res)).error.code).toBe("not_found");
  });
});

describe("DELETE /api/banking/items/{id}/", () => {
  async function itemWithData(user: string) {
    const created = await registeredItem(user);
    const account = await makeAccount(user, created.item.id);
    const transaction = await makeTransaction(user, account);
    const now = new Date().toISOString();
    await inLedger(user, (ledger) =>
      ledger
        .insert(categorySyncJobs)
        .values({
          id: crypto.randomUUID(),
          transactionId: transaction.id,
          pluggyTransactionId: transaction.pluggyId ?? "",
          categoryId: crypto.randomUUID(),
          version: 1,
          status: "pending",
          dueAt: now,
          createdAt: now,
          updatedAt: now,
        })
        .run(),
    );
    return { user, itemId: created.item.id, account, transaction };
  }

  /** What `user`'s ledger and the catalog's directory hold of the item. */
  async function localCounts(user: string, itemId: string, transactionId: string) {
    const held = await inLedger(user, (ledger) => ({
      items: ledger.select().from(items).where(eq(items.id, itemId)).all().length,
      accounts: ledger.select().from(accounts).where(eq(accounts.itemId, itemId)).all().length,
      transactions: ledger.select().from(transactions).where(eq(transactions.itemId, itemId)).all().length,
      jobs: ledger.select().from(categorySyncJobs).where(eq(categorySyncJobs.transactionId, transactionId)).all().length,
    }));
    return { ...held, directory: (await directoryEntry(itemId)).length };
  }

  it("deletes at Pluggy, then locally the item, its accounts, transactions and category-sync jobs: 204", async () => {
    const user = uniqueUser();
    const { itemId, transaction } = await itemWithData(user);
    expect(await localCounts(user, itemId, transaction.id)).toEqual({ items: 1, accounts: 1, transactions: 1, jobs: 1, directory: 1 });
    const res = await remove(user, itemId);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(await localCounts(user, itemId, transaction.id)).toEqual({ items: 0, accounts: 0, transactions: 0, jobs: 0, directory: 0 });
    await expect(sim.getItemState(itemId)).rejects.toThrow(/404/);
    expect(await sim.requests({ path: exactPath(`/items/${itemId}`), method: "DELETE" })).toHaveLength(1);
    const again = await remove(user, itemId);
    expect(again.status).toBe(404);
    expect((await body(again)).error.code).toBe("not_found");
  });

  it("treats an item Pluggy no longer has as already deleted there", async () => {
    const user = uniqueUser();
    const { itemId, transaction } = await itemWithData(user);
    await sim.deleteItem(itemId);
    expect((await remove(user, itemId)).status).toBe(204);
    expect(await localCounts(user, itemId, transaction.id)).toEqual({ items: 0, accounts: 0, transactions: 0, jobs: 0, directory: 0 });
  });

  it.each([
    [500, 502, "upstream_error"],
    [503, 503, "upstream_unavailable"],
    [429, 429, "rate_limited"],
  ])("keeps every local row when Pluggy answers %i (%i %s), and a retry then succeeds", async (pluggyStatus, status, code) => {
    const user = uniqueUser();
    const { itemId, transaction } = await itemWithData(user);
    await sim.fault({ path: exactPath(`/items/${itemId}`), method: "DELETE", status: pluggyStatus, rateLimitReset: 3 });
    const res = await remove(user, itemId);
    expect(res.status).toBe(status);
    expect((await body(res)).error.code).toBe(code);
    expect(await localCounts(user, itemId, transaction.id)).toEqual({ items: 1, accounts: 1, transactions: 1, jobs: 1, directory: 1 });
    expect((await sim.getItemState(itemId)).item.id).toBe(itemId);
    expect((await remove(user, itemId)).status).toBe(204);
    expect(await localCounts(user, itemId, transaction.id)).toEqual({ items: 0, accounts: 0, transactions: 0, jobs: 0, directory: 0 });
  });

  it("answers 404 for another user's item, and the owner's item, accounts, transactions and jobs are all still there", async () => {
    const owner = uniqueUser("owner");
    const { itemId, transaction } = await itemWithData(owner);
    const stranger = uniqueUser();
    const res = await remove(stranger, itemId);
    expect(res.status).toBe(404);
    expect((await body(res)).error.code).toBe("not_found");
    expect(await sim.requests({ path: exactPath(`/items/${itemId}`), method: "DELETE" })).toEqual([]);
    // Exactly one owner on record, the owner, and exactly one item in the owner's ledger: this one.
    expect(await directoryEntry(itemId)).toEqual([{ itemId, userId: owner }]);
    expect(await inLedger(owner, (ledger) => ledger.select({ id: items.id }).from(items).all())).toEqual([{ id: itemId }]);
    expect(await localCounts(owner, itemId, transaction.id)).toEqual({ items: 1, accounts: 1, transactions: 1, jobs: 1, directory: 1 });
    expect(await ledgerItem(stranger, itemId)).toBeNull();
    expect((await sim.getItemState(itemId)).item.id).toBe(itemId);
    const listed = await body(await call("/api/banking/items/", { headers: await authHeaders(owner) }));
    expect(listed.data.map((item: { id: string }) => item.id)).toEqual([itemId]);
  });

  it("finishes a deletion that stopped halfway: the ledger's data gone, the directory still naming the caller → 204, directory entry removed", async () => {
    const user = uniqueUser();
    const { itemId, transaction } = await itemWithData(user);
    await inLedger(user, (_db, ledger) => ledger.deleteItemData(itemId));
    expect(await localCounts(user, itemId, transaction.id)).toEqual({ items: 0, accounts: 0, transactions: 0, jobs: 0, directory: 1 });
    expect((await remove(user, itemId)).status).toBe(204);
    expect(await localCounts(user, itemId, transaction.id)).toEqual({ items: 0, accounts: 0, transactions: 0, jobs: 0, directory: 0 });
    expect(await sim.requests({ path: exactPath(`/items/${itemId}`), method: "DELETE" })).toHaveLength(1);
    // A stranger gets no such second chance: the directory names someone else.
    const other = await itemWithData(uniqueUser("owner"));
    expect((await remove(uniqueUser(), other.itemId)).status).toBe(404);
  });

  it("answers 404 for an unknown item, deleting nothing anywhere", async () => {
    const itemId = crypto.randomUUID();
    const res = await remove(uniqueUser(), itemId);
    expect(res.status).toBe(404);
    expect((await body(res)).error.code).toBe("not_found");
    expect(await sim.requests({ path: exactPath(`/items/${itemId}`), method: "DELETE" })).toEqual([]);
    expect(await directoryEntry(itemId)).toEqual([]);
  });

  it("leaves the caller's other items alone", async () => {
    const user = uniqueUser();
    const first = await itemWithData(user);
    const second = await itemWithData(user);
    expect((await remove(user, first.itemId)).status).toBe(204);
    expect(await localCounts(user, first.itemId, first.transaction.id)).toEqual({ items: 0, accounts: 0, transactions: 0, jobs: 0, directory: 0 });
    expect(await localCounts(user, second.itemId, second.transaction.id)).toEqual({ items: 1, accounts: 1, transactions: 1, jobs: 1, directory: 1 });
  });
});
