import { describe, expect, it } from "vitest";
import { exactPath, sim, SIM_URL } from "../../test/helpers/simulator.ts";
import { createSimulator } from "../src/sim.app.ts";
import { PLUGGY_CATEGORIES } from "../src/pluggy-categories.ts";
import recordedCategories from "../src/data/pluggy-categories.json" with { type: "json" };

/*
 * The simulator speaks Pluggy's wire format (what our client relies on) and its control API does what
 * other tests build on. Requests go through vitest's outboundService, as the app's do.
 */

const CLIENT = { clientId: "sim-client-id", clientSecret: "sim-client-secret" };

async function apiKeyFor(clientId = CLIENT.clientId): Promise<string> {
  const response = await fetch(`${SIM_URL}/auth`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ ...CLIENT, clientId }) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { apiKey: string }).apiKey;
}

async function pluggy(path: string, init: { method?: string; body?: unknown; apiKey?: string } = {}) {
  const apiKey = init.apiKey ?? (await apiKeyFor());
  const response = await fetch(`${SIM_URL}${path}`, {
    method: init.method ?? "GET",
    headers: { "X-API-KEY": apiKey, ...(init.body !== undefined ? { "Content-Type": "application/json" } : {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: (text ? JSON.parse(text) : null) as any };
}

const jwtPayload = (token: string) => JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
const newUser = () => `sim-user-${crypto.randomUUID()}`;

describe("POST /auth", () => {
  it("exchanges the client keys for a JWT-shaped apiKey valid for two hours", async () => {
    const apiKey = await apiKeyFor();
    const payload = jwtPayload(apiKey);
    const now = Date.now() / 1000;
    expect(payload.exp).toBeGreaterThan(now + 7190);
    expect(payload.exp).toBeLessThanOrEqual(now + 7201);
  });

  it.each([
    ["wrong secret", { clientId: CLIENT.clientId, clientSecret: "nope" }],
    ["unknown client", { clientId: "someone-else", clientSecret: CLIENT.clientSecret }],
  ])("refuses %s with CLIENT_KEYS_UNAUTHORIZED", async (_name, body) => {
    const response = await fetch(`${SIM_URL}/auth`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ code: 401, codeDescription: "CLIENT_KEYS_UNAUTHORIZED", message: expect.any(String) });
  });

  it("accepts `<clientId>+<tenant>` aliases so parallel tests can tell their calls apart", async () => {
    const tenant = `${CLIENT.clientId}+${crypto.randomUUID()}`;
    const apiKey = await apiKeyFor(tenant);
    expect(jwtPayload(apiKey).clientId).toBe(tenant);
    expect((await pluggy("/categories", { apiKey })).status).toBe(200);
    const calls = await sim.requests({ clientId: tenant });
    expect(calls.map((call) => `${call.method} ${call.path} ${call.status}`)).toEqual(["POST /auth 200", "GET /categories 200"]);
  });

  it.each([
    ["no X-API-KEY", undefined],
    ["a forged key", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0eXAiOiJhcGlfa2V5In0.forged"],
    ["a random string", "not-a-key"],
  ])("answers 401 to %s", async (_name, apiKey) => {
    const response = await fetch(`${SIM_URL}/categories`, { headers: apiKey ? { "X-API-KEY": apiKey } : {} });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 401, message: expect.any(String) });
  });
});

describe("POST /connect_token", () => {
  it("returns an accessToken that lives 30 minutes and carries the options", async () => {
    const { status, json } = await pluggy("/connect_token", { method: "POST", body: { options: { clientUserId: "u-1", avoidDuplicates: true } } });
    expect(status).toBe(200);
    const payload = jwtPayload(json.accessToken);
    expect(Number(payload.exp) - Number(payload.iat)).toBe(1800);
    expect(payload.options).toEqual({ clientUserId: "u-1", avoidDuplicates: true });
  });

  it("refuses an unknown itemId with ITEM_NOT_FOUND", async () => {
    const { status, json } = await pluggy("/connect_token", { method: "POST", body: { itemId: crypto.randomUUID(), options: { clientUserId: "u" } } });
    expect(status).toBe(404);
    expect(json.codeDescription).toBe("ITEM_NOT_FOUND");
  });
});

describe("items", () => {
  it("serves an item created through the control API in Pluggy's shape", async () => {
    const user = newUser();
    const created = await sim.createItem({ clientUserId: user, connectorId: 212 });
    expect(created.accounts.map((account) => account.subtype)).toEqual(["CHECKING_ACCOUNT", "CREDIT_CARD"]);
    expect(created.transactionIds).toHaveLength(40);
    const { status, json } = await pluggy(`/items/${created.item.id}`);
    expect(status).toBe(200);
    expect(json).toMatchObject({
      id: created.item.id,
      clientUserId: user,
      status: "UPDATED",
      executionStatus: "SUCCESS",
      error: null,
      connector: { id: 212, name: "Nubank", imageUrl: expect.stringMatching(/^https:\/\//) },
    });
    expect(Date.parse(json.createdAt)).not.toBeNaN();
  });

  it("answers 404 ITEM_NOT_FOUND for an unknown item", async () => {
    const { status, json } = await pluggy(`/items/${crypto.randomUUID()}`);
    expect(status).toBe(404);
    expect(json).toEqual({ code: 404, codeDescription: "ITEM_NOT_FOUND", message: "Item not found" });
  });

  it("PATCH starts an update; a second one is refused while updating, then by the minimum interval", async () => {
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 1 });
    const first = await pluggy(`/items/${item.id}`, { method: "PATCH", body: {} });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ id: item.id, status: "UPDATING" });

    const again = await pluggy(`/items/${item.id}`, { method: "PATCH", body: {} });
    expect(again.status).toBe(409);
    expect(again.json.codeDescription).toBe("ITEM_IS_ALREADY_UPDATING");

    await sim.updateItem(item.id, { status: "UPDATED", executionStatus: "SUCCESS" });
    const tooSoon = await pluggy(`/items/${item.id}`, { method: "PATCH", body: {} });
    expect(tooSoon.status).toBe(409);
    expect(tooSoon.json.codeDescription).toBe("CLIENT_IS_UPDATING_BEFORE_ALLOWED_FREQUENCY");
  });

  it("DELETE removes the item with its accounts and transactions", async () => {
    const { item, accounts, transactionIds } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 2 });
    expect((await pluggy(`/items/${item.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await pluggy(`/items/${item.id}`)).status).toBe(404);
    expect((await pluggy(`/accounts?itemId=${item.id}`)).json.results).toEqual([]);
    expect((await pluggy(`/transactions/${transactionIds[0]}`)).status).toBe(404);
    expect((await pluggy(`/v2/transactions?accountId=${accounts[0]?.id}`)).json).toEqual({ results: [], next: null });
  });
});

describe("GET /accounts", () => {
  it("lists an item's accounts in a page envelope with decimal balances", async () => {
    const { item } = await sim.createItem({ clientUserId: newUser(), accounts: 3, transactionsPerAccount: 0 });
    const { status, json } = await pluggy(`/accounts?itemId=${item.id}`);
    expect(status).toBe(200);
    expect(json).toMatchObject({ page: 1, total: 3, totalPages: 1 });
    expect(json.results.map((account: any) => [account.type, account.subtype])).toEqual([
      ["BANK", "CHECKING_ACCOUNT"],
      ["CREDIT", "CREDIT_CARD"],
      ["BANK", "SAVINGS_ACCOUNT"],
    ]);
    for (const account of json.results) {
      expect(account.itemId).toBe(item.id);
      expect(typeof account.balance).toBe("number");
      expect(account.currencyCode).toBe("BRL");
    }
  });

  it("requires itemId", async () => {
    expect((await pluggy("/accounts")).status).toBe(400);
  });
});

describe("GET /v2/transactions", () => {
  it("pages 500 at a time with a relative `next` until null", async () => {
    const { accounts } = await sim.createItem({ clientUserId: newUser(), accounts: 1, transactionsPerAccount: 1100 });
    const accountId = accounts[0]?.id ?? "";
    const apiKey = await apiKeyFor();
    const sizes: number[] = [];
    const seen = new Set<string>();
    let path: string | null = `/v2/transactions?accountId=${accountId}`;
    while (path) {
      const page: { status: number; json: any } = await pluggy(path, { apiKey });
      expect(page.status).toBe(200);
      sizes.push(page.json.results.length);
      for (const transaction of page.json.results) seen.add(transaction.id);
      path = page.json.next;
      // URL-safe by construction: the SDK sends the cursor back without URL-encoding it.
      if (path) expect(path).toMatch(new RegExp(`^/v2/transactions\\?accountId=${accountId}&after=[A-Za-z0-9_-]+$`));
    }
    expect(sizes).toEqual([500, 500, 100]);
    expect(seen.size).toBe(1100);
  });

  it("filters by ids, date range and createdAtFrom", async () => {
    const { item, accounts, transactionIds } = await sim.createItem({ clientUserId: newUser(), accounts: 1, transactionsPerAccount: 5 });
    const accountId = accounts[0]?.id ?? "";
    const byIds = await pluggy(`/v2/transactions?accountId=${accountId}&ids=${transactionIds.slice(0, 2).join(",")}`);
    expect(byIds.json.results.map((t: any) => t.id).sort()).toEqual(transactionIds.slice(0, 2).sort());

    const [added] = await sim.addTransactions(item.id, { accountId, transactions: [{ date: "2020-01-15", description: "PIX RECEBIDO TESTE", amount: 12.34, type: "CREDIT" }] });
    const inRange = await pluggy(`/v2/transactions?accountId=${accountId}&dateFrom=2020-01-01&dateTo=2020-01-31`);
    expect(inRange.json.results.map((t: any) => t.id)).toEqual([added?.id]);
    expect(inRange.json.results[0]).toMatchObject({ date: "2020-01-15T00:00:00.000Z", amount: 12.34, type: "CREDIT", currencyCode: "BRL" });

    const recent = await pluggy(`/v2/transactions?accountId=${accountId}&createdAtFrom=${encodeURIComponent(added?.createdAt ?? "")}`);
    expect(recent.json.results.map((t: any) => t.id)).toContain(added?.id);
  });

  it.each([
    ["no accountId", "/v2/transactions"],
    ["dateFrom with createdAtFrom", `/v2/transactions?accountId=a&dateFrom=2026-01-01&createdAtFrom=2026-01-01T00:00:00Z`],
    ["more than 500 ids", `/v2/transactions?accountId=a&ids=${Array.from({ length: 501 }, (_, i) => `id${i}`).join(",")}`],
    ["a tampered cursor", "/v2/transactions?accountId=a&after=%%%"],
  ])("answers 400 to %s", async (_name, path) => {
    const { status, json } = await pluggy(path);
    expect(status).toBe(400);
    expect(json).toMatchObject({ code: 400, message: expect.any(String) });
  });

  it("has realistic Brazilian data: descriptions, 8-digit categories, decimal amounts, Pluggy's sign convention", async () => {
    const { accounts } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 60 });
    const known = new Set(PLUGGY_CATEGORIES.map((category) => category.id));
    for (const account of accounts) {
      const { json } = await pluggy(`/v2/transactions?accountId=${account.id}`);
      expect(json.results).toHaveLength(60);
      for (const t of json.results) {
        expect(known.has(t.categoryId)).toBe(true);
        expect(t.description).toMatch(/^[A-Z0-9]/);
        expect(Number(t.amount.toFixed(2))).toBe(t.amount);
        if (account.type === "BANK") expect(Math.sign(t.amount)).toBe(t.type === "DEBIT" ? -1 : 1);
        else expect(Math.sign(t.amount)).toBe(t.type === "DEBIT" ? 1 : -1);
      }
    }
  });
});

describe("GET /transactions (page numbers)", () => {
  it("pages the same data as v2 in Pluggy's page envelope: 20 a page by default, `page` from 1, `pageSize` up to 500", async () => {
    const { accounts } = await sim.createItem({ clientUserId: newUser(), accounts: 1, transactionsPerAccount: 45 });
    const accountId = accounts[0]?.id ?? "";
    const apiKey = await apiKeyFor();
    const v2 = (await pluggy(`/v2/transactions?accountId=${accountId}`, { apiKey })).json.results;

    const first = await pluggy(`/transactions?accountId=${accountId}`, { apiKey });
    expect(first.status).toBe(200);
    expect(Object.keys(first.json).sort()).toEqual(["page", "results", "total", "totalPages"]);
    expect(first.json).toMatchObject({ page: 1, total: 45, totalPages: 3 });
    expect(first.json.results).toEqual(v2.slice(0, 20));
    const last = await pluggy(`/transactions?accountId=${accountId}&page=3`, { apiKey });
    expect(last.json).toMatchObject({ page: 3, total: 45, totalPages: 3 });
    expect(last.json.results).toEqual(v2.slice(40));
    expect((await pluggy(`/transactions?accountId=${accountId}&page=2&pageSize=500`, { apiKey })).json).toEqual({ page: 2, total: 45, totalPages: 1, results: [] });
    expect((await pluggy(`/transactions?accountId=${accountId}&pageSize=500`, { apiKey })).json.results).toEqual(v2);
    expect((await pluggy(`/transactions?accountId=${crypto.randomUUID()}`, { apiKey })).json).toEqual({ page: 1, total: 0, totalPages: 0, results: [] });
  });

  it("filters by `from`/`to` (transaction date), createdAtFrom and ids", async () => {
    const { item, accounts, transactionIds } = await sim.createItem({ clientUserId: newUser(), accounts: 1, transactionsPerAccount: 5 });
    const accountId = accounts[0]?.id ?? "";
    const [added] = await sim.addTransactions(item.id, { accountId, transactions: [{ date: "2020-03-10", description: "PIX ENVIADO TESTE", amount: -5, type: "DEBIT" }] });
    const inRange = await pluggy(`/transactions?accountId=${accountId}&from=2020-03-01&to=2020-03-31`);
    expect(inRange.json).toMatchObject({ total: 1, totalPages: 1 });
    expect(inRange.json.results.map((t: any) => t.id)).toEqual([added?.id]);
    const recent = await pluggy(`/transactions?accountId=${accountId}&createdAtFrom=${encodeURIComponent(added?.createdAt ?? "")}`);
    expect(recent.json.results.map((t: any) => t.id)).toContain(added?.id);
    const byIds = await pluggy(`/transactions?accountId=${accountId}&ids=${transactionIds.slice(0, 2).join(",")}`);
    expect(byIds.json.results.map((t: any) => t.id).sort()).toEqual(transactionIds.slice(0, 2).sort());
  });

  it.each([
    ["no accountId", "/transactions"],
    ["pageSize over 500", "/transactions?accountId=a&pageSize=501"],
    ["pageSize 0", "/transactions?accountId=a&pageSize=0"],
    ["page 0", "/transactions?accountId=a&page=0"],
    ["a page that is not a number", "/transactions?accountId=a&page=two"],
    ["a `from` that is not a date", "/transactions?accountId=a&from=yesterday"],
  ])("answers 400 to %s", async (_name, path) => {
    const { status, json } = await pluggy(path);
    expect(status).toBe(400);
    expect(json).toMatchObject({ code: 400, codeDescription: "INVALID_PARAMETERS", message: expect.any(String) });
  });
});

describe("rate limits: Pluggy's, per endpoint and source IP, per minute", () => {
  /** A simulator of its own (limits on, a clock the test moves), called with a chosen source address. */
  function ownSimulator(options: { rateLimits?: boolean } = {}) {
    const clock = { now: Date.parse("2026-11-02T12:00:00.000Z") };
    const simulator = createSimulator({ ...CLIENT, seedSandbox: false, now: () => clock.now, ...options });
    const call = async (method: string, path: string, init: { ip?: string; apiKey?: string; body?: unknown } = {}) => {
      const headers: Record<string, string> = { "CF-Connecting-IP": init.ip ?? "203.0.113.1", "Content-Type": "application/json" };
      if (init.apiKey) headers["X-API-KEY"] = init.apiKey;
      const response = await simulator.fetch(new Request(`http://sim.test${path}`, { method, headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) }));
      return { status: response.status, headers: response.headers, json: (await response.json()) as any };
    };
    const apiKey = async () => (await call("POST", "/auth", { ip: "198.51.100.250", body: CLIENT })).json.apiKey as string;
    return { simulator, clock, call, apiKey };
  }

  it("PATCH /items/{id}: the 21st call in a minute from one address is a 429 with exactly Pluggy's three headers; other addresses and the next minute are not limited", async () => {
    const { simulator, clock, call, apiKey } = ownSimulator();
    const key = await apiKey();
    const { item } = simulator.state.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await call("PATCH", `/items/${item.id}`, { apiKey: key, body: {} })).status);
    // The first starts an update, the rest are refused as conflicts: every call counts.
    expect(statuses).toEqual([200, ...Array<number>(19).fill(409)]);
    clock.now += 15_000;
    const limited = await call("PATCH", `/items/${item.id}`, { apiKey: key, body: {} });
    expect(limited.status).toBe(429);
    expect(limited.json).toEqual({ code: 429, message: "Too many requests, please try again later. (see Retry-After header in seconds)" });
    const rateHeaders = [...limited.headers.keys()].filter((name) => /^(ratelimit|retry-after)/i.test(name)).sort();
    expect(rateHeaders).toEqual(["ratelimit-limit", "ratelimit-reset", "retry-after"]);
    expect(limited.headers.get("RateLimit-Limit")).toBe("20");
    expect(limited.headers.get("RateLimit-Reset")).toBe("45");
    expect(limited.headers.get("Retry-After")).toBe("60");

    expect((await call("PATCH", `/items/${item.id}`, { apiKey: key, body: {}, ip: "203.0.113.2" })).status).toBe(409);
    expect((await call("GET", `/items/${item.id}`, { apiKey: key })).status).toBe(200);
    clock.now += 45_000;
    expect((await call("PATCH", `/items/${item.id}`, { apiKey: key, body: {} })).status).not.toBe(429);
  });

  it("POST /auth: 360 a minute per address", async () => {
    const { call } = ownSimulator();
    for (let i = 0; i < 360; i++) expect((await call("POST", "/auth", { body: CLIENT })).status).toBe(200);
    const limited = await call("POST", "/auth", { body: CLIENT });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("RateLimit-Limit")).toBe("360");
    expect((await call("POST", "/auth", { body: CLIENT, ip: "203.0.113.9" })).status).toBe(200);
  });

  it("GET /transactions, /transactions/{id} and /v2/transactions share 360 a minute per address; /accounts has its own 360; unlisted endpoints are not limited", async () => {
    const { simulator, call, apiKey } = ownSimulator();
    const key = await apiKey();
    const { item, accounts, transactions } = simulator.state.createItem({ clientUserId: newUser(), accounts: 1, transactionsPerAccount: 1 });
    const accountId = accounts[0]?.id ?? "";
    const paths = [`/transactions?accountId=${accountId}`, `/v2/transactions?accountId=${accountId}`, `/transactions/${transactions[0]?.id}`];
    for (let i = 0; i < 360; i++) expect((await call("GET", paths[i % 3] ?? "", { apiKey: key })).status).toBe(200);
    for (const path of paths) expect((await call("GET", path, { apiKey: key })).status).toBe(429);

    for (let i = 0; i < 360; i++) expect((await call("GET", i % 2 ? `/accounts?itemId=${item.id}` : `/accounts/${accountId}`, { apiKey: key })).status).toBe(200);
    expect((await call("GET", `/accounts?itemId=${item.id}`, { apiKey: key })).status).toBe(429);

    for (let i = 0; i < 400; i++) expect((await call("GET", "/categories/19050001", { apiKey: key })).status).toBe(200);
  });

  it("are lifted by `rateLimits: false` (option or PUT /__sim/config), for load runs from one address", async () => {
    const off = ownSimulator({ rateLimits: false });
    for (let i = 0; i < 400; i++) expect((await off.call("POST", "/auth", { body: CLIENT })).status).toBe(200);

    const on = ownSimulator();
    const config = await on.call("PUT", "/__sim/config", { body: { rateLimits: false } });
    expect(config.json.config.rateLimits).toBe(false);
    for (let i = 0; i < 400; i++) expect((await on.call("POST", "/auth", { body: CLIENT })).status).toBe(200);
  });

  it("the Worker reads SIM_RATE_LIMITS=off (how the bench and the reliability suite start it)", async () => {
    const worker = (await import("../src/index.ts")).default;
    const ctx = { waitUntil: () => undefined, passThroughOnException: () => undefined } as unknown as ExecutionContext;
    const response = await worker.fetch(new Request("http://sim.test/__sim/config"), { SIM_CLIENT_ID: CLIENT.clientId, SIM_CLIENT_SECRET: CLIENT.clientSecret, SIM_RATE_LIMITS: "off" }, ctx);
    expect(((await response.json()) as any).config.rateLimits).toBe(false);
  });
});

