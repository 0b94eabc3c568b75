import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { authHeaders, uniqueUser } from "../helpers/auth.ts";
import { makeAccount, makeItem, makeTransaction } from "../helpers/factories.ts";
import { body, call, callWithEnv } from "../helpers/http.ts";
import { expectValidationError } from "./support.ts";

const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

type SessionStart = Parameters<D1Database["withSession"]>[0];

/**
 * The real D1 binding, recording where each session the app opens starts (`withSession`'s argument).
 * Local D1 has no replicas, so what a session reads cannot show whether a bookmark was honoured; the
 * argument can. Every call still goes to the real binding.
 */
function observedD1(): { db: D1Database; starts: SessionStart[] } {
  const starts: SessionStart[] = [];
  const db = new Proxy(env.DB, {
    get(target, property) {
      if (property === "withSession") {
        return (start?: SessionStart) => {
          starts.push(start);
          return target.withSession(start);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { db, starts };
}

const READ_PATHS = ["/api/banking/transactions/", "/api/banking/categories/", "/api/banking/accounts/", "/api/banking/items/"];

describe.each(READ_PATHS)("D1 session bookmark on GET %s", (path) => {
  it("answers with a bookmark in X-D1-Bookmark", async () => {
    const res = await call(path, { headers: await authHeaders(uniqueUser()) });
    expect(res.status).toBe(200);
    expect(res.headers.get("X-D1-Bookmark")).toMatch(BOOKMARK);
  });

  it("accepts a bookmark sent back and answers with one at least as new", async () => {
    const headers = await authHeaders(uniqueUser());
    const first = (await call(path, { headers })).headers.get("X-D1-Bookmark") ?? "";
    const res = await call(path, { headers: { ...headers, "X-D1-Bookmark": first } });
    expect(res.status).toBe(200);
    const second = res.headers.get("X-D1-Bookmark") ?? "";
    expect(second).toMatch(BOOKMARK);
    // Bookmarks are ordered as strings (fixed-width hex), which is how D1 compares them.
    expect(second >= first).toBe(true);
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
  it("treats an empty X-D1-Bookmark as no bookmark", async () => {
    const res = await call(path, { headers: { ...(await authHeaders(uniqueUser())), "X-D1-Bookmark": "" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("X-D1-Bookmark")).toMatch(BOOKMARK);
  });
});

describe("read-your-writes", () => {
  it("a bookmark taken after a write is where the next request's session starts, and that request reads the write", async () => {
    const userId = uniqueUser();
    const headers = await authHeaders(userId);
    const item = await makeItem(userId);
    const account = await makeAccount(userId, item.id);
    // A write through a primary session, as a write route does; its bookmark covers the write.
    const session = env.DB.withSession("first-primary");
    const tx = await makeTransaction(userId, account, { description: "written just now" });
    await session.prepare("SELECT id FROM transactions WHERE id = ?").bind(tx.id).first();
    const bookmark = session.getBookmark() ?? "";
    expect(bookmark).toMatch(BOOKMARK);
    const { db, starts } = observedD1();
    const res = await callWithEnv(`/api/banking/transactions/${tx.id}`, { headers: { ...headers, "X-D1-Bookmark": bookmark } }, { DB: db });
    expect(res.status).toBe(200);
    expect(starts).toEqual([bookmark]);
    expect((await body(res)).data.description).toBe("written just now");
    expect((res.headers.get("X-D1-Bookmark") ?? "") >= bookmark).toBe(true);
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

  it("a write route starts first-primary without a bookmark, and at the client's bookmark with one", async () => {
    const userId = uniqueUser();
    const headers = await authHeaders(userId);
    const account = await makeAccount(userId, (await makeItem(userId)).id);
    const tx = await makeTransaction(userId, account);
    const patch = (extra: Record<string, string>, db: D1Database) =>
      callWithEnv(`/api/banking/transactions/${tx.id}/`, { method: "PATCH", headers: { ...headers, ...extra }, json: { category: null } }, { DB: db });

    const first = observedD1();
    const written = await patch({}, first.db);
    expect(written.status).toBe(200);
    expect(first.starts).toEqual(["first-primary"]);
    const bookmark = written.headers.get("X-D1-Bookmark") ?? "";
    expect(bookmark).toMatch(BOOKMARK);

    const second = observedD1();
    expect((await patch({ "X-D1-Bookmark": bookmark }, second.db)).status).toBe(200);
    expect(second.starts).toEqual([bookmark]);
  });

  it("an error answer (404) still carries the session's bookmark", async () => {
    const res = await call(`/api/banking/transactions/${crypto.randomUUID()}`, { headers: await authHeaders(uniqueUser()) });
    expect(res.status).toBe(404);
    expect(res.headers.get("X-D1-Bookmark")).toMatch(BOOKMARK);
  });

  it("a request refused before reading (401) carries no bookmark", async () => {
    const res = await call("/api/banking/transactions/");
    expect(res.status).toBe(401);
    expect(res.headers.get("X-D1-Bookmark")).toBeNull();
  });
});
