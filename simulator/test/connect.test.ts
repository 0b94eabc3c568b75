import { describe, expect, it } from "vitest";
import { createSimulator } from "../src/sim.app.ts";
import { CONNECTORS } from "../src/sim.connectors.ts";

/*
 * What Pluggy Connect calls, answered as Pluggy does (pluggy-sdk's Connector and Item types): connectors
 * with Pluggy's filters, item creation with a connect token as X-API-KEY (the token's user and options),
 * sandbox logins, 2-step MFA, avoidDuplicates, update mode, the webhooks each outcome sends, and the page.
 * Each test builds its own simulator, so it can read the webhooks it would deliver to the app.
 */

const CLIENT = { clientId: "sim-client-id", clientSecret: "sim-client-secret" };
const WEBHOOK_URL = "https://app.test/api/banking/pluggy/webhook/";

interface Delivery {
  url: string;
  headers: Headers;
  body: Record<string, any>;
}

function simulator() {
  const deliveries: Delivery[] = [];
  const sim = createSimulator({
    ...CLIENT,
    webhookSecret: "connect-test-secret",
    appWebhookUrl: WEBHOOK_URL,
    seedSandbox: false,
    fetch: async (input, init) => {
      deliveries.push({ url: String(input), headers: new Headers(init?.headers), body: JSON.parse(String(init?.body)) });
      return new Response(JSON.stringify({ data: { status: "accepted" } }), { status: 200 });
    },
  });

  async function call(path: string, init: { method?: string; body?: unknown; key?: string } = {}) {
    const response = await sim.fetch(
      new Request(`http://sim.test${path}`, {
        method: init.method ?? "GET",
        headers: { ...(init.key ? { "X-API-KEY": init.key } : {}), ...(init.body !== undefined ? { "Content-Type": "application/json" } : {}) },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      }),
    );
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: (text && response.headers.get("Content-Type")?.includes("json") ? JSON.parse(text) : text) as any };
  }

  async function apiKey(): Promise<string> {
    return (await call("/auth", { method: "POST", body: CLIENT })).json.apiKey;
  }

  /** A connect token as our API asks for one: `{itemId?, options: {clientUserId, ...}}`. */
  async function connectToken(options: Record<string, unknown>, itemId?: string): Promise<string> {
    const answer = await call("/connect_token", { method: "POST", key: await apiKey(), body: { ...(itemId ? { itemId } : {}), options } });
    expect(answer.status).toBe(200);
    return answer.json.accessToken;
  }

  /** Polls the item until its login settles (not UPDATING), as the Connect page does. */
  async function settled(itemId: string, key: string): Promise<Record<string, any>> {
    for (;;) {
      const { status, json } = await call(`/items/${itemId}`, { key });
      expect(status).toBe(200);
      if (json.status !== "UPDATING") return json;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits until a webhook of `event` about `itemId` was delivered. */
  async function delivered(event: string, itemId: string): Promise<Delivery> {
    for (;;) {
      const found = deliveries.find((delivery) => delivery.body.event === event && delivery.body.itemId === itemId);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  return { sim, deliveries, call, apiKey, connectToken, settled, delivered };
}

const user = () => `connect-user-${crypto.randomUUID()}`;
const OK = { user: "user-ok", password: "password-ok" };

/** Every required field of pluggy-sdk 0.90's `Connector` type. */
const SDK_CONNECTOR_FIELDS = [
  "id", "name", "institutionUrl", "imageUrl", "primaryColor", "type", "country", "credentials", "hasMFA", "health", "isOpenFinance", "isSandbox",
  "supportsPaymentInitiation", "supportsScheduledPayments", "supportsSmartTransfers", "supportsAutomaticPix", "supportsBoletoManagement", "products", "createdAt",
];

describe("GET /connectors", () => {
  it("answers Pluggy's page envelope of connectors in the SDK's shape, without sandbox connectors unless asked", async () => {
    const { call, apiKey } = simulator();
    const key = await apiKey();
    const live = await call("/connectors", { key });
    expect(live.status).toBe(200);
    expect(live.json).toMatchObject({ page: 1, totalPages: 1, total: live.json.results.length });
    expect(live.json.results.every((connector: any) => connector.isSandbox === false)).toBe(true);

    const all = await call("/connectors?sandbox=true", { key });
    expect(all.json.total).toBe(CONNECTORS.length);
    for (const connector of all.json.results) expect(Object.keys(connector)).toEqual(expect.arrayContaining(SDK_CONNECTOR_FIELDS));
    expect(all.json.results.find((connector: any) => connector.id === 0)).toMatchObject({ name: "Pluggy Bank", type: "PERSONAL_BANK", country: "BR", isSandbox: true, hasMFA: false });
    expect(all.json.results.find((connector: any) => connector.hasMFA)).toMatchObject({ isSandbox: true, type: "PERSONAL_BANK" });
  });

  it("filters by countries and types as pluggy-sdk sends them (comma-joined), and by name ignoring accents", async () => {
    const { call, apiKey } = simulator();
    const key = await apiKey();
    const brPersonal = await call("/connectors?countries=BR&types=PERSONAL_BANK&sandbox=true", { key });
    expect(brPersonal.json.results.length).toBeGreaterThan(2);
    expect(brPersonal.json.results.every((connector: any) => connector.country === "BR" && connector.type === "PERSONAL_BANK")).toBe(true);
    expect(brPersonal.json.results.map((connector: any) => connector.name)).not.toContain("Pluggy Bank México");

    const two = await call("/connectors?countries=BR,MX&types=BUSINESS_BANK,PERSONAL_BANK&sandbox=true", { key });
    expect(two.json.results.map((connector: any) => connector.name)).toEqual(expect.arrayContaining(["Pluggy Bank México", "Pluggy Bank Empresas"]));

    const byName = await call("/connectors?name=itau", { key });
    expect(byName.json.results.map((connector: any) => connector.name)).toEqual(["Itaú"]);
    expect((await call("/connectors?isOpenFinance=false&sandbox=true", { key })).json.results.every((connector: any) => !connector.isOpenFinance)).toBe(true);
  });

  it("refuses an unknown connector type and a non-boolean flag with 400", async () => {
    const { call, apiKey } = simulator();
    const key = await apiKey();
    expect((await call("/connectors?types=BANK", { key })).json).toMatchObject({ code: 400, codeDescription: "INVALID_PARAMETERS" });
    expect((await call("/connectors?sandbox=yes", { key })).status).toBe(400);
  });

  it("GET /connectors/{id} answers one connector, or 404 CONNECTOR_NOT_FOUND", async () => {
    const { call, apiKey } = simulator();
    const key = await apiKey();
    expect((await call("/connectors/0", { key })).json).toMatchObject({ id: 0, name: "Pluggy Bank", credentials: [{ name: "user" }, { name: "password", type: "password" }] });
    expect((await call("/connectors/999", { key })).json).toEqual({ code: 404, codeDescription: "CONNECTOR_NOT_FOUND", message: "Connector not found" });
  });
});

describe("a connect token as X-API-KEY", () => {
  it("reaches only what Connect needs: other endpoints answer 403, a forged token 401", async () => {
    const { call, connectToken } = simulator();
    const token = await connectToken({ clientUserId: user() });
    expect((await call("/connectors?sandbox=true", { key: token })).status).toBe(200);
    expect((await call("/categories", { key: token })).status).toBe(403);
    expect((await call("/connect_token", { method: "POST", key: token, body: {} })).status).toBe(403);
    expect((await call(`/accounts?itemId=${crypto.randomUUID()}`, { key: token })).status).toBe(403);
    expect((await call("/connectors", { key: `${token.slice(0, -4)}AAAA` })).status).toBe(401);
  });

  it("cannot read an item it neither created nor was created for", async () => {
    const { call, connectToken } = simulator();
    const first = await connectToken({ clientUserId: user() });
    const created = await call("/items", { method: "POST", key: first, body: { connectorId: 0, parameters: OK } });
    const other = await connectToken({ clientUserId: user() });
    expect((await call(`/items/${created.json.id}`, { key: other })).status).toBe(403);
    expect((await call(`/items/${created.json.id}`, { key: first })).status).toBe(200);
  });
});

describe("POST /items through Connect", () => {
  it("creates the item for the token's clientUserId (200, UPDATING), logs in, collects accounts and sends item/created", async () => {
    const { call, connectToken, settled, delivered, apiKey } = simulator();
    const owner = user();
    const token = await connectToken({ clientUserId: owner, webhookUrl: "https://hooks.example.com/pluggy" });
    const created = await call("/items", { method: "POST", key: token, body: { connectorId: 0, parameters: OK } });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ clientUserId: owner, status: "UPDATING", executionStatus: "LOGIN_IN_PROGRESS", webhookUrl: "https://hooks.example.com/pluggy", connector: { id: 0, name: "Pluggy Bank" } });

    const item = await settled(created.json.id, token);
    expect(item).toMatchObject({ status: "UPDATED", executionStatus: "SUCCESS", error: null, parameter: null, consecutiveFailedLoginAttempts: 0 });
    expect(Date.parse(item.lastUpdatedAt)).not.toBeNaN();
    const accounts = await call(`/accounts?itemId=${item.id}`, { key: await apiKey() });
    expect(accounts.json.results.map((account: any) => account.subtype)).toEqual(["CHECKING_ACCOUNT", "CREDIT_CARD"]);

    const webhook = await delivered("item/created", item.id);
    expect(webhook.url).toBe(WEBHOOK_URL);
    expect(webhook.body).toMatchObject({ event: "item/created", itemId: item.id, triggeredBy: "USER" });
    // Pluggy's webhook bodies do not carry clientUserId; the app reads it from GET /items/{id}.
    expect(webhook.body).not.toHaveProperty("clientUserId");
    expect(webhook.headers.get("X-Pluggy-Signature")).toMatch(/^[0-9a-f]{64}$/);
  });

  it("a wrong password ends LOGIN_ERROR / INVALID_CREDENTIALS with item/error; the same item then logs in with PATCH", async () => {
    const { call, connectToken, settled, delivered } = simulator();
    const token = await connectToken({ clientUserId: user() });
    const created = await call("/items", { method: "POST", key: token, body: { connectorId: 0, parameters: { user: "user-ok", password: "password-wrong" } } });
    const failed = await settled(created.json.id, token);
    expect(failed).toMatchObject({ status: "LOGIN_ERROR", executionStatus: "INVALID_CREDENTIALS", error: { code: "INVALID_CREDENTIALS", message: expect.any(String) }, consecutiveFailedLoginAttempts: 1 });
    expect((await delivered("item/error", failed.id)).body).toMatchObject({ triggeredBy: "USER" });

    const retried = await call(`/items/${failed.id}`, { method: "PATCH", key: token, body: { parameters: OK } });
    expect(retried.status).toBe(200);
    expect(await settled(failed.id, token)).toMatchObject({ status: "UPDATED", executionStatus: "SUCCESS", error: null });
    await delivered("item/created", failed.id);
  });

  it("maps Pluggy's sandbox users to their execution errors", async () => {
    const { call, connectToken, settled } = simulator();
    const token = await connectToken({ clientUserId: user() });
    const created = await call("/items", { method: "POST", key: token, body: { connectorId: 0, parameters: { user: "user-locked", password: "password-ok" } } });
    expect(await settled(created.json.id, token)).toMatchObject({ status: "LOGIN_ERROR", executionStatus: "ACCOUNT_LOCKED", error: { code: "ACCOUNT_LOCKED" } });
  });

  it("checks the connector's credentials first: 400 CONNECTOR_VALIDATION_ERROR naming each parameter", async () => {
    const { call, connectToken } = simulator();
    const token = await connectToken({ clientUserId: user() });
    const answer = await call("/items", { method: "POST", key: token, body: { connectorId: 0, parameters: { user: "maria" } } });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({
      code: 400,
      codeDescription: "CONNECTOR_VALIDATION_ERROR",
      message: "Connector parameters do not match validation rules",
      details: [
        { code: "002", parameter: "user", message: 'The user must start with "user-"' },
        { code: "001", parameter: "password", message: "password parameter is required" },
      ],
    });
    expect((await call("/items", { method: "POST", key: token, body: { connectorId: 4242, parameters: OK } })).json.codeDescription).toBe("CONNECTOR_NOT_FOUND");
  });

  it("2-step MFA: WAITING_USER_INPUT with the token parameter and item/waiting_user_input; a wrong code fails, 123456 succeeds", async () => {
    const { call, connectToken, settled, delivered } = simulator();
    const mfaConnector = CONNECTORS.find((connector) => connector.hasMFA);
    const token = await connectToken({ clientUserId: user() });
    const created = await call("/items", { method: "POST", key: token, body: { connectorId: mfaConnector?.id, parameters: OK } });
    const waiting = await settled(created.json.id, token);
    expect(waiting).toMatchObject({ status: "WAITING_USER_INPUT", executionStatus: "WAITING_USER_INPUT", parameter: { name: "token", mfa: true, label: expect.any(String) } });
    expect(Date.parse(waiting.parameter.expiresAt)).toBeGreaterThan(Date.now());
    await delivered("item/waiting_user_input", waiting.id);

    const wrong = await call(`/items/${waiting.id}/mfa`, { method: "POST", key: token, body: { token: "000000" } });
    expect(wrong.status).toBe(200);
    expect(wrong.json).toMatchObject({ status: "UPDATING", executionStatus: "LOGIN_MFA_IN_PROGRESS" });
    expect(await settled(waiting.id, token)).toMatchObject({ status: "LOGIN_ERROR", executionStatus: "INVALID_CREDENTIALS_MFA" });
    expect((await call(`/items/${waiting.id}/mfa`, { method: "POST", key: token, body: { token: "123456" } })).json.codeDescription).toBe("ITEM_NOT_WAITING_USER_INPUT");

    await call(`/items/${waiting.id}`, { method: "PATCH", key: token, body: { parameters: OK } });
    expect((await settled(waiting.id, token)).status).toBe("WAITING_USER_INPUT");
    expect((await call(`/items/${waiting.id}/mfa`, { method: "POST", key: token, body: {} })).json.codeDescription).toBe("CONNECTOR_VALIDATION_ERROR");
    await call(`/items/${waiting.id}/mfa`, { method: "POST", key: token, body: { token: "123456" } });
    expect(await settled(waiting.id, token)).toMatchObject({ status: "UPDATED", executionStatus: "SUCCESS", parameter: null });
    await delivered("item/created", waiting.id);
  });

  it("avoidDuplicates refuses a second item for the same connector and user with Pluggy's ITEM_USER_ALREADY_EXISTS", async () => {
    const { call, connectToken, settled } = simulator();
    const owner = user();
    const first = await connectToken({ clientUserId: owner, avoidDuplicates: true });
    const created = await call("/items", { method: "POST", key: first, body: { connectorId: 0, parameters: OK } });
    await settled(created.json.id, first);

    const second = await connectToken({ clientUserId: owner, avoidDuplicates: true });
    const refused = await call("/items", { method: "POST", key: second, body: { connectorId: 0, parameters: OK } });
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({ message: expect.any(String), codeDescription: "ITEM_USER_ALREADY_EXISTS", items: [created.json.id] });

    // Another connector, another user, or a token without avoidDuplicates: allowed.
    expect((await call("/items", { method: "POST", key: second, body: { connectorId: 1, parameters: OK } })).status).toBe(200);
    expect((await call("/items", { method: "POST", key: await connectToken({ clientUserId: user(), avoidDuplicates: true }), body: { connectorId: 0, parameters: OK } })).status).toBe(200);
    expect((await call("/items", { method: "POST", key: await connectToken({ clientUserId: owner }), body: { connectorId: 0, parameters: OK } })).status).toBe(200);
  });

  it("with an apiKey takes the SDK's createItem body (clientUserId, webhookUrl, products) and sends triggeredBy CLIENT", async () => {
    const { call, apiKey, settled, delivered } = simulator();
    const owner = user();
    const key = await apiKey();
    const created = await call("/items", { method: "POST", key, body: { connectorId: 212, parameters: {}, clientUserId: owner, webhookUrl: "https://hooks.example.com/x", products: ["ACCOUNTS", "TRANSACTIONS"] } });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ clientUserId: owner, webhookUrl: "https://hooks.example.com/x", products: ["ACCOUNTS", "TRANSACTIONS"], connector: { id: 212, oauth: true } });
    expect((await settled(created.json.id, key)).status).toBe("UPDATED");
    expect((await delivered("item/created", created.json.id)).body.triggeredBy).toBe("CLIENT");
  });
});

