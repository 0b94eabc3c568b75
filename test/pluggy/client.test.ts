import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createPluggyClient, jwtExpiryMs, type PluggyClientOptions } from "../../src/pluggy/pluggy.client.ts";
import { PluggyError } from "../../src/pluggy/pluggy.errors.ts";
import { PLUGGY_CATEGORIES } from "../../simulator/src/pluggy-categories.ts";
import { exactPath, sim } from "../helpers/simulator.ts";

/*
 * The Pluggy client against the simulator. Each test authenticates as its own tenant
 * (`sim-client-id+<uuid>`), so it has its own cached apiKey and can count its own calls.
 */

interface Harness {
  client: ReturnType<typeof createPluggyClient>;
  tenant: string;
  /** Delays the client asked to sleep, in ms (sleeps are instant here). */
  sleeps: number[];
  /** The clock the client sees; tests move it. */
  clock: { now: number };
  calls: (filter?: { path?: string; method?: string }) => ReturnType<typeof sim.requests>;
}

function harness(options: PluggyClientOptions & { secret?: string } = {}): Harness {
  const tenant = `sim-client-id+${crypto.randomUUID()}`;
  const sleeps: number[] = [];
  const clock = { now: Date.now() };
  const { secret, ...clientOptions } = options;
  const client = createPluggyClient(
    { ...env, PLUGGY_CLIENT_ID: tenant, PLUGGY_CLIENT_SECRET: secret ?? env.PLUGGY_CLIENT_SECRET },
    {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      now: () => clock.now,
      ...clientOptions,
    },
  );
  return { client, tenant, sleeps, clock, calls: (filter = {}) => sim.requests({ ...filter, clientId: tenant }) };
}

const newUser = () => `client-test-${crypto.randomUUID()}`;

describe("apiKey", () => {
  it("is fetched once with POST /auth {clientId, clientSecret} and reused for every call", async () => {
    const h = harness();
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    await h.client.getItem(item.id);
    await h.client.listAccounts(item.id);
    await h.client.listCategories();
    const auth = await h.calls({ path: "^/auth$" });
    expect(auth).toHaveLength(1);
    expect(auth[0]?.body).toEqual({ clientId: h.tenant, clientSecret: env.PLUGGY_CLIENT_SECRET });
    expect((await h.calls()).map((call) => `${call.method} ${call.path}`)).toEqual(["POST /auth", `GET /items/${item.id}`, "GET /accounts", "GET /categories"]);
  });

  it("is shared by concurrent callers: one in-flight refresh", async () => {
    const h = harness();
    await Promise.all(Array.from({ length: 10 }, () => h.client.listCategories()));
    expect(await h.calls({ path: "^/auth$" })).toHaveLength(1);
    expect(await h.calls({ path: "^/categories$" })).toHaveLength(10);
  });

  it("is refreshed about 5 minutes before its exp", async () => {
    const h = harness();
    await h.client.listCategories();
    const [auth] = await h.calls({ path: "^/auth$" });
    expect(auth).toBeDefined();
    h.clock.now = Date.now() + 2 * 60 * 60_000 - 6 * 60_000;
    await h.client.listCategories();
    expect(await h.calls({ path: "^/auth$" })).toHaveLength(1);
    h.clock.now = Date.now() + 2 * 60 * 60_000 - 4 * 60_000;
    await h.client.listCategories();
    await h.client.listCategories();
    expect(await h.calls({ path: "^/auth$" })).toHaveLength(2);
  });

  it("is dropped and fetched again once when Pluggy answers 401 to an apiKey call", async () => {
    const h = harness();
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    await h.client.listCategories();
    await sim.fault({ path: exactPath(`/items/${item.id}`), status: 401, message: "expired" });
    expect((await h.client.getItem(item.id)).id).toBe(item.id);
    expect(await h.calls({ path: "^/auth$" })).toHaveLength(2);
    expect((await h.calls({ path: exactPath(`/items/${item.id}`) })).map((call) => call.status)).toEqual([401, 200]);
  });

  it("re-authenticates only once: a second 401 is thrown", async () => {
    const h = harness();
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    await sim.fault({ path: exactPath(`/items/${item.id}`), status: 401, times: 2 });
    await expect(h.client.getItem(item.id)).rejects.toMatchObject({ status: 401 });
    expect(await h.calls({ path: "^/auth$" })).toHaveLength(2);
  });

  it("with wrong client keys throws 401 CLIENT_KEYS_UNAUTHORIZED without retrying", async () => {
    const h = harness({ secret: "wrong" });
    const error = await h.client.listCategories().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PluggyError);
    expect(error).toMatchObject({ status: 401, codeDescription: "CLIENT_KEYS_UNAUTHORIZED" });
    expect(await h.calls()).toHaveLength(1);
  });

  it("reads exp from the JWT payload", () => {
    const payload = btoa(JSON.stringify({ exp: 2_000_000_000 })).replace(/=+$/, "");
    expect(jwtExpiryMs(`x.${payload}.y`)).toBe(2_000_000_000_000);
    expect(jwtExpiryMs("not-a-jwt")).toBeUndefined();
  });
});

