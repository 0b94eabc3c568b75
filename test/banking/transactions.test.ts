import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client.ts";
import { categories } from "../../src/db/schema.ts";
import { categorySyncJobs, transactions } from "../../src/ledger/ledger.schema.ts";
import { encodeCursor } from "../../src/platform/cursor.ts";
import { authHeaders, uniqueUser } from "../helpers/auth.ts";
import { makeAccount, makeCategory, makeItem, makeTransaction } from "../helpers/factories.ts";
import { body, call } from "../helpers/http.ts";
import { inLedger } from "../helpers/ledger.ts";
import { expectValidationError, walkPages } from "./support.ts";

const LIST = "/api/banking/transactions/";

type Row = { id: string; date: string };

/** The contract's order: newest date first, ties by id descending. */
const newestFirst = (a: Row, b: Row): number => (a.date === b.date ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : a.date < b.date ? 1 : -1);

const day = (offset: number): string => new Date(Date.UTC(2026, 0, 1) + offset * 86_400_000).toISOString().slice(0, 10);

/** A user with `count` transactions, four per day (so ties on date are everywhere). */
async function userWithRows(count: number) {
  const userId = uniqueUser();
  const item = await makeItem(userId);
  const account = await makeAccount(userId, item.id);
  const rows: Row[] = [];
  for (let start = 0; start < count; start += 20) {
    const batch = Array.from({ length: Math.min(20, count - start) }, (_, k) => makeTransaction(userId, account, { date: day(Math.floor((start + k) / 4)) }));
    rows.push(...(await Promise.all(batch)));
  }
  return { userId, item, account, rows, headers: await authHeaders(userId) };
}