describe("transactions by id", () => {
  it("PATCH sets a known category and refuses an unknown one", async () => {
    const { transactionIds } = await sim.createItem({ clientUserId: newUser(), accounts: 1, transactionsPerAccount: 1 });
    const id = transactionIds[0] ?? "";
    const ok = await pluggy(`/transactions/${id}`, { method: "PATCH", body: { categoryId: "05080000" } });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ id, categoryId: "05080000", category: "Transfer - TED" });
    expect((await pluggy(`/transactions/${id}`)).json.categoryId).toBe("05080000");

    for (const categoryId of ["99999998", "5080000", "abc"]) {
      const bad = await pluggy(`/transactions/${id}`, { method: "PATCH", body: { categoryId } });
      expect(bad.status).toBe(400);
    }
    expect((await pluggy(`/transactions/${crypto.randomUUID()}`, { method: "PATCH", body: { categoryId: "05080000" } })).status).toBe(404);
  });
});

describe("GET /categories", () => {
  it("serves exactly the response Pluggy's GET /categories gave (130 categories, three levels)", async () => {
    const { status, json } = await pluggy("/categories");
    expect(status).toBe(200);
    expect(json).toEqual(recordedCategories);
    expect(json).toMatchObject({ total: 130, totalPages: 1, page: 1 });
    // Facts of the real tree the invented one got wrong.
    expect(json.results).toContainEqual({ id: "19050001", description: "Gas stations", descriptionTranslated: "Postos de gasolina", parentId: "19050000", parentDescription: "Automotive" });
    expect(json.results).toContainEqual({ id: "19050000", description: "Automotive", descriptionTranslated: "Serviços automotivos", parentId: "19000000", parentDescription: "Transportation" });
    expect(json.results).toContainEqual({ id: "03050000", description: "Margin", descriptionTranslated: "Ajuste de margem", parentId: "03000000", parentDescription: "Investments" });
    // A root has no parentId key at all.
    expect(json.results).toContainEqual({ id: "19000000", description: "Transportation", descriptionTranslated: "Transporte" });
  });

  it("serves one category by id, at any depth; 404 for an unknown id", async () => {
    expect((await pluggy("/categories/05090004")).json).toEqual({
      id: "05090004",
      description: "Third party transfer - PIX",
      descriptionTranslated: "Transferência para terceiros - PIX",
      parentId: "05090000",
      parentDescription: "Third party transfers",
    });
    expect((await pluggy("/categories/19059999")).status).toBe(404);
  });

  it("PATCH /transactions/{id} accepts a third-level id and names it", async () => {
    const { transactionIds } = await sim.createItem({ clientUserId: newUser(), accounts: 1, transactionsPerAccount: 1 });
    const id = transactionIds[0] ?? "";
    const answer = await pluggy(`/transactions/${id}`, { method: "PATCH", body: { categoryId: "19050001" } });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ id, categoryId: "19050001", category: "Gas stations" });
  });

  it("generates transactions under the real ids that mean what they describe", async () => {
    const { accounts } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 400 });
    const categoryOf = new Map<string, string>();
    for (const account of accounts) {
      for (const t of (await pluggy(`/v2/transactions?accountId=${account.id}`)).json.results) categoryOf.set(String(t.description).replace(/\d{4}/g, "####"), t.categoryId);
    }
    expect(categoryOf.get("POSTO IPIRANGA ####")).toBe("19050001");
    expect(categoryOf.get("REND PAGO APLIC AUT MAIS")).toBe("03060000");
    expect(categoryOf.get("IOF ADICIONAL")).toBe("15030000");
    expect(categoryOf.get("PAG BOLETO SABESP")).toBe("17020001");
  });
});

