import { exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { ApiError, createClient, type ClientOptions, type FinanceHubClient, type Page, type Transaction } from "../../src/client/index.ts";
import { tokenFor, uniqueUser } from "../helpers/auth.ts";
import { makeCategory } from "../helpers/factories.ts";
import { exactPath, sim, SIM_URL } from "../helpers/simulator.ts";

/*
 * finance-hub-edge/client against the real app inside workerd: the client's fetch is the Worker's own
 * fetch, Pluggy is the simulator. A user connects a bank the way the frontend does (connect token →
 * Pluggy Connect's calls with that token → register the item), then every client call runs once.
 */

interface SentRequest {
  method: string;
  path: string;
  bookmark: string | null;
  authorization: string | null;
}

/** A client for a new user whose fetch is the Worker's, recording what it sent. */
async function clientFor(options: Partial<ClientOptions> = {}) {
  const userId = uniqueUser("client");
  const token = await tokenFor(userId);
  const sent: SentRequest[] = [];
  const waits: number[] = [];
  const client = createClient({
    baseUrl: "https://api.test/",
    token: () => token,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      sent.push({ method: request.method, path: url.pathname + url.search, bookmark: request.headers.get("X-D1-Bookmark"), authorization: request.headers.get("Authorization") });
      return exports.default.fetch(request);
    },
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...options,
  });
  return { userId, token, client, sent, waits };
}

/** What Pluggy Connect does with the connect token: create the item and wait for its login. */
async function connectThroughPluggy(connectToken: string, parameters = { user: "user-ok", password: "password-ok" }): Promise<string> {
  const created = await fetch(`${SIM_URL}/items`, {
    method: "POST",
    headers: { "X-API-KEY": connectToken, "Content-Type": "application/json" },
    body: JSON.stringify({ connectorId: 0, parameters }),
  });
  expect(created.status).toBe(200);
  const { id } = (await created.json()) as { id: string };
  await vi.waitUntil(
    async () => {
      const item = (await (await fetch(`${SIM_URL}/items/${id}`, { headers: { "X-API-KEY": connectToken } })).json()) as { status: string };
      return item.status !== "UPDATING";
    },
    { timeout: 10_000, interval: 100 },
  );
  return id;
}

/** A user with a connected, registered and synced bank. */
async function connectedUser() {
  const context = await clientFor();
  const token = await context.client.createConnectToken({ include_sandbox: true });
  const itemId = await connectThroughPluggy(token.connect_token);
  await context.client.registerItem(itemId);
  // The registration queued the first sync: wait until the transactions are here.
  await vi.waitUntil(async () => (await context.client.listTransactions({ item_id: itemId, limit: 1 })).data.length > 0, { timeout: 15_000, interval: 200 });
  return { ...context, itemId };
}