/** uuid-shaped ids just above / just below `id` in byte order (same length, only hex digits). */
function idNextTo(id: string, direction: 1 | -1): string {
  const digits = id.replaceAll("-", "");
  const value = BigInt(`0x${digits}`) + BigInt(direction);
  const hex = value.toString(16).padStart(32, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

describe("transaction list pagination", () => {
  it("walks ~120 rows in pages of 7: newest first, ties by id desc, no duplicates, no gaps", async () => {
    const { rows, headers } = await userWithRows(122);
    const expected = [...rows].sort(newestFirst).map((r) => r.id);
    const { ids, pages } = await walkPages(`${LIST}?limit=7`, headers);
    expect(pages).toBe(Math.ceil(122 / 7));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expected);
  });

  it("the last page has next_cursor null, and an exact multiple ends without an empty page", async () => {
    const { headers } = await userWithRows(14);
    const first = await body(await call(`${LIST}?limit=7`, { headers }));
    expect(first.data).toHaveLength(7);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await body(await call(`${LIST}?limit=7&cursor=${first.next_cursor}`, { headers }));
    expect(second.data).toHaveLength(7);
    expect(second.next_cursor).toBeNull();
  });

  it("is stable when rows are inserted (and the cursor row deleted) between pages", async () => {
    const { userId, account, rows, headers } = await userWithRows(60);
    const original = [...rows].sort(newestFirst);
    const inserted: { row: Row; sortsAfterCursor: boolean }[] = [];
    let lastSeen: Row | undefined;
    const seen: string[] = [];
    let cursor: string | null = null;
    let page = 0;
    do {
      if (page === 3 && lastSeen) {
        const cursorRow: Row = lastSeen;
        const add = async (overrides: Row, sortsAfterCursor: boolean) => {
          inserted.push({ row: await makeTransaction(userId, account, overrides), sortsAfterCursor });
        };
        await add({ id: crypto.randomUUID(), date: "2027-06-01" }, false);
        await add({ id: crypto.randomUUID(), date: day(30) }, false);
        await add({ id: idNextTo(cursorRow.id, 1), date: cursorRow.date }, false);
        await add({ id: idNextTo(cursorRow.id, -1), date: cursorRow.date }, true);
        await add({ id: crypto.randomUUID(), date: "2020-01-01" }, true);
        // The row the cursor points at disappears: the walk must continue from its position anyway.
        const removed = await inLedger(userId, (db) => db.delete(transactions).where(eq(transactions.id, cursorRow.id)).returning({ id: transactions.id }).all());
        expect(removed).toHaveLength(1);
      }
      const res = await call(cursor ? `${LIST}?limit=9&cursor=${cursor}` : `${LIST}?limit=9`, { headers });
      expect(res.status).toBe(200);
      const json = await body(res);
      seen.push(...json.data.map((r: Row) => r.id));
      lastSeen = json.data.at(-1);
      cursor = json.next_cursor;
      page++;
    } while (cursor !== null);

    const expected = [...original, ...inserted.filter((i) => i.sortsAfterCursor).map((i) => i.row)].sort(newestFirst).map((r) => r.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expected);
    for (const { row, sortsAfterCursor } of inserted) expect(seen.includes(row.id)).toBe(sortsAfterCursor);
  });

  it("defaults to 50 rows and accepts the bounds 1 and 200", async () => {
    const { headers } = await userWithRows(60);
    const byDefault = await body(await call(LIST, { headers }));
    expect(byDefault.data).toHaveLength(50);
    expect(byDefault.next_cursor).toEqual(expect.any(String));
    expect((await body(await call(`${LIST}?limit=1`, { headers }))).data).toHaveLength(1);
    const all = await body(await call(`${LIST}?limit=200`, { headers }));
    expect(all.data).toHaveLength(60);
    expect(all.next_cursor).toBeNull();
  });

  it.each(["0", "201", "-1", "abc", "1.5", "", "1e3"])("refuses limit=%j with a validation error naming limit", async (limit) => {
    const headers = await authHeaders(uniqueUser());
    await expectValidationError(await call(`${LIST}?limit=${limit}`, { headers }), "limit");
  });

  it("refuses a repeated limit parameter", async () => {
    const headers = await authHeaders(uniqueUser());
    await expectValidationError(await call(`${LIST}?limit=5&limit=6`, { headers }), "limit");
  });
});

describe("tampered cursors are a 400 naming cursor, never a 500", () => {
  it("every single-character change of a real cursor is refused, or reads the very same page", async () => {
    const { headers } = await userWithRows(12);
    const first = await body(await call(`${LIST}?limit=4`, { headers }));
    const cursor: string = first.next_cursor;
    const genuine = await body(await call(`${LIST}?limit=4&cursor=${cursor}`, { headers }));
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let refused = 0;
    for (let i = 0; i < cursor.length; i++) {
      const current = cursor[i] ?? "A";
      const replacement = alphabet[(alphabet.indexOf(current) + 17) % alphabet.length];
      const tampered = `${cursor.slice(0, i)}${replacement}${cursor.slice(i + 1)}`;
      const res = await call(`${LIST}?limit=4&cursor=${tampered}`, { headers });
      if (res.status === 200) {
        // Only the unused low bits of the last base64 character can change without changing the bytes.
        expect(i).toBe(cursor.length - 1);
        expect(await body(res)).toEqual(genuine);
      } else {
        await expectValidationError(res, "cursor");
        refused++;
      }
    }
    expect(refused).toBeGreaterThanOrEqual(cursor.length - 1);
  });

  const b64 = (text: string) => btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  it.each([
    ["not base64 at all", "!!!***"],
    ["base64 of plain text", b64("hello world")],
    ["base64 of a JSON array", b64("[]")],
    ["base64 of null", b64("null")],
    ["a well-formed cursor of the wrong shape (number date)", encodeCursor({ d: 20260101, i: "x" })],
    ["a well-formed cursor missing the id", encodeCursor({ d: "2026-01-01" })],
    ["a well-formed cursor with a non-date", encodeCursor({ d: "yesterday", i: "x" })],
    ["another list's cursor (accounts)", encodeCursor({ t: "item", i: "x" })],
    ["JSON without its checksum", b64(JSON.stringify({ d: "2026-01-01", i: "x" }))],
    ["a huge string", "A".repeat(10_000)],
    ["a cursor of length 1 mod 4", "AAAAA"],
  ])("%s", async (_case, cursor) => {
    const headers = await authHeaders(uniqueUser());
    await expectValidationError(await call(`${LIST}?cursor=${cursor}`, { headers }), "cursor");
  });
});

describe("transaction list filters", () => {
  async function fixture() {
    const userId = uniqueUser();
    const itemA = await makeItem(userId);
    const itemB = await makeItem(userId);
    const accountA = await makeAccount(userId, itemA.id);
    const accountA2 = await makeAccount(userId, itemA.id);
    const accountB = await makeAccount(userId, itemB.id);
    const food = await makeCategory({ name: "Food" });
    const rent = await makeCategory({ name: "Rent" });
    const rows = {
      cafe: await makeTransaction(userId, accountA, { date: "2026-03-01", description: "Café Pão de Açúcar", categoryId: food.id }),
      coffee: await makeTransaction(userId, accountA2, { date: "2026-03-05", description: "CAFE DO PONTO", categoryId: food.id }),
      rent: await makeTransaction(userId, accountB, { date: "2026-03-10", description: "Aluguel março", categoryId: rent.id }),
      percent: await makeTransaction(userId, accountB, { date: "2026-03-15", description: "Desconto 50% loja" }),
      fifty: await makeTransaction(userId, accountB, { date: "2026-03-20", description: "Desconto 500 loja" }),
      underscore: await makeTransaction(userId, accountA, { date: "2026-03-25", description: "PIX a_b" }),
      axb: await makeTransaction(userId, accountA, { date: "2026-03-31", description: "PIX axb" }),
    };
    // Someone else's rows, in the same category and matching the same searches, never show up.
    const stranger = uniqueUser();
    const strangerItem = await makeItem(stranger);
    const strangerAccount = await makeAccount(stranger, strangerItem.id);
    await makeTransaction(stranger, strangerAccount, { date: "2026-03-02", description: "Café", categoryId: food.id });
    return { headers: await authHeaders(userId), itemA, itemB, accountA, accountB, food, rent, rows };
  }

  const ids = async (res: Response): Promise<string[]> => {
    expect(res.status).toBe(200);
    return (await body(res)).data.map((r: { id: string }) => r.id);
  };

  it("every filter, alone and combined, returns exactly the matching rows in order", async () => {
    const f = await fixture();
    const { rows: r } = f;
    const cases: [string, { id: string }[]][] = [
      ["", [r.axb, r.underscore, r.fifty, r.percent, r.rent, r.coffee, r.cafe]],
      [`account_id=${f.accountA.id}`, [r.axb, r.underscore, r.cafe]],
      [`item_id=${f.itemA.id}`, [r.axb, r.underscore, r.coffee, r.cafe]],
      [`item_id=${f.itemB.id}`, [r.fifty, r.percent, r.rent]],
      [`category_id=${f.food.id}`, [r.coffee, r.cafe]],
      ["category_id=none", [r.axb, r.underscore, r.fifty, r.percent]],
      ["date_from=2026-03-10", [r.axb, r.underscore, r.fifty, r.percent, r.rent]],
      ["date_to=2026-03-10", [r.rent, r.coffee, r.cafe]],
      ["date_from=2026-03-05&date_to=2026-03-15", [r.percent, r.rent, r.coffee]],
      ["date_from=2026-03-10&date_to=2026-03-10", [r.rent]],
      ["search=cafe", [r.coffee, r.cafe]],
      ["search=CAFÉ", [r.coffee, r.cafe]],
      ["search=acucar", [r.cafe]],
      ["search=MARÇO", [r.rent]],
      ["search=50%25", [r.percent]],
      ["search=a_b", [r.underscore]],
      ["search=%25", [r.percent]],
      ["search=_", [r.underscore]],
      ["search=zzz-nothing", []],
      [`item_id=${f.itemA.id}&category_id=${f.food.id}&date_from=2026-03-02`, [r.coffee]],
      [`account_id=${f.accountB.id}&search=desconto&date_to=2026-03-16`, [r.percent]],
      [`item_id=${f.itemA.id}&category_id=none&search=pix`, [r.axb, r.underscore]],
      [`account_id=${f.accountA.id}&item_id=${f.itemB.id}`, []],
    ];
    for (const [query, expected] of cases) {
      expect([query, await ids(await call(`${LIST}?${query}`, { headers: f.headers }))]).toEqual([query, expected.map((t) => t.id)]);
    }
  });

  it("filters keep paginating correctly", async () => {
    const f = await fixture();
    const { ids: walked } = await walkPages(`${LIST}?item_id=${f.itemA.id}&limit=1`, f.headers);
    expect(walked).toEqual([f.rows.axb, f.rows.underscore, f.rows.coffee, f.rows.cafe].map((t) => t.id));
  });

  it("another user's account, item or category yields nothing of theirs", async () => {
    const f = await fixture();
    const stranger = await authHeaders(uniqueUser());
    for (const query of [`account_id=${f.accountA.id}`, `item_id=${f.itemA.id}`, `category_id=${f.food.id}`, "search=cafe"]) {
      expect(await ids(await call(`${LIST}?${query}`, { headers: stranger }))).toEqual([]);
    }
  });

  it.each([
    ["category_id", "category_id=food"],
    ["category_id", "category_id=NONE"],
    ["category_id", "category_id="],
    ["date_from", "date_from=2026-13-01"],
    ["date_from", "date_from=2026-02-30"],
    ["date_from", "date_from=yesterday"],
    ["date_from", "date_from=2026-3-1"],
    ["date_to", "date_to=2026-03-01T00:00:00Z"],
    ["date_to", "date_to="],
    ["date_from", "date_from=2026-03-10&date_to=2026-03-09"],
    ["search", "search="],
    ["search", `search=${"x".repeat(201)}`],
    ["account_id", "account_id="],
    ["item_id", `item_id=${"i".repeat(129)}`],
    ["foo", "foo=1"],
    ["Limit", "Limit=5"],
  ])("names %s in the validation error for ?%s", async (field, query) => {
    const headers = await authHeaders(uniqueUser());
    await expectValidationError(await call(`${LIST}?${query}`, { headers }), field);
  });

  it("names every unknown parameter, one detail each", async () => {
    const headers = await authHeaders(uniqueUser());
    const res = await call(`${LIST}?foo=1&bar=2&limit=5`, { headers });
    expect(res.status).toBe(400);
    const fields = (await body(res)).error.details.map((d: { field: string }) => d.field).sort();
    expect(fields).toEqual(["bar", "foo"]);
  });
});

describe("one transaction", () => {
  it("has every field of the contract's shape", async () => {
    const userId = uniqueUser();
    const item = await makeItem(userId);
    const account = await makeAccount(userId, item.id);
    const category = await makeCategory({ name: "Groceries" });
    const row = await makeTransaction(userId, account, {
      date: "2026-04-02",
      description: "Mercado Central",
      amountMinor: -12345,
      categoryId: category.id,
      pluggyCategoryId: "10000000",
      pluggyCategoryName: "Groceries",
    });
    const res = await call(`/api/banking/transactions/${row.id}`, { headers: await authHeaders(userId) });
    expect(res.status).toBe(200);
    expect(await body(res)).toEqual({
      data: {
        id: row.id,
        pluggy_id: row.pluggyId,
        account_id: account.id,
        item_id: item.id,
        date: "2026-04-02",
        description: "Mercado Central",
        amount: "-123.45",
        currency_code: "BRL",
        type: "DEBIT",
        status: "POSTED",
        category: { id: category.id, name: "Groceries" },
        pluggy_category: { id: "10000000", name: "Groceries" },
        category_sync: null,
        created_at: row.createdAt,
        updated_at: row.updatedAt,
      },
    });
  });

  it("reports the category sync job, or the recorded skip", async () => {
    const userId = uniqueUser();
    const headers = await authHeaders(userId);
    const item = await makeItem(userId);
    const account = await makeAccount(userId, item.id);
    const category = await makeCategory({ pluggyCategoryId: "11010000" });
    const skipped = await makeTransaction(userId, account, { categorySyncSkipReason: "category has no Pluggy mapping", categorySyncSkippedAt: "2026-05-01T10:00:00.000Z" });
    const synced = await makeTransaction(userId, account, { categoryId: category.id });
    await inLedger(userId, (db) =>
      db
        .insert(categorySyncJobs)
        .values({
          id: crypto.randomUUID(),
          transactionId: synced.id,
          pluggyTransactionId: synced.pluggyId ?? "",
          categoryId: category.id,
          version: 1,
          status: "failed",
          attempts: 3,
          lastError: "Pluggy answered 400",
          dueAt: "2026-05-02T10:00:00.000Z",
          createdAt: "2026-05-02T09:00:00.000Z",
          updatedAt: "2026-05-02T10:00:00.000Z",
        })
        .run(),
    );
    const skippedRes = await body(await call(`/api/banking/transactions/${skipped.id}/`, { headers }));
    expect(skippedRes.data.category_sync).toEqual({ status: "skipped", reason_code: "no_pluggy_mapping", reason: "category has no Pluggy mapping", attempts: 0, updated_at: "2026-05-01T10:00:00.000Z" });
    const syncedRes = await body(await call(`/api/banking/transactions/${synced.id}/`, { headers }));
    // Pluggy's own text ("Pluggy answered 400") is for operators; the user gets our code and sentence.
    expect(syncedRes.data.category_sync).toEqual({
      status: "failed",
      reason_code: "rejected_by_pluggy",
      reason: "Pluggy did not accept this category for the transaction",
      attempts: 3,
      updated_at: "2026-05-02T10:00:00.000Z",
    });
  });

  it("shows a category the catalog no longer has as no category (its id stays in the ledger until cleared)", async () => {
    const userId = uniqueUser();
    const headers = await authHeaders(userId);
    const account = await makeAccount(userId, (await makeItem(userId)).id);
    const kept = await makeCategory({ name: "Kept" });
    const deleted = await makeCategory({ name: "Deleted" });
    const stays = await makeTransaction(userId, account, { date: "2026-04-02", categoryId: kept.id });
    const orphan = await makeTransaction(userId, account, { date: "2026-04-01", categoryId: deleted.id });
    await createDb(env.DB).delete(categories).where(eq(categories.id, deleted.id));
    const one = await body(await call(`/api/banking/transactions/${orphan.id}/`, { headers }));
    expect(one.data.category).toBeNull();
    const list = await body(await call(LIST, { headers }));
    expect(list.data.map((t: { id: string; category: unknown }) => [t.id, t.category])).toEqual([
      [stays.id, { id: kept.id, name: "Kept" }],
      [orphan.id, null],
    ]);
    // The ledger still holds the id: the serialization, not the storage, hides it.
    expect(await inLedger(userId, (db) => db.select({ categoryId: transactions.categoryId }).from(transactions).where(eq(transactions.id, orphan.id)).get())).toEqual({ categoryId: deleted.id });
  });

  it("404 for an unknown id, in the error envelope", async () => {
    const res = await call(`/api/banking/transactions/${crypto.randomUUID()}`, { headers: await authHeaders(uniqueUser()) });
    expect(res.status).toBe(404);
    const json = await body(res);
    expect(json).toEqual({ error: { code: "not_found", message: expect.any(String), request_id: res.headers.get("X-Request-Id") } });
  });
});

describe("large pages", () => {
  it("serves limit=200 with a category (121 distinct: the catalog's IN lists stay under D1's 100 parameters) and a sync job on every row", async () => {
    const userId = uniqueUser();
    const item = await makeItem(userId);
    const account = await makeAccount(userId, item.id);
    const categoryList: { id: string; name: string }[] = [];
    for (let start = 0; start < 121; start += 25) categoryList.push(...(await Promise.all(Array.from({ length: Math.min(25, 121 - start) }, () => makeCategory()))));
    const made: { id: string; pluggyId: string | null; categoryId: string | null }[] = [];
    for (let start = 0; start < 150; start += 25) {
      made.push(...(await Promise.all(Array.from({ length: 25 }, (_, k) => makeTransaction(userId, account, { categoryId: categoryList[(start + k) % categoryList.length]?.id ?? null })))));
    }
    const now = new Date().toISOString();
    await inLedger(userId, (db) => {
      for (const row of made) {
        db.insert(categorySyncJobs)
          .values({ id: crypto.randomUUID(), transactionId: row.id, pluggyTransactionId: row.pluggyId ?? "", categoryId: row.categoryId ?? "", version: 1, status: "synced", dueAt: now, createdAt: now, updatedAt: now })
          .run();
      }
    });
    const res = await call(`${LIST}?limit=200`, { headers: await authHeaders(userId) });
    expect(res.status).toBe(200);
    const json = await body(res);
    expect(json.data).toHaveLength(150);
    const names = new Map(categoryList.map((c) => [c.id, c.name]));
    const byId = new Map(made.map((row) => [row.id, row.categoryId]));
    for (const t of json.data as { id: string; category: { id: string; name: string } | null; category_sync: { status: string } | null }[]) {
      const categoryId = byId.get(t.id) ?? "";
      expect(t.category).toEqual({ id: categoryId, name: names.get(categoryId) });
      expect(t.category_sync?.status).toBe("synced");
    }
  });
});
