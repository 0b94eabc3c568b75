import { describe, expect, it } from "vitest";
import { authHeaders, uniqueUser } from "../helpers/auth.ts";
import { makeAccount, makeCategory, makeItem } from "../helpers/factories.ts";
import { body, call } from "../helpers/http.ts";
import { expectValidationError, walkPages } from "./support.ts";

describe("GET /api/banking/categories/", () => {
  it("lists every category with its Pluggy mapping (or null), in name order, in one page", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const parent = await makeCategory({ name: `Álcool ${tag}`, pluggyCategoryId: "11000000" });
    const child = await makeCategory({ name: `alimentos ${tag}`, parentId: parent.id });
    const last = await makeCategory({ name: `Zoo ${tag}`, pluggyCategoryId: "21000000" });
    const res = await call("/api/banking/categories/", { headers: await authHeaders(uniqueUser()) });
    expect(res.status).toBe(200);
    const json = await body(res);
    expect(json.next_cursor).toBeNull();
    const mine = json.data.filter((c: { name: string }) => c.name.endsWith(tag));
    // Case and accents do not decide the order: "Álcool" < "alimentos" < "Zoo".
    expect(mine).toEqual([
      { id: parent.id, name: `Álcool ${tag}`, parent_id: null, pluggy_category_id: "11000000" },
      { id: child.id, name: `alimentos ${tag}`, parent_id: parent.id, pluggy_category_id: null },
      { id: last.id, name: `Zoo ${tag}`, parent_id: null, pluggy_category_id: "21000000" },
    ]);
    const names: string[] = json.data.map((c: { name: string }) => c.name);
    const collator = new Intl.Collator("pt-BR", { sensitivity: "base", numeric: true });
    expect(names).toEqual([...names].sort((a, b) => collator.compare(a, b)));
  });

  it("is the same list for every user", async () => {
    const category = await makeCategory();
    for (const user of [uniqueUser(), uniqueUser()]) {
      const json = await body(await call("/api/banking/categories", { headers: await authHeaders(user) }));
      expect(json.data.map((c: { id: string }) => c.id)).toContain(category.id);
    }
  });

  it.each(["limit", "cursor", "foo"])("refuses the query parameter %s (the list is not paginated)", async (param) => {
    await expectValidationError(await call(`/api/banking/categories/?${param}=1`, { headers: await authHeaders(uniqueUser()) }), param);
  });
});

describe("GET /api/banking/accounts/", () => {
  it("lists only the caller's accounts, in the contract's shape", async () => {
    const userId = uniqueUser();
    const item = await makeItem(userId);
    const account = await makeAccount(userId, item.id, { balanceMinor: -5, currencyCode: "BRL", number: null });
    const other = uniqueUser();
    await makeAccount(other, (await makeItem(other)).id);
    const res = await call("/api/banking/accounts/", { headers: await authHeaders(userId) });
    expect(res.status).toBe(200);
    expect(await body(res)).toEqual({
      data: [
        {
          id: account.id,
          pluggy_id: account.pluggyId,
          item_id: item.id,
          name: "Conta Corrente",
          type: "BANK",
          subtype: "CHECKING_ACCOUNT",
          number: null,
          balance: "-0.05",
          currency_code: "BRL",
          updated_at: account.updatedAt,
        },
      ],
      next_cursor: null,
    });
  });

  it("renders an unknown balance as null, not 0.00", async () => {
    const userId = uniqueUser();
    await makeAccount(userId, (await makeItem(userId)).id, { balanceMinor: null, currencyCode: null });
    const json = await body(await call("/api/banking/accounts", { headers: await authHeaders(userId) }));
    expect(json.data[0]).toMatchObject({ balance: null, currency_code: null });
  });

  it("filters by item_id; another user's item yields an empty list", async () => {
    const userId = uniqueUser();
    const itemA = await makeItem(userId);
    const itemB = await makeItem(userId);
    const inA = [await makeAccount(userId, itemA.id), await makeAccount(userId, itemA.id)];
    await makeAccount(userId, itemB.id);
    const headers = await authHeaders(userId);
    const json = await body(await call(`/api/banking/accounts/?item_id=${itemA.id}`, { headers }));
    expect(json.data.map((a: { id: string }) => a.id).sort()).toEqual(inA.map((a) => a.id).sort());
    const stranger = await body(await call(`/api/banking/accounts/?item_id=${itemA.id}`, { headers: await authHeaders(uniqueUser()) }));
    expect(stranger).toEqual({ data: [], next_cursor: null });
  });

  it("walks every account exactly once in (item_id, id) order, pages of 3", async () => {
    const userId = uniqueUser();
    const created: { id: string; itemId: string }[] = [];
    for (let i = 0; i < 4; i++) {
      const item = await makeItem(userId);
      for (let k = 0; k < 4; k++) created.push(await makeAccount(userId, item.id));
    }
    const expected = [...created].sort((a, b) => (a.itemId === b.itemId ? (a.id < b.id ? -1 : 1) : a.itemId < b.itemId ? -1 : 1)).map((a) => a.id);
    const { ids, pages } = await walkPages("/api/banking/accounts/?limit=3", await authHeaders(userId));
    expect(ids).toEqual(expected);
    expect(pages).toBe(6);
  });

  it.each([
    ["limit", "limit=0"],
    ["limit", "limit=201"],
    ["limit", "limit=abc"],
    ["cursor", "cursor=not-a-cursor"],
    ["item_id", "item_id="],
    ["account_id", "account_id=x"],
  ])("names %s in the validation error for ?%s", async (field, query) => {
    await expectValidationError(await call(`/api/banking/accounts/?${query}`, { headers: await authHeaders(uniqueUser()) }), field);
  });
});

