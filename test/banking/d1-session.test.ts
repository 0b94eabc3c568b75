import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { authHeaders, uniqueUser } from "../helpers/auth.ts";
import { makeAccount, makeCategory, makeItem, makeTransaction } from "../helpers/factories.ts";
import { body, call, callWithEnv } from "../helpers/http.ts";
import { sim } from "../helpers/simulator.ts";
import { expectValidationError } from "./support.ts";

/*
 * `X-D1-Bookmark` now that a user's banking data lives in their own ledger (strongly consistent): a
 * write is visible to the very next read with no bookmark at all. The header stays accepted (validated:
 * a malformed one is a 400), is never required, starts the request's D1 session where the route reads
 * the catalog (categories, the names of the categories on a page of transactions), and comes back.
 */

const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

type SessionStart = Parameters<D1Database["withSession"]>[0];

/**
 * The real D1 binding, recording where each session the app opens starts (`withSession`'s argument)
 * and how many statements the sessions ran. Local D1 has no replicas, so what a session reads cannot
 * show whether a bookmark was honoured; the argument can. Every call still goes to the real binding.
 */
function observedD1(): { db: D1Database; starts: SessionStart[]; statements: () => number } {
  const starts: SessionStart[] = [];
  let statements = 0;
  const forward = <T extends object>(target: T, property: string | symbol): unknown => {
    const value: unknown = Reflect.get(target, property, target);
    return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
  };
  const db = new Proxy(env.DB, {
    get(target, property) {
      if (property === "withSession") {
        return (start?: SessionStart) => {
          starts.push(start);
          const session = target.withSession(start);
          return new Proxy(session, {
            get(inner, name) {
              if (name === "prepare" || name === "batch" || name === "exec") statements++;
              return forward(inner, name);
            },
          });
        };
      }
      return forward(target, property);
    },
  });
  return { db, starts, statements: () => statements };
}

/** A bookmark of the current D1 state, taken on a primary session as a write route would hand it out. */
async function freshBookmark(): Promise<string> {
  const session = env.DB.withSession("first-primary");
  await session.prepare("SELECT 1").first();
  const bookmark = session.getBookmark() ?? "";
  expect(bookmark).toMatch(BOOKMARK);
  return bookmark;
}

const READ_PATHS = ["/api/banking/transactions/", "/api/banking/categories/", "/api/banking/accounts/", "/api/banking/items/"];

describe.each(READ_PATHS)("X-D1-Bookmark on GET %s", (path) => {
  it("is optional: no header (or an empty one) answers 200", async () => {
    const headers = await authHeaders(uniqueUser());
    expect((await call(path, { headers })).status).toBe(200);
    expect((await call(path, { headers: { ...headers, "X-D1-Bookmark": "" } })).status).toBe(200);
  });

  it("accepts a bookmark sent back and answers with one at least as new", async () => {
    const headers = await authHeaders(uniqueUser());
    const sent = await freshBookmark();
    const res = await call(path, { headers: { ...headers, "X-D1-Bookmark": sent } });
    expect(res.status).toBe(200);
    const answered = res.headers.get("X-D1-Bookmark") ?? "";
    expect(answered).toMatch(BOOKMARK);
    // Bookmarks are ordered as strings (fixed-width hex), which is how D1 compares them.
    expect(answered >= sent).toBe(true);
  });

  // Local D1 accepts any string as a bookmark and hands it back from getBookmark(): without this
  // check the header would be reflected into the response verbatim.
  it.each([
    ["garbage", "garbage"],
    ["a constraint name", "first-primary"],
    ["an over-long value", `00000000-00000001-00000000-${"0".repeat(32)}${"0".repeat(4000)}`],
    ["a bookmark with a group missing", "00000000-00000001-00000000"],
    ["non-hex digits", "0000000g-00000001-00000000-00000000000000000000000000000000"],
  ])("refuses %s with 400 naming X-D1-Bookmark, and reflects nothing", async (_case, value) => {
    const res = await call(path, { headers: { ...(await authHeaders(uniqueUser())), "X-D1-Bookmark": value } });
    expect(res.headers.get("X-D1-Bookmark")).toBeNull();
    await expectValidationError(res, "X-D1-Bookmark");
  });
});

describe("where the route reads the catalog, the answer carries the session's bookmark", () => {
  it("GET /categories/ (the catalog's tree)", async () => {
    const res = await call("/api/banking/categories/", { headers: await authHeaders(uniqueUser()) });
    expect(res.status).toBe(200);
    expect(res.headers.get("X-D1-Bookmark")).toMatch(BOOKMARK);
  });

  it("GET /transactions/ and /transactions/{id} with a categorized row (its name comes from the catalog)", async () => {
    const userId = uniqueUser();
    const headers = await authHeaders(userId);
    const account = await makeAccount(userId, (await makeItem(userId)).id);
    const tx = await makeTransaction(userId, account, { categoryId: (await makeCategory()).id });
    for (const path of ["/api/banking/transactions/", `/api/banking/transactions/${tx.id}/`]) {
      const res = await call(path, { headers });
      expect([path, res.status]).toEqual([path, 200]);
      expect(res.headers.get("X-D1-Bookmark")).toMatch(BOOKMARK);
    }
  });

  it("items and accounts read nothing from D1: no bookmark of their own, the client's comes back unchanged", async () => {
    const userId = uniqueUser();
    const headers = await authHeaders(userId);
    await makeAccount(userId, (await makeItem(userId)).id);
    const sent = await freshBookmark();
    for (const path of ["/api/banking/items/", "/api/banking/accounts/"]) {
      const observed = observedD1();
      const res = await callWithEnv(path, { headers }, { DB: observed.db });
      expect([path, res.status, (await body(res)).data.length]).toEqual([path, 200, 1]);
      expect(res.headers.get("X-D1-Bookmark")).toBeNull();
      expect(observed.statements()).toBe(0);
      const echoed = await call(path, { headers: { ...headers, "X-D1-Bookmark": sent } });
      expect(echoed.headers.get("X-D1-Bookmark")).toBe(sent);
    }
  });
});