describe("errors", () => {
  it("carry Pluggy's status, codeDescription and message", async () => {
    const h = harness();
    const error = await h.client.getItem(crypto.randomUUID()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PluggyError);
    expect(error).toMatchObject({ status: 404, codeDescription: "ITEM_NOT_FOUND", message: "Item not found" });
  });

  it("on a 429 carry RateLimit-Reset as retryAfterSeconds", async () => {
    const h = harness({ maxReadAttempts: 1 });
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    await sim.fault({ path: exactPath(`/items/${item.id}`), status: 429, rateLimitReset: 17 });
    await expect(h.client.getItem(item.id)).rejects.toMatchObject({ status: 429, retryAfterSeconds: 17 });
  });
});

describe("retries", () => {
  it.each([500, 502, 503])("retry a read after %i with jittered backoff, up to 3 attempts", async (status) => {
    const h = harness();
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    await sim.fault({ path: exactPath(`/items/${item.id}`), status, times: 2 });
    expect((await h.client.getItem(item.id)).id).toBe(item.id);
    expect((await h.calls({ path: exactPath(`/items/${item.id}`) })).map((call) => call.status)).toEqual([status, status, 200]);
    expect(h.sleeps).toHaveLength(2);
    for (const delay of h.sleeps) {
      expect(delay).toBeGreaterThanOrEqual(1000);
      expect(delay).toBeLessThanOrEqual(4000);
    }
  });

  it("give up after the last attempt and throw the last error", async () => {
    const h = harness();
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    await sim.fault({ path: exactPath(`/items/${item.id}`), status: 500, times: 10 });
    await expect(h.client.getItem(item.id)).rejects.toMatchObject({ status: 500 });
    expect(await h.calls({ path: exactPath(`/items/${item.id}`) })).toHaveLength(3);
  });

  it("wait for RateLimit-Reset on a 429, then succeed", async () => {
    const h = harness();
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    await sim.fault({ path: exactPath(`/items/${item.id}`), status: 429, rateLimitReset: 3 });
    expect((await h.client.getItem(item.id)).id).toBe(item.id);
    expect(h.sleeps).toHaveLength(1);
    expect(h.sleeps[0]).toBeGreaterThanOrEqual(3000);
    expect(h.sleeps[0]).toBeLessThanOrEqual(5000);
  });

  it("do not wait on a 429 whose reset is longer than the in-request bound: the caller retries later", async () => {
    const h = harness();
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    await sim.fault({ path: exactPath(`/items/${item.id}`), status: 429, rateLimitReset: 30 });
    await expect(h.client.getItem(item.id)).rejects.toMatchObject({ status: 429, retryAfterSeconds: 30 });
    expect(h.sleeps).toEqual([]);
    expect(await h.calls({ path: exactPath(`/items/${item.id}`) })).toHaveLength(1);
  });

  it("retry a read that timed out, and report a persistent timeout as status 0 TIMEOUT", async () => {
    const h = harness({ timeoutMs: 150 });
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    await h.client.listCategories();
    await sim.fault({ path: exactPath(`/items/${item.id}`), delayMs: 600 });
    expect((await h.client.getItem(item.id)).id).toBe(item.id);
    expect(h.sleeps).toHaveLength(1);

    await sim.fault({ path: exactPath(`/items/${item.id}`), delayMs: 600, times: 3 });
    const error = await h.client.getItem(item.id).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PluggyError);
    expect(error).toMatchObject({ status: 0, codeDescription: "TIMEOUT" });
  });

  it.each([
    ["PATCH /items/{id}", "PATCH", (h: Harness, ids: { item: string; transaction: string }) => h.client.updateItem(ids.item), (ids: { item: string }) => `/items/${ids.item}`],
    ["DELETE /items/{id}", "DELETE", (h: Harness, ids: { item: string }) => h.client.deleteItem(ids.item), (ids: { item: string }) => `/items/${ids.item}`],
    ["PATCH /transactions/{id}", "PATCH", (h: Harness, ids: { transaction: string }) => h.client.updateTransactionCategory(ids.transaction, "05080000"), (ids: { transaction: string }) => `/transactions/${ids.transaction}`],
    ["POST /connect_token", "POST", (h: Harness, ids: { item: string }) => h.client.createConnectToken({ itemId: ids.item, clientUserId: "u" }), () => "/connect_token"],
  ] as const)("never retry a write (%s)", async (_name, method, run, path) => {
    const h = harness();
    const { item, transactionIds } = await sim.createItem({ clientUserId: newUser(), accounts: 1, transactionsPerAccount: 1 });
    const ids = { item: item.id, transaction: transactionIds[0] ?? "" };
    await sim.fault({ path: exactPath(path(ids)), method, status: 503, body: method === "POST" ? item.id : undefined });
    await expect(run(h, ids)).rejects.toMatchObject({ status: 503 });
    expect(await h.calls({ path: exactPath(path(ids)), method })).toHaveLength(1);
    expect(h.sleeps).toEqual([]);
  });
});

