import { describe, expect, it } from "vitest";
import { authHeaders, uniqueUser } from "../helpers/auth.ts";
import { makeAccount, makeCategory, makeItem, makeTransaction } from "../helpers/factories.ts";
import { body, call } from "../helpers/http.ts";
import { inLedger } from "../helpers/ledger.ts";
import { sim } from "../helpers/simulator.ts";

/*
 * Each user's banking data lives in their own ledger; through the API two users' data never meet. User
 * A can neither list, read, filter by, change nor delete anything of user B's, and a user who has never
 * connected anything gets empty lists from a fresh ledger that the reads leave empty.
 */

/** A user with an item at the simulator (registered locally), an account and a categorized transaction. */
async function userWithData(label: string) {
  const userId = uniqueUser(label);
  const { item: pluggyItem } = await sim.createItem({ clientUserId: userId, transactionsPerAccount: 0 });
  const item = await makeItem(userId, { id: pluggyItem.id });
  const account = await makeAccount(userId, item.id);
  const category = await makeCategory();
  const transaction = await makeTransaction(userId, account, { description: `Mercado ${label}`, categoryId: category.id });
  return { userId, item, account, category, transaction, headers: await authHeaders(userId) };
}

const ids = async (res: Response): Promise<string[]> => {
  expect(res.status).toBe(200);
  return (await body(res)).data.map((row: { id: string }) => row.id);
};

describe("two users' data never meet", () => {
  it("each list holds only the caller's rows, and B's ids as filters match nothing for A", async () => {
    const a = await userWithData("a");
    const b = await userWithData("b");
    for (const [me, other] of [
      [a, b],
      [b, a],
    ] as const) {
      expect(await ids(await call("/api/banking/items/", { headers: me.headers }))).toEqual([me.item.id]);
      expect(await ids(await call("/api/banking/accounts/", { headers: me.headers }))).toEqual([me.account.id]);
      expect(await ids(await call("/api/banking/transactions/", { headers: me.headers }))).toEqual([me.transaction.id]);
      for (const query of [`item_id=${other.item.id}`, `account_id=${other.account.id}`, `category_id=${other.category.id}`]) {
        expect([query, await ids(await call(`/api/banking/transactions/?${query}`, { headers: me.headers }))]).toEqual([query, []]);
      }
      expect(await ids(await call(`/api/banking/accounts/?item_id=${other.item.id}`, { headers: me.headers }))).toEqual([]);
      // Both descriptions contain "Mercado": the search finds the caller's only.
      expect(await ids(await call("/api/banking/transactions/?search=mercado", { headers: me.headers }))).toEqual([me.transaction.id]);
    }
  });

  it("A cannot read, change, refresh or delete B's transaction or item: 404, and B's data is untouched", async () => {
    const a = await userWithData("a");
    const b = await userWithData("b");
    const attempts: [string, string, unknown][] = [
      ["GET", `/api/banking/transactions/${b.transaction.id}/`, undefined],
      ["PATCH", `/api/banking/transactions/${b.transaction.id}/`, { category: null }],
      ["POST", `/api/banking/items/${b.item.id}/refresh/`, undefined],
      ["DELETE", `/api/banking/items/${b.item.id}/`, undefined],
      ["POST", "/api/banking/items/", { item_id: b.item.id }],
      ["POST", "/api/banking/pluggy/connect-token/", { item_id: b.item.id }],
    ];
    for (const [method, path, json] of attempts) {
      const res = await call(path, { method, headers: a.headers, ...(json !== undefined ? { json } : {}) });
      expect([method, path, res.status, (await body(res)).error?.code]).toEqual([method, path, 404, "not_found"]);
    }
    // Pluggy was never asked to change B's item on A's behalf.
    expect(await sim.requests({ path: b.item.id, method: "PATCH" })).toEqual([]);
    expect(await sim.requests({ path: b.item.id, method: "DELETE" })).toEqual([]);
    // B still sees exactly what B had, category included; A's ledger holds nothing of B's.
    expect((await body(await call(`/api/banking/transactions/${b.transaction.id}/`, { headers: b.headers }))).data).toMatchObject({
      id: b.transaction.id,
      category: { id: b.category.id },
    });
    expect(await ids(await call("/api/banking/items/", { headers: b.headers }))).toEqual([b.item.id]);
    expect(await inLedger(a.userId, (_db, ledger) => ledger.footprint())).toEqual({ items: 1, accounts: 1, transactions: 1, categorySyncJobs: 0 });
    expect(await inLedger(a.userId, (_db, ledger) => ledger.getItem(b.item.id))).toBeNull();
  });
});

describe("a user who never connected anything", () => {
  it("gets empty lists (not an error) from a fresh ledger, and the reads write nothing into it", async () => {
    const userId = uniqueUser("new");
    const headers = await authHeaders(userId);
    for (const path of ["/api/banking/items/", "/api/banking/accounts/", "/api/banking/transactions/", "/api/banking/transactions/?search=x&category_id=none"]) {
      const res = await call(path, { headers });
      expect([path, res.status, await body(res)]).toEqual([path, 200, { data: [], next_cursor: null }]);
    }
    const missing = await call(`/api/banking/transactions/${crypto.randomUUID()}/`, { headers });
    expect(missing.status).toBe(404);
    // Reads never bind the ledger to a user or store a row: it is as empty as a ledger can be.
    expect(await inLedger(userId, (_db, ledger) => ({ owner: ledger.owner(), footprint: ledger.footprint() }))).toEqual({
      owner: null,
      footprint: { items: 0, accounts: 0, transactions: 0, categorySyncJobs: 0 },
    });
  });
});