async function all(pages: AsyncIterable<Page<Transaction>>): Promise<Page<Transaction>[]> {
  const out: Page<Transaction>[] = [];
  for await (const page of pages) out.push(page);
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe("createConnectToken", () => {
  it("returns the token, the Connect URL with the filters and the widget options; Pluggy Connect's item is then registered", async () => {
    const { client, userId, sent } = await clientFor();
    const token = await client.createConnectToken({ country_codes: ["BR"], connector_types: ["PERSONAL_BANK"], include_sandbox: true, avoid_duplicates: true });
    expect(token.widget_options).toEqual({ countries: ["BR"], connectorTypes: ["PERSONAL_BANK"], includeSandbox: true });
    expect(new URL(token.connect_url).searchParams.get("countries")).toBe("BR");
    expect(sent[0]).toMatchObject({ method: "POST", path: "/api/banking/pluggy/connect-token", authorization: expect.stringMatching(/^Bearer /) });

    const itemId = await connectThroughPluggy(token.connect_token);
    const first = await client.registerItem(itemId);
    expect(first.created).toBe(true);
    expect(first.item).toMatchObject({ id: itemId, connector: { id: 0, name: "Pluggy Bank" }, status: "UPDATED" });
    const again = await client.registerItem(itemId);
    expect(again.created).toBe(false);
    expect((await sim.getItemState(itemId)).item.clientUserId).toBe(userId);
  });

  it("throws the envelope as ApiError (code, message, details, status, request id) and is not repeated on 429", async () => {
    const { client, userId, waits } = await clientFor();
    const invalid = await rejection(client.createConnectToken({ country_codes: ["XX"] }));
    expect(invalid).toMatchObject({ status: 400, code: "validation_error", details: [{ field: "country_codes.0", message: expect.any(String) }] });
    expect(invalid.requestId).toMatch(/\S/);
    expect(invalid.message).toContain("country_codes.0");

    await sim.fault({ path: "^/connect_token$", method: "POST", body: userId, status: 429, rateLimitReset: 3 });
    const limited = await rejection(client.createConnectToken());
    expect(limited).toMatchObject({ status: 429, code: "rate_limited", retryAfterSeconds: 3 });
    expect(waits).toEqual([]);
    expect((await sim.requests({ path: "^/connect_token$", method: "POST" })).filter((r) => JSON.stringify(r.body).includes(userId))).toHaveLength(1);
  });
});

describe("registerItem: Retry-After", () => {
  it("waits Retry-After after a 429 and repeats (registering is safe to repeat)", async () => {
    const { client, waits } = await clientFor();
    const itemId = await connectThroughPluggy((await client.createConnectToken()).connect_token);
    await sim.fault({ path: exactPath(`/items/${itemId}`), method: "GET", status: 429, rateLimitReset: 5, times: 1 });
    expect((await client.registerItem(itemId)).created).toBe(true);
    expect(waits).toEqual([5000]);
  });

  it("repeats after a 503 without Retry-After after a second, at most twice, then throws", async () => {
    const { client, waits } = await clientFor();
    const itemId = await connectThroughPluggy((await client.createConnectToken()).connect_token);
    // Each API call reads the item twice (the interactive profile retries once): 2 faults = one 503 answer.
    const fault = await sim.fault({ path: exactPath(`/items/${itemId}`), method: "GET", status: 503, times: 2 });
    expect((await client.registerItem(itemId)).created).toBe(true);
    expect(waits).toEqual([1000]);
    await sim.clearFault(fault);

    waits.length = 0;
    const other = await connectThroughPluggy((await client.createConnectToken()).connect_token);
    await sim.fault({ path: exactPath(`/items/${other}`), method: "GET", status: 503, times: 20 });
    expect(await rejection(client.registerItem(other))).toMatchObject({ status: 503, code: "upstream_unavailable" });
    expect(waits).toEqual([1000, 1000]);
  });

  it("gives up at once when Retry-After is longer than maxWaitSeconds, handing it over in retryAfterSeconds", async () => {
    const { client, waits } = await clientFor({ retry: { maxWaitSeconds: 30 } });
    const itemId = await connectThroughPluggy((await client.createConnectToken()).connect_token);
    await sim.fault({ path: exactPath(`/items/${itemId}`), method: "GET", status: 429, rateLimitReset: 45, times: 1 });
    expect(await rejection(client.registerItem(itemId))).toMatchObject({ status: 429, retryAfterSeconds: 45 });
    expect(waits).toEqual([]);
  });
});

describe("reads, a category change and the bookmark", () => {
  it("lists items and accounts, filters transactions, and walks every cursor page", async () => {
    const { client, itemId } = await connectedUser();
    expect((await client.listItems()).data.map((item) => item.id)).toEqual([itemId]);
    const accounts = await client.listAccounts({ item_id: itemId });
    expect(accounts.data.map((account) => account.subtype)).toEqual(expect.arrayContaining(["CHECKING_ACCOUNT", "CREDIT_CARD"]));
    expect(accounts.next_cursor).toBeNull();

    const everything = (await client.listTransactions({ item_id: itemId, limit: 200 })).data;
    expect(everything.length).toBeGreaterThan(50);
    const pages = await all(client.transactionPages({ item_id: itemId, limit: 25 }));
    expect(pages.length).toBe(Math.ceil(everything.length / 25));
    expect(pages.flatMap((page) => page.data.map((t) => t.id))).toEqual(everything.map((t) => t.id));
    expect(pages.at(-1)?.next_cursor).toBeNull();

    const word = everything[0]?.description.split(" ")[0] ?? "";
    const found = await client.listTransactions({ item_id: itemId, search: word.toLowerCase() });
    expect(found.data.length).toBeGreaterThan(0);
    expect(found.data.every((t) => t.description.toLowerCase().includes(word.toLowerCase()))).toBe(true);

    const account = accounts.data[0]?.id ?? "";
    const byAccount = await all(client.transactionPages({ account_id: account, date_from: "2000-01-01" }));
    expect(byAccount.flatMap((page) => page.data).every((t) => t.account_id === account)).toBe(true);
  });

  it("sets a category (pending → synced at Pluggy) and sends back the bookmark the PATCH returned", async () => {
    const { client, itemId, sent } = await connectedUser();
    const category = await makeCategory({ name: `Client test ${crypto.randomUUID()}`, pluggyCategoryId: "11010000" });
    expect((await client.listCategories()).find((c) => c.id === category.id)).toEqual({ id: category.id, name: category.name, parent_id: null, pluggy_category_id: "11010000" });

    const [transaction] = (await client.listTransactions({ item_id: itemId, limit: 1 })).data;
    if (!transaction?.pluggy_id) throw new Error("no transaction");
    const changed = await client.setTransactionCategory(transaction.id, category.id);
    expect(changed).toMatchObject({ id: transaction.id, category: { id: category.id }, category_sync: { status: "pending" } });
    const bookmark = client.bookmark;
    expect(bookmark).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/);

    expect((await client.getTransaction(transaction.id)).category?.id).toBe(category.id);
    const read = sent.at(-1);
    expect(read).toMatchObject({ method: "GET", path: `/api/banking/transactions/${transaction.id}` });
    expect(read?.bookmark).toBe(bookmark);

    await vi.waitUntil(async () => (await client.getTransaction(transaction.id)).category_sync?.status === "synced", { timeout: 15_000, interval: 250 });
    const atPluggy = (await sim.getItemState(itemId)).transactions.find((t) => t.id === transaction.pluggy_id);
    expect(atPluggy?.categoryId).toBe("11010000");
  });

  it("answers a missing transaction with ApiError not_found, and a bad limit naming the field", async () => {
    const { client } = await clientFor();
    expect(await rejection(client.getTransaction(crypto.randomUUID()))).toMatchObject({ status: 404, code: "not_found" });
    expect(await rejection(client.listTransactions({ limit: 0 }))).toMatchObject({ status: 400, code: "validation_error", details: [{ field: "limit" }] });
  });
});

describe("refresh, disconnect, erase", () => {
  it("refreshes an item (202, UPDATING), deletes it (then 404), and erases the user", async () => {
    const { client, itemId } = await connectedUser();
    expect(await client.refreshItem(itemId)).toMatchObject({ id: itemId, status: "UPDATING" });

    await client.deleteItem(itemId);
    expect((await client.listItems()).data).toEqual([]);
    expect(await rejection(client.deleteItem(itemId))).toMatchObject({ status: 404, code: "not_found" });

    expect(await client.eraseMe()).toEqual({ status: "queued" });
  });
});

describe("without the API's envelope", () => {
  it("reports code unexpected_response with the status and the X-Request-Id header", async () => {
    const client: FinanceHubClient = createClient({
      baseUrl: "https://api.test",
      retry: false,
      fetch: async () => new Response("<html>Bad gateway</html>", { status: 502, headers: { "Content-Type": "text/html", "X-Request-Id": "req-1" } }),
    });
    expect(await rejection(client.listItems())).toMatchObject({ status: 502, code: "unexpected_response", requestId: "req-1", details: [] });
  });
});