describe("profiles", () => {
  it.each([
    ["background (the default)", 3, {}],
    ["interactive", 2, { profile: "interactive" }],
  ] as const)("%s: a read failing with 503 is tried %i times", async (_name, attempts, options) => {
    const h = harness(options);
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    await sim.fault({ path: exactPath(`/items/${item.id}`), status: 503, times: 10 });
    await expect(h.client.getItem(item.id)).rejects.toMatchObject({ status: 503 });
    expect(await h.calls({ path: exactPath(`/items/${item.id}`) })).toHaveLength(attempts);
  });

  it("interactive waits on a 429 only for a short reset: a longer one is the caller's to answer", async () => {
    const h = harness({ profile: "interactive" });
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    await sim.fault({ path: exactPath(`/items/${item.id}`), status: 429, rateLimitReset: 4 });
    await expect(h.client.getItem(item.id)).rejects.toMatchObject({ status: 429, retryAfterSeconds: 4 });
    expect(h.sleeps).toEqual([]);
  });

  it("the budget cuts an attempt short and starts no retry that could not finish within it", async () => {
    const h = harness({ profile: "interactive", budgetMs: 1_500 });
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    await h.client.listCategories();
    await sim.fault({ path: exactPath(`/items/${item.id}`), delayMs: 20_000, times: 3 });
    const error = await h.client.getItem(item.id).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: "PluggyError", status: 0, codeDescription: "TIMEOUT" });
    // Cut short: the simulator has not answered the one attempt yet (no wall-clock bound of the test's own).
    expect((await h.calls({ path: exactPath(`/items/${item.id}`) })).map((call) => call.status)).toEqual([null]);
    expect(h.sleeps).toEqual([]);
  });

  it("the budget covers waiting for an apiKey", async () => {
    const h = harness({ profile: "interactive", budgetMs: 1_000 });
    await sim.fault({ path: "^/auth$", method: "POST", body: h.tenant.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), delayMs: 20_000, times: 3 });
    await expect(h.client.listCategories()).rejects.toMatchObject({ status: 0, codeDescription: "TIMEOUT" });
    // Given up while POST /auth was still unanswered, and the call itself never started.
    expect((await h.calls({ path: "^/auth$" })).map((call) => call.status)).toEqual([null]);
    expect(await h.calls({ path: "^/categories$" })).toEqual([]);
  });
});