describe("GET /api/banking/items/", () => {
  it("lists only the caller's items in the contract's shape, with error null or {code, message}", async () => {
    const userId = uniqueUser();
    const healthy = await makeItem(userId, { createdAt: "2026-01-01T00:00:00.000Z", pluggyCreatedAt: "2025-12-31T23:59:00.000Z", lastUpdatedAt: "2026-01-02T00:00:00.000Z" });
    const broken = await makeItem(userId, {
      createdAt: "2026-02-01T00:00:00.000Z",
      pluggyCreatedAt: null,
      connectorId: 201,
      connectorName: "Itaú",
      connectorImageUrl: null,
      status: "LOGIN_ERROR",
      executionStatus: "INVALID_CREDENTIALS",
      errorCode: "INVALID_CREDENTIALS",
      errorMessage: "The credentials are invalid",
      lastUpdatedAt: null,
    });
    await makeItem(uniqueUser());
    const res = await call("/api/banking/items/", { headers: await authHeaders(userId) });
    expect(res.status).toBe(200);
    expect(await body(res)).toEqual({
      data: [
        {
          id: broken.id,
          connector: { id: 201, name: "Itaú", image_url: null },
          status: "LOGIN_ERROR",
          execution_status: "INVALID_CREDENTIALS",
          error: { code: "INVALID_CREDENTIALS", message: "The credentials are invalid" },
          last_updated_at: null,
          created_at: "2026-02-01T00:00:00.000Z",
        },
        {
          id: healthy.id,
          connector: { id: 0, name: "Pluggy Bank", image_url: "https://cdn.pluggy.ai/assets/connector-icons/sandbox.svg" },
          status: "UPDATED",
          execution_status: "SUCCESS",
          error: null,
          last_updated_at: "2026-01-02T00:00:00.000Z",
          created_at: "2025-12-31T23:59:00.000Z",
        },
      ],
      next_cursor: null,
    });
  });

  it("walks newest first, ties by id desc, pages of 2", async () => {
    const userId = uniqueUser();
    const created = [];
    for (let i = 0; i < 7; i++) created.push(await makeItem(userId, { createdAt: `2026-03-0${1 + Math.floor(i / 2)}T00:00:00.000Z` }));
    const expected = [...created].sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1)).map((i) => i.id);
    const { ids, pages } = await walkPages("/api/banking/items/?limit=2", await authHeaders(userId));
    expect(ids).toEqual(expected);
    expect(pages).toBe(4);
  });

  it.each([
    ["limit", "limit=0"],
    ["limit", "limit=1000"],
    ["cursor", "cursor=%21%21"],
    ["status", "status=UPDATED"],
  ])("names %s in the validation error for ?%s", async (field, query) => {
    await expectValidationError(await call(`/api/banking/items/?${query}`, { headers: await authHeaders(uniqueUser()) }), field);
  });

  it("refuses a cursor from another list", async () => {
    const userId = uniqueUser();
    const item = await makeItem(userId);
    await makeAccount(userId, item.id);
    await makeAccount(userId, item.id);
    const headers = await authHeaders(userId);
    const accountsPage = await body(await call("/api/banking/accounts/?limit=1", { headers }));
    await expectValidationError(await call(`/api/banking/items/?cursor=${accountsPage.next_cursor}`, { headers }), "cursor");
  });
});