describe("read-your-writes", () => {
  it("a write is visible to the very next read without any bookmark (register, refresh, delete, then list)", async () => {
    const userId = uniqueUser();
    const headers = await authHeaders(userId);
    const { item } = await sim.createItem({ clientUserId: userId, transactionsPerAccount: 0 });
    const read = async (path: string) => {
      const observed = observedD1();
      const res = await callWithEnv(path, { headers }, { DB: observed.db });
      expect(res.status).toBe(200);
      // Any replica would do: the rows come from the user's ledger, not from D1.
      expect(observed.starts).toEqual(["first-unconstrained"]);
      expect(observed.statements()).toBe(0);
      return (await body(res)).data as { id: string; status: string }[];
    };

    expect((await call("/api/banking/items/", { method: "POST", headers, json: { item_id: item.id } })).status).toBe(201);
    expect((await read("/api/banking/items/")).map((i) => [i.id, i.status])).toEqual([[item.id, "UPDATED"]]);

    expect((await call(`/api/banking/items/${item.id}/refresh/`, { method: "POST", headers })).status).toBe(202);
    expect((await read("/api/banking/items/")).map((i) => [i.id, i.status])).toEqual([[item.id, "UPDATING"]]);

    expect((await call(`/api/banking/items/${item.id}/`, { method: "DELETE", headers })).status).toBe(204);
    expect(await read("/api/banking/items/")).toEqual([]);
    expect(await read(`/api/banking/accounts/?item_id=${item.id}`)).toEqual([]);
  });

  it("the client's bookmark is still where a catalog read's session starts", async () => {
    const userId = uniqueUser();
    const headers = await authHeaders(userId);
    const account = await makeAccount(userId, (await makeItem(userId)).id);
    // A category written just now (the catalog), then a bookmark that covers it.
    const category = await makeCategory({ name: "written just now" });
    const tx = await makeTransaction(userId, account, { categoryId: category.id });
    const bookmark = await freshBookmark();
    for (const path of [`/api/banking/transactions/${tx.id}`, "/api/banking/transactions/", "/api/banking/categories/"]) {
      const { db, starts } = observedD1();
      const res = await callWithEnv(path, { headers: { ...headers, "X-D1-Bookmark": bookmark } }, { DB: db });
      expect([path, res.status]).toEqual([path, 200]);
      expect(starts).toEqual([bookmark]);
      expect((res.headers.get("X-D1-Bookmark") ?? "") >= bookmark).toBe(true);
    }
    const one = await callWithEnv(`/api/banking/transactions/${tx.id}`, { headers: { ...headers, "X-D1-Bookmark": bookmark } }, { DB: observedD1().db });
    expect((await body(one)).data.category).toEqual({ id: category.id, name: "written just now" });
  });

  it.each(READ_PATHS)("GET %s without a bookmark (or an empty one) starts its session first-unconstrained: any replica", async (path) => {
    const headers = await authHeaders(uniqueUser());
    const variants: Record<string, string>[] = [{}, { "X-D1-Bookmark": "" }];
    for (const sent of variants) {
      const { db, starts } = observedD1();
      const res = await callWithEnv(path, { headers: { ...headers, ...sent } }, { DB: db });
      expect(res.status).toBe(200);
      expect(starts).toEqual(["first-unconstrained"]);
    }
  });

  it("a write route that reads the catalog (registering: the item directory) starts first-primary without a bookmark, and at the client's bookmark with one", async () => {
    const userId = uniqueUser();
    const headers = await authHeaders(userId);
    const { item } = await sim.createItem({ clientUserId: userId, transactionsPerAccount: 0 });
    const register = (extra: Record<string, string>, db: D1Database) => callWithEnv("/api/banking/items/", { method: "POST", headers: { ...headers, ...extra }, json: { item_id: item.id } }, { DB: db });

    const first = observedD1();
    const written = await register({}, first.db);
    expect(written.status).toBe(201);
    expect(first.starts).toEqual(["first-primary"]);
    const bookmark = written.headers.get("X-D1-Bookmark") ?? "";
    expect(bookmark).toMatch(BOOKMARK);

    const second = observedD1();
    const again = await register({ "X-D1-Bookmark": bookmark }, second.db);
    expect(again.status).toBe(200);
    expect(second.starts).toEqual([bookmark]);
    expect((again.headers.get("X-D1-Bookmark") ?? "") >= bookmark).toBe(true);
  });

  it("an error answer still carries the bookmark: the session's after a catalog read, else the one sent", async () => {
    const headers = await authHeaders(uniqueUser());
    // Registering an item unknown to Pluggy reads the catalog's directory first.
    const refused = await call("/api/banking/items/", { method: "POST", headers, json: { item_id: crypto.randomUUID() } });
    expect(refused.status).toBe(404);
    expect(refused.headers.get("X-D1-Bookmark")).toMatch(BOOKMARK);
    // A missing transaction is answered by the ledger alone.
    const sent = await freshBookmark();
    const missing = await call(`/api/banking/transactions/${crypto.randomUUID()}`, { headers: { ...headers, "X-D1-Bookmark": sent } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("X-D1-Bookmark")).toBe(sent);
  });

  it("a request refused before reading (401) carries no bookmark", async () => {
    const res = await call("/api/banking/transactions/");
    expect(res.status).toBe(401);
    expect(res.headers.get("X-D1-Bookmark")).toBeNull();
  });
});