describe("transactions (v2)", () => {
  it("follows `next` until null and returns every transaction once", async () => {
    const h = harness();
    const { accounts } = await sim.createItem({ clientUserId: newUser(), accounts: 1, transactionsPerAccount: 1234 });
    const accountId = accounts[0]?.id ?? "";
    const all = await h.client.listTransactions({ accountId });
    expect(all).toHaveLength(1234);
    expect(new Set(all.map((t) => t.id)).size).toBe(1234);
    const pages = await h.calls({ path: "^/v2/transactions$" });
    expect(pages.map((page) => Object.keys(page.query).sort())).toEqual([["accountId"], ["accountId", "after"], ["accountId", "after"]]);
  });

  it("yields page by page with iterateTransactions", async () => {
    const h = harness();
    const { accounts } = await sim.createItem({ clientUserId: newUser(), accounts: 1, transactionsPerAccount: 1001 });
    const sizes: number[] = [];
    for await (const page of h.client.iterateTransactions({ accountId: accounts[0]?.id ?? "" })) sizes.push(page.length);
    expect(sizes).toEqual([500, 500, 1]);
  });

  it("follows an absolute `next` link too", async () => {
    const absolute: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).includes("/v2/transactions")) return response;
      const json = (await response.json()) as { results: unknown[]; next: string | null };
      return Response.json({ ...json, next: json.next ? `http://pluggy.test${json.next}` : null });
    };
    const h = harness({ fetch: absolute });
    const { accounts } = await sim.createItem({ clientUserId: newUser(), accounts: 1, transactionsPerAccount: 700 });
    expect(await h.client.listTransactions({ accountId: accounts[0]?.id ?? "" })).toHaveLength(700);
  });

  it("chunks `ids` into requests of at most 200 (Pluggy allows 500; 500 uuids overflow common URL limits)", async () => {
    const h = harness();
    const { accounts, transactionIds } = await sim.createItem({ clientUserId: newUser(), accounts: 1, transactionsPerAccount: 1100 });
    const found = await h.client.listTransactions({ accountId: accounts[0]?.id ?? "", ids: [...transactionIds, transactionIds[0] ?? ""] });
    expect(found.map((t) => t.id).sort()).toEqual([...transactionIds].sort());
    const requests = await h.calls({ path: "^/v2/transactions$" });
    expect(requests.map((request) => (request.query.ids ?? "").split(",").length)).toEqual([200, 200, 200, 200, 200, 100]);
  });

  it("sends dateFrom/dateTo and createdAtFrom as given, but never dateFrom with createdAtFrom", async () => {
    const h = harness();
    const { item, accounts } = await sim.createItem({ clientUserId: newUser(), accounts: 1, transactionsPerAccount: 3 });
    const accountId = accounts[0]?.id ?? "";
    const [old] = await sim.addTransactions(item.id, { accountId, transactions: [{ date: "2021-03-04", amount: -10, type: "DEBIT" }] });
    expect((await h.client.listTransactions({ accountId, dateFrom: "2021-03-01", dateTo: "2021-03-31" })).map((t) => t.id)).toEqual([old?.id]);
    const recent = await h.client.listTransactions({ accountId, createdAtFrom: old?.createdAt ?? "" });
    expect(recent.map((t) => t.id)).toContain(old?.id);
    await expect(h.client.listTransactions({ accountId, dateFrom: "2021-03-01", createdAtFrom: "2021-03-01T00:00:00Z" })).rejects.toThrow(/mutually exclusive/);
    expect(await h.calls({ path: "createdAtFrom=2021-03-01T00" })).toEqual([]);
  });

  it("retries a failed page without starting over", async () => {
    const h = harness();
    const { accounts } = await sim.createItem({ clientUserId: newUser(), accounts: 1, transactionsPerAccount: 600 });
    const accountId = accounts[0]?.id ?? "";
    await sim.fault({ path: `^/v2/transactions\\?accountId=${accountId}&after=`, status: 502 });
    expect(await h.client.listTransactions({ accountId })).toHaveLength(600);
    expect((await h.calls({ path: "^/v2/transactions$" })).map((call) => [Boolean(call.query.after), call.status])).toEqual([
      [false, 200],
      [true, 502],
      [true, 200],
    ]);
  });
});