describe("/webhooks", () => {
  it("creates, lists, disables and deletes, per client", async () => {
    const apiKey = await apiKeyFor(`${CLIENT.clientId}+${crypto.randomUUID()}`);
    const created = await pluggy("/webhooks", { apiKey, method: "POST", body: { url: "https://app.example.com/hook", event: "all", headers: { "X-Webhook-Token": "t" } } });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ url: "https://app.example.com/hook", event: "all", disabledAt: null });
    expect(created.json.headers).toBeUndefined();
    expect((await pluggy("/webhooks", { apiKey })).json.results.map((hook: any) => hook.id)).toEqual([created.json.id]);
    expect((await pluggy("/webhooks")).json.results.map((hook: any) => hook.id)).not.toContain(created.json.id);

    const disabled = await pluggy(`/webhooks/${created.json.id}`, { apiKey, method: "PATCH", body: { enabled: false } });
    expect(disabled.json.disabledAt).toEqual(expect.any(String));
    expect((await pluggy(`/webhooks/${created.json.id}`, { apiKey, method: "DELETE" })).status).toBe(200);
    expect((await pluggy(`/webhooks/${created.json.id}`, { apiKey })).status).toBe(404);
    expect((await pluggy("/webhooks", { apiKey, method: "POST", body: { url: "not a url", event: "all" } })).status).toBe(400);
  });
});

