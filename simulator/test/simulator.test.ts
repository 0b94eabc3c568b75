import { describe, expect, it } from "vitest";
import { exactPath, sim, SIM_URL } from "../../test/helpers/simulator.ts";
import { createSimulator } from "../src/sim.app.ts";
import { PLUGGY_CATEGORIES } from "../src/pluggy-categories.ts";

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
    expect(tooSoon.status).toBe(400);
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
      if (path) expect(path).toMatch(new RegExp(`^/v2/transactions\\?accountId=${accountId}&after=[^&]+$`));
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
  it("serves the two-level tree in a page envelope", async () => {
    const { status, json } = await pluggy("/categories");
    expect(status).toBe(200);
    expect(json.results).toHaveLength(PLUGGY_CATEGORIES.length);
    expect(json.results).toContainEqual({ id: "05080000", description: "Transfer - TED", descriptionTranslated: "Transferência - TED", parentId: "05000000", parentDescription: "Transfers" });
    for (const category of json.results) expect(category.id).toMatch(/^\d{8}$/);
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