describe("update mode", () => {
  it("a token made for an item re-authenticates it with PATCH parameters and sends item/updated", async () => {
    const { call, connectToken, settled, delivered } = simulator();
    const owner = user();
    const creating = await connectToken({ clientUserId: owner });
    const created = await call("/items", { method: "POST", key: creating, body: { connectorId: 0, parameters: OK } });
    await settled(created.json.id, creating);

    const updating = await connectToken({ clientUserId: owner }, created.json.id);
    expect((await call(`/items/${created.json.id}`, { key: updating })).json.connector.credentials).toHaveLength(2);
    const patched = await call(`/items/${created.json.id}`, { method: "PATCH", key: updating, body: { parameters: OK } });
    expect(patched.json).toMatchObject({ status: "UPDATING", executionStatus: "LOGIN_IN_PROGRESS" });
    expect(await settled(created.json.id, updating)).toMatchObject({ status: "UPDATED", executionStatus: "SUCCESS" });
    const updated = (await delivered("item/updated", created.json.id)).body;
    expect(updated).toMatchObject({ itemId: created.json.id, triggeredBy: "USER" });
    expect(updated).not.toHaveProperty("clientUserId");
  });
});

describe("GET /connect", () => {
  it("serves the Connect page: HTML with its script, no caching, a restrictive CSP, no API key needed", async () => {
    const { call } = simulator();
    const page = await call("/connect?connect_token=x&countries=BR");
    expect(page.status).toBe(200);
    expect(page.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("Cache-Control")).toBe("no-store");
    expect(page.headers.get("Content-Security-Policy")).toContain("connect-src 'self'");
    expect(page.json).toContain("<title>Pluggy Connect (simulator)</title>");
    expect(page.json).toContain('"pluggy-connect"');
  });
});