describe("control API", () => {
  it("adds, changes and deletes transactions, visible through the Pluggy API", async () => {
    const { item, accounts } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    const card = accounts[1]?.id ?? "";
    const added = await sim.addTransactions(item.id, { accountId: card, count: 3 });
    expect(added).toHaveLength(3);
    const changed = await sim.updateTransaction(added[0]?.id ?? "", { description: "UBER *TRIP ALTERADA", amount: 10.5, categoryId: "19010000" });
    expect(changed).toMatchObject({ description: "UBER *TRIP ALTERADA", amount: 10.5, category: "Taxi and ride-hailing" });
    await sim.deleteTransaction(added[1]?.id ?? "");
    const state = await sim.getItemState(item.id);
    expect(state.transactions.map((t) => t.id).sort()).toEqual([added[0]?.id, added[2]?.id].sort());
    expect(state.transactions.find((t) => t.id === added[0]?.id)?.description).toBe("UBER *TRIP ALTERADA");
  });

  it("changes an item's status and error; deletes it silently", async () => {
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    const error = { code: "INVALID_CREDENTIALS", message: "Credenciais inválidas" };
    expect(await sim.updateItem(item.id, { status: "LOGIN_ERROR", executionStatus: "INVALID_CREDENTIALS", error })).toMatchObject({ status: "LOGIN_ERROR", error });
    expect((await pluggy(`/items/${item.id}`)).json).toMatchObject({ status: "LOGIN_ERROR", executionStatus: "INVALID_CREDENTIALS", error });
    await sim.deleteItem(item.id);
    expect((await pluggy(`/items/${item.id}`)).status).toBe(404);
  });

  it("injects faults by path and method for `times` requests, then answers normally", async () => {
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    await sim.fault({ path: exactPath(`/items/${item.id}`), method: "GET", status: 503, times: 2, codeDescription: "SERVICE_UNAVAILABLE" });
    const apiKey = await apiKeyFor();
    const first = await pluggy(`/items/${item.id}`, { apiKey });
    expect(first.status).toBe(503);
    expect(first.json).toEqual({ code: 503, codeDescription: "SERVICE_UNAVAILABLE", message: expect.any(String) });
    expect((await pluggy(`/items/${item.id}`, { apiKey })).status).toBe(503);
    expect((await pluggy(`/items/${item.id}`, { apiKey })).status).toBe(200);
  });

  it("answers a 429 fault with Pluggy's headers and a cleared fault no longer applies", async () => {
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    const id = await sim.fault({ path: exactPath(`/items/${item.id}`), status: 429, rateLimitReset: 7, times: 5 });
    const limited = await pluggy(`/items/${item.id}`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("RateLimit-Reset")).toBe("7");
    expect(limited.headers.get("Retry-After")).toBe("60");
    expect(limited.headers.get("RateLimit-Limit")).toEqual(expect.any(String));
    expect(limited.headers.has("RateLimit-Remaining")).toBe(false);
    expect(limited.json).toMatchObject({ code: 429, message: expect.stringContaining("Retry-After") });
    await sim.clearFault(id);
    expect((await pluggy(`/items/${item.id}`)).status).toBe(200);
  });

  it("delays an answer with delayMs and no status", async () => {
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    await sim.fault({ path: exactPath(`/items/${item.id}`), delayMs: 300 });
    const apiKey = await apiKeyFor();
    const started = Date.now();
    expect((await pluggy(`/items/${item.id}`, { apiKey })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it("matches a fault against the query string too", async () => {
    const { accounts } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 1 });
    const accountId = accounts[0]?.id ?? "";
    await sim.fault({ path: `^/v2/transactions\\?accountId=${accountId}`, status: 500 });
    expect((await pluggy(`/v2/transactions?accountId=${accounts[1]?.id}`)).status).toBe(200);
    expect((await pluggy(`/v2/transactions?accountId=${accountId}`)).status).toBe(500);
  });

  it("scopes a fault to one tenant: other clients' identical requests pass, and the record names the fault", async () => {
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    const tenant = `${CLIENT.clientId}+${crypto.randomUUID()}`;
    const id = await sim.fault({ path: exactPath(`/items/${item.id}`), clientId: tenant, status: 503, times: 2 });
    expect((await pluggy(`/items/${item.id}`)).status).toBe(200);
    const tenantKey = await apiKeyFor(tenant);
    expect((await pluggy(`/items/${item.id}`, { apiKey: tenantKey })).status).toBe(503);
    expect(await sim.faultState(id)).toMatchObject({ id, clientId: tenant, hits: 1, remaining: 1, active: true });
    const records = await sim.requests({ path: exactPath(`/items/${item.id}`) });
    expect(records.map((record) => [record.clientId, record.status, record.fault ?? null])).toEqual([
      [CLIENT.clientId, 200, null],
      [tenant, 503, id],
    ]);
  });

  it("counts the requests each fault answered, spent ones included, by tag", async () => {
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    const tag = `count-${crypto.randomUUID()}`;
    const apiKey = await apiKeyFor();
    const spent = await sim.fault({ path: exactPath(`/items/${item.id}`), status: 500, times: 2, tag });
    for (let i = 0; i < 3; i++) await pluggy(`/items/${item.id}`, { apiKey });
    const unused = await sim.fault({ path: exactPath(`/items/${item.id}/nothing`), status: 500, tag });
    const counted = await sim.faults(tag);
    expect(counted.hits).toBe(2);
    expect(counted.data.map((fault) => [fault.id, fault.hits, fault.active])).toEqual([
      [spent, 2, false],
      [unused, 0, true],
    ]);
    await sim.clearFault(unused);
    expect(await sim.faultState(unused)).toMatchObject({ hits: 0, active: false });
  });

  it("records requests with method, path, query and body", async () => {
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    await pluggy(`/accounts?itemId=${item.id}&type=BANK`);
    await pluggy("/connect_token", { method: "POST", body: { itemId: item.id, options: { clientUserId: "x" } } });
    const reads = await sim.requests({ path: `itemId=${item.id}`, method: "GET" });
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ method: "GET", path: "/accounts", query: { itemId: item.id, type: "BANK" }, body: null, status: 200 });
    const writes = await sim.requests({ path: "^/connect_token$", method: "POST" });
    expect(writes.map((request) => request.body)).toContainEqual({ itemId: item.id, options: { clientUserId: "x" } });
  });

  it("signs webhook payloads with HMAC-SHA256 over the exact body", async () => {
    const payload = { event: "item/updated", eventId: crypto.randomUUID(), itemId: crypto.randomUUID() };
    const signed = await sim.signWebhook(payload);
    expect(JSON.parse(signed.body)).toEqual(payload);
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode("test-webhook-secret-new"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(signed.body)));
    expect(signed.headers["X-Pluggy-Signature"]).toBe([...mac].map((b) => b.toString(16).padStart(2, "0")).join(""));
    expect(signed.headers["Content-Type"]).toBe("application/json");
    const other = await sim.signWebhook(payload, "another-secret");
    expect(other.headers["X-Pluggy-Signature"]).not.toBe(signed.headers["X-Pluggy-Signature"]);
  });

  it("refuses to send webhooks when no app URL is configured (tests sign and post themselves)", async () => {
    const response = await fetch(`${SIM_URL}/__sim/webhooks/send`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ event: "item/updated", itemId: crypto.randomUUID() }) });
    expect(response.status).toBe(409);
  });

  it.each([
    ["a body without clientUserId", "/items", {}],
    ["a fault with an invalid regex", "/faults", { path: "(", status: 500 }],
    ["a fault without status or delay", "/faults", { path: "^/x$" }],
  ])("refuses %s", async (_name, path, body) => {
    const response = await fetch(`${SIM_URL}/__sim${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    expect(response.status).toBe(400);
  });
});

describe("webhook bodies (pluggy-sdk's WebhookEventPayload)", () => {
  /** A simulator of its own that delivers to a recorder instead of the app. */
  function recordingSimulator() {
    const delivered: Array<{ headers: Headers; body: Record<string, unknown> }> = [];
    const simulator = createSimulator({
      ...CLIENT,
      webhookSecret: "s3cret",
      webhookAuthToken: "tok",
      appWebhookUrl: "https://app.test/api/banking/pluggy/webhook/",
      seedSandbox: false,
      fetch: async (_input, init) => {
        delivered.push({ headers: new Headers(init?.headers), body: JSON.parse(String(init?.body)) as Record<string, unknown> });
        return new Response(null, { status: 200 });
      },
    });
    const control = (path: string, body: unknown) =>
      simulator.fetch(new Request(`http://sim.test/__sim${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }));
    return { simulator, delivered, control };
  }

  it("carries the deprecated id and never clientUserId, kind by kind", async () => {
    const { delivered, control } = recordingSimulator();
    const created = (await (await control("/items", { clientUserId: "u-webhooks", accounts: 1, transactionsPerAccount: 2, notify: true })).json()) as {
      item: { id: string; connector: { id: number } };
      accounts: Array<{ id: string }>;
      transactionIds: string[];
    };
    const itemId = created.item.id;
    const accountId = created.accounts[0]?.id;
    for (const event of ["item/updated", "item/error", "item/deleted", "transactions/created", "connector/status_updated"]) {
      expect((await control("/webhooks/send", { event, itemId })).status).toBe(200);
    }
    expect((await control("/webhooks/send", { event: "transactions/updated", itemId, transactionIds: created.transactionIds })).status).toBe(200);

    const bodies = delivered.map((d) => d.body);
    for (const body of bodies) {
      expect(body).not.toHaveProperty("clientUserId");
      expect(typeof body.eventId).toBe("string");
      expect(typeof body.id).toBe("string");
    }
    const [itemCreated, itemUpdated, itemError, itemDeleted, txCreated, connector, txUpdated] = bodies;
    expect(itemCreated).toEqual({ event: "item/created", eventId: expect.any(String), id: itemId, itemId, triggeredBy: "CLIENT", clientId: CLIENT.clientId });
    expect(itemUpdated).toMatchObject({ event: "item/updated", id: itemId, itemId, triggeredBy: "CLIENT" });
    expect(itemError).toMatchObject({ event: "item/error", id: itemId, itemId, error: { code: expect.any(String), message: expect.any(String) } });
    expect(itemDeleted).toEqual({ event: "item/deleted", eventId: expect.any(String), id: itemId, itemId, clientId: CLIENT.clientId });
    expect(txCreated).toMatchObject({ event: "transactions/created", id: itemId, itemId, accountId, transactionsCreatedAtFrom: expect.any(String), createdTransactionsLink: expect.any(String) });
    expect(connector).toMatchObject({ event: "connector/status_updated", id: String(created.item.connector.id), data: { status: "ONLINE" } });
    expect(txUpdated).toMatchObject({ event: "transactions/updated", id: itemId, itemId, accountId, clientId: CLIENT.clientId, transactionIds: created.transactionIds });
    expect(delivered[0]?.headers.get("X-Webhook-Token")).toBe("tok");
    expect(delivered[0]?.headers.get("X-Pluggy-Signature")).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each(["item/all", "all"])("refuses to send %s: a subscription target, not an event", async (event) => {
    const { delivered, control } = recordingSimulator();
    const response = await control("/webhooks/send", { event, itemId: crypto.randomUUID() });
    expect(response.status).toBe(400);
    expect(delivered).toEqual([]);
  });
});

describe("the seeded sandbox", () => {
  it("has two items for sandbox-user with checking and credit card accounts and a few hundred transactions", async () => {
    const items = await sim.itemsOf("sandbox-user");
    expect(items).toHaveLength(2);
    let total = 0;
    for (const { item, accounts } of items) {
      expect(accounts.map((account) => account.subtype)).toEqual(["CHECKING_ACCOUNT", "CREDIT_CARD"]);
      total += (await sim.getItemState(item.id)).transactions.length;
    }
    expect(total).toBeGreaterThanOrEqual(300);
  });

  it("is the same on every start (deterministic ids and data)", async () => {
    const a = createSimulator({ ...CLIENT });
    const b = createSimulator({ ...CLIENT });
    const snapshot = (simulator: ReturnType<typeof createSimulator>) =>
      [...simulator.state.items.values()].map(({ item, accountIds }) => ({ id: item.id, accounts: accountIds.map((id) => simulator.state.transactionsOf(id).map((t) => [t.id, t.description, t.amount])) }));
    expect(snapshot(a)).toEqual(snapshot(b));
  });
});