describe("categories", () => {
  it("accepts Pluggy's page envelope", async () => {
    const categories = await harness().client.listCategories();
    expect(categories).toHaveLength(PLUGGY_CATEGORIES.length);
    expect(categories).toContainEqual(expect.objectContaining({ id: "05080000", description: "Transfer - TED", parentId: "05000000" }));
  });

  it("accepts a bare array", async () => {
    const bare: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).endsWith("/categories")) return response;
      return Response.json(((await response.json()) as { results: unknown[] }).results);
    };
    const h = harness({ fetch: bare });
    expect(await h.client.listCategories()).toHaveLength(PLUGGY_CATEGORIES.length);
  });
});

describe("single transactions and items", () => {
  it("reads a transaction and changes its category", async () => {
    const h = harness();
    const { transactionIds } = await sim.createItem({ clientUserId: newUser(), accounts: 1, transactionsPerAccount: 1 });
    const id = transactionIds[0] ?? "";
    const updated = await h.client.updateTransactionCategory(id, "11010000");
    expect(updated).toMatchObject({ id, categoryId: "11010000" });
    expect((await h.client.getTransaction(id)).categoryId).toBe("11010000");
    expect((await h.calls({ path: exactPath(`/transactions/${id}`), method: "PATCH" }))[0]?.body).toEqual({ categoryId: "11010000" });
    await expect(h.client.updateTransactionCategory(id, "12345678")).rejects.toMatchObject({ status: 400 });
  });

  it("updates and deletes items", async () => {
    const h = harness();
    const { item } = await sim.createItem({ clientUserId: newUser(), transactionsPerAccount: 0 });
    expect((await h.client.updateItem(item.id)).status).toBe("UPDATING");
    await h.client.deleteItem(item.id);
    await expect(h.client.getItem(item.id)).rejects.toMatchObject({ status: 404 });
  });

  it("creates connect tokens with only the options given", async () => {
    const h = harness();
    const { accessToken } = await h.client.createConnectToken({ clientUserId: "u-1", avoidDuplicates: false });
    expect(accessToken.split(".")).toHaveLength(3);
    expect((await h.calls({ path: "^/connect_token$" }))[0]?.body).toEqual({ options: { clientUserId: "u-1", avoidDuplicates: false } });
  });
});

describe("webhooks", () => {
  it("creates, lists, updates and deletes", async () => {
    const h = harness();
    const created = await h.client.createWebhook({ url: "https://api.example.com/hook", event: "all", headers: { "X-Webhook-Token": "secret" } });
    expect(created).toMatchObject({ url: "https://api.example.com/hook", event: "all" });
    expect((await h.client.listWebhooks()).map((hook) => hook.id)).toEqual([created.id]);
    const updated = await h.client.updateWebhook(created.id, { url: "https://api.example.com/hook2", enabled: false });
    expect(updated).toMatchObject({ url: "https://api.example.com/hook2", disabledAt: expect.any(String) });
    await h.client.deleteWebhook(created.id);
    expect(await h.client.listWebhooks()).toEqual([]);
  });
});
