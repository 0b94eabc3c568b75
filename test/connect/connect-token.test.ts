import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client.ts";
import { createApp } from "../../src/app.ts";
import { connectTokenWebhookUrl, createConnectToken } from "../../src/connect/connect-token.service.ts";
import type { AppBindings } from "../../src/platform/env.ts";
import { createPluggyClient } from "../../src/pluggy/pluggy.client.ts";
import { authHeaders, tokenFor, uniqueUser } from "../helpers/auth.ts";
import { makeItem } from "../helpers/factories.ts";
import { body, call } from "../helpers/http.ts";
import { sim } from "../helpers/simulator.ts";

/*
 * POST /api/banking/pluggy/connect-token/: request in, response out, and
 * the exact body Pluggy received, read back from the simulator.
 */

const PATH = "/api/banking/pluggy/connect-token/";

async function connectToken(user: string, json?: unknown): Promise<Response> {
  return call(PATH, { method: "POST", headers: await authHeaders(user), ...(json !== undefined ? { json } : {}) });
}

/** Bodies of the `POST /connect_token` calls Pluggy received for this user (their sub is unique). */
async function pluggyBodiesFor(user: string): Promise<unknown[]> {
  const calls = await sim.requests({ path: "^/connect_token$", method: "POST" });
  return calls.map((request) => request.body).filter((sent) => JSON.stringify(sent).includes(`"clientUserId":"${user}"`));
}

const jwtPayload = (token: string) => JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, any>;

/** A Pluggy item (at the simulator) registered locally to `user`. */
async function ownedItem(user: string): Promise<string> {
  const { item } = await sim.createItem({ clientUserId: user, transactionsPerAccount: 0 });
  await makeItem(user, { id: item.id });
  return item.id;
}

describe("POST /api/banking/pluggy/connect-token/", () => {
  it("creates a token for the caller with only clientUserId when nothing is asked", async () => {
    const user = uniqueUser();
    const before = Date.now();
    for (const res of [await connectToken(user), await connectToken(user, {}), await call(PATH.slice(0, -1), { method: "POST", headers: await authHeaders(user), json: {} })]) {
      expect(res.status).toBe(200);
      const { data } = await body(res);
      expect(Object.keys(data).sort()).toEqual(["connect_token", "connect_url", "expires_at", "widget_options"]);
      expect(jwtPayload(data.connect_token).options).toEqual({ clientUserId: user });
      expect(data.connect_url).toBe(`https://connect.pluggy.ai/?connect_token=${encodeURIComponent(data.connect_token)}`);
      expect(data.widget_options).toEqual({});
      const expires = Date.parse(data.expires_at);
      expect(expires).toBeGreaterThanOrEqual(before + 30 * 60_000 - 1000);
      expect(expires).toBeLessThanOrEqual(Date.now() + 30 * 60_000 + 1000);
      expect(data.expires_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
    expect(await pluggyBodiesFor(user)).toEqual([{ options: { clientUserId: user } }, { options: { clientUserId: user } }, { options: { clientUserId: user } }]);
  });

  describe.each([
    ["country_codes", { country_codes: ["BR", "AR"] }, { countries: ["BR", "AR"] }, "countries=BR,AR"],
    ["connector_types", { connector_types: ["PERSONAL_BANK", "BUSINESS_BANK"] }, { connectorTypes: ["PERSONAL_BANK", "BUSINESS_BANK"] }, "connector_types=PERSONAL_BANK,BUSINESS_BANK"],
    ["connector_ids", { connector_ids: [201, 212] }, { connectorIds: [201, 212] }, "connector_ids=201,212"],
    // Pluggy Bank, the sandbox connector, has id 0.
    ["connector_ids with the sandbox connector 0", { connector_ids: [0] }, { connectorIds: [0] }, "connector_ids=0"],
    ["products_types", { products_types: ["ACCOUNTS", "TRANSACTIONS", "CREDIT_CARDS"] }, { products: ["ACCOUNTS", "TRANSACTIONS", "CREDIT_CARDS"] }, "products=ACCOUNTS,TRANSACTIONS,CREDIT_CARDS"],
    ["include_sandbox true", { include_sandbox: true }, { includeSandbox: true }, "with_sandbox=true"],
    ["include_sandbox false", { include_sandbox: false }, { includeSandbox: false }, "with_sandbox=false"],
  ])("widget filter %s", (_name, asked, widgetOptions, urlPart) => {
    it("goes to widget_options and connect_url, never to Pluggy", async () => {
      const user = uniqueUser();
      const res = await connectToken(user, asked);
      expect(res.status).toBe(200);
      const { data } = await body(res);
      expect(data.widget_options).toEqual(widgetOptions);
      expect(data.connect_url).toBe(`https://connect.pluggy.ai/?connect_token=${encodeURIComponent(data.connect_token)}&${urlPart}`);
      expect(await pluggyBodiesFor(user)).toEqual([{ options: { clientUserId: user } }]);
    });
  });

  describe.each([
    ["avoid_duplicates true", { avoid_duplicates: true }, { avoidDuplicates: true }],
    ["avoid_duplicates false", { avoid_duplicates: false }, { avoidDuplicates: false }],
    ["an https oauth_redirect_uri on an allowed origin", { oauth_redirect_uri: "https://app.example.com/oauth/callback?x=1" }, { oauthRedirectUri: "https://app.example.com/oauth/callback?x=1" }],
    ["an http oauth_redirect_uri on localhost", { oauth_redirect_uri: "http://localhost:5173/cb" }, { oauthRedirectUri: "http://localhost:5173/cb" }],
  ])("token option %s", (_name, asked, options) => {
    it("is sent to Pluggy inside options, and is not a widget option", async () => {
      const user = uniqueUser();
      const res = await connectToken(user, asked);
      expect(res.status).toBe(200);
      const { data } = await body(res);
      expect(data.widget_options).toEqual({});
      expect(await pluggyBodiesFor(user)).toEqual([{ options: { clientUserId: user, ...options } }]);
    });
  });

  it("sends every option at once: token options to Pluggy, filters to the widget", async () => {
    const user = uniqueUser();
    const itemId = await ownedItem(user);
    const res = await connectToken(user, {
      item_id: itemId,
      avoid_duplicates: true,
      country_codes: ["BR"],
      connector_types: ["PERSONAL_BANK"],
      connector_ids: [212],
      products_types: ["ACCOUNTS", "TRANSACTIONS"],
      oauth_redirect_uri: "https://app.example.com/oauth",
      include_sandbox: true,
    });
    expect(res.status).toBe(200);
    const { data } = await body(res);
    expect(data.widget_options).toEqual({ connectorTypes: ["PERSONAL_BANK"], countries: ["BR"], connectorIds: [212], products: ["ACCOUNTS", "TRANSACTIONS"], includeSandbox: true, updateItem: itemId });
    const url = new URL(data.connect_url);
    expect(url.origin + url.pathname).toBe("https://connect.pluggy.ai/");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      connect_token: data.connect_token,
      connector_types: "PERSONAL_BANK",
      countries: "BR",
      connector_ids: "212",
      products: "ACCOUNTS,TRANSACTIONS",
      with_sandbox: "true",
      update_item: itemId,
    });
    expect(await pluggyBodiesFor(user)).toEqual([{ itemId, options: { clientUserId: user, avoidDuplicates: true, oauthRedirectUri: "https://app.example.com/oauth" } }]);
  });

  it("sends PLUGGY_WEBHOOK_URL as options.webhookUrl when configured", async () => {
    const user = uniqueUser();
    const result = await createConnectToken(
      { catalog: createDb(env.DB), pluggy: createPluggyClient(env), allowedOrigins: [], webhookUrl: "https://api.example.com/api/banking/pluggy/webhook/" },
      user,
      {},
    );
    expect(jwtPayload(result.connect_token).options).toEqual({ clientUserId: user, webhookUrl: "https://api.example.com/api/banking/pluggy/webhook/" });
    expect(await pluggyBodiesFor(user)).toEqual([{ options: { clientUserId: user, webhookUrl: "https://api.example.com/api/banking/pluggy/webhook/" } }]);
  });

  describe("PLUGGY_WEBHOOK_URL and the header token (item-level webhook URLs get no custom headers)", () => {
    const hook = "https://api.example.com/api/banking/pluggy/webhook/";
    async function connectTokenWith(user: string, overrides: Partial<AppBindings>): Promise<Response> {
      const request = new Request(`https://api.test${PATH}`, { method: "POST", headers: { ...(await authHeaders(user)), "Content-Type": "application/json" }, body: "{}" });
      const ctx = createExecutionContext();
      const response = await createApp().fetch(request, { ...(env as AppBindings), ...overrides }, ctx);
      await waitOnExecutionContext(ctx);
      return response;
    }

    it("sends webhookUrl when no PLUGGY_WEBHOOK_AUTH_TOKEN is set", async () => {
      const user = uniqueUser();
      expect((await connectTokenWith(user, { PLUGGY_WEBHOOK_URL: hook, PLUGGY_WEBHOOK_AUTH_TOKEN: "" })).status).toBe(200);
      expect(await pluggyBodiesFor(user)).toEqual([{ options: { clientUserId: user, webhookUrl: hook } }]);
    });

    it("does not send webhookUrl when PLUGGY_WEBHOOK_AUTH_TOKEN is set: those deliveries would carry no token and be refused forever", async () => {
      const user = uniqueUser();
      expect((await connectTokenWith(user, { PLUGGY_WEBHOOK_URL: hook, PLUGGY_WEBHOOK_AUTH_TOKEN: "tok-a,tok-b" })).status).toBe(200);
      expect(await pluggyBodiesFor(user)).toEqual([{ options: { clientUserId: user } }]);
    });

    it.each([
      [{ PLUGGY_WEBHOOK_URL: hook }, hook],
      [{ PLUGGY_WEBHOOK_URL: ` ${hook} `, PLUGGY_WEBHOOK_AUTH_TOKEN: " , " }, hook],
      [{ PLUGGY_WEBHOOK_URL: hook, PLUGGY_WEBHOOK_AUTH_TOKEN: "tok" }, undefined],
      [{ PLUGGY_WEBHOOK_URL: "  " }, undefined],
      [{}, undefined],
    ])("connectTokenWebhookUrl(%j) → %s", (vars, expected) => {
      expect(connectTokenWebhookUrl(vars)).toBe(expected);
    });
  });

  describe("update mode (item_id)", () => {
    it("accepts the caller's own item", async () => {
      const user = uniqueUser();
      const itemId = await ownedItem(user);
      const res = await connectToken(user, { item_id: itemId });
      expect(res.status).toBe(200);
      const { data } = await body(res);
      expect(data.widget_options).toEqual({ updateItem: itemId });
      expect(data.connect_url).toContain(`&update_item=${itemId}`);
      expect(await pluggyBodiesFor(user)).toEqual([{ itemId, options: { clientUserId: user } }]);
    });

    it.each([
      ["another user's item", async () => ownedItem(uniqueUser("owner"))],
      ["an unknown item", async () => crypto.randomUUID()],
    ])("answers 404 for %s and never calls Pluggy", async (_name, makeId) => {
      const user = uniqueUser();
      const res = await connectToken(user, { item_id: await makeId() });
      expect(res.status).toBe(404);
      expect((await body(res)).error.code).toBe("not_found");
      expect(await pluggyBodiesFor(user)).toEqual([]);
    });

    it("answers 404 when Pluggy no longer has the item", async () => {
      const user = uniqueUser();
      const itemId = await ownedItem(user);
      await sim.deleteItem(itemId);
      const res = await connectToken(user, { item_id: itemId });
      expect(res.status).toBe(404);
      expect((await body(res)).error.code).toBe("not_found");
    });
  });

  const tooMany = Array.from({ length: 101 }, (_, i) => i + 1);

  describe.each([
    ["an unknown field", { widget: true }, "widget"],
    ["a camelCase alias", { avoidDuplicates: true }, "avoidDuplicates"],
    ["item_id that is not a uuid", { item_id: "item-1" }, "item_id"],
    ["item_id as a number", { item_id: 5 }, "item_id"],
    ["avoid_duplicates as a string", { avoid_duplicates: "true" }, "avoid_duplicates"],
    ["avoid_duplicates as a number", { avoid_duplicates: 1 }, "avoid_duplicates"],
    ["include_sandbox as a string", { include_sandbox: "yes" }, "include_sandbox"],
    ["include_sandbox null", { include_sandbox: null }, "include_sandbox"],
    ["country_codes as a string", { country_codes: "BR" }, "country_codes"],
    ["country_codes in lower case", { country_codes: ["br"] }, "country_codes.0"],
    ["country_codes with an unassigned code", { country_codes: ["XX"] }, "country_codes.0"],
    ["country_codes with an alpha-3 code", { country_codes: ["BRA"] }, "country_codes.0"],
    ["country_codes with a duplicate", { country_codes: ["BR", "AR", "BR"] }, "country_codes"],
    ["country_codes empty", { country_codes: [] }, "country_codes"],
    ["connector_types with an unknown type", { connector_types: ["BANK"] }, "connector_types.0"],
    ["connector_types in lower case", { connector_types: ["personal_bank"] }, "connector_types.0"],
    ["connector_types with a duplicate", { connector_types: ["INVOICE", "INVOICE"] }, "connector_types"],
    ["connector_types empty", { connector_types: [] }, "connector_types"],
    ["connector_ids with a negative id", { connector_ids: [-1] }, "connector_ids.0"],
    ["connector_ids with a fraction", { connector_ids: [1.5] }, "connector_ids.0"],
    ["connector_ids with a string", { connector_ids: ["201"] }, "connector_ids.0"],
    ["connector_ids with a duplicate", { connector_ids: [201, 212, 201] }, "connector_ids"],
    ["connector_ids too long", { connector_ids: tooMany }, "connector_ids"],
    ["products_types with an unknown product", { products_types: ["LOANZ"] }, "products_types.0"],
    ["products_types with a duplicate", { products_types: ["LOANS", "LOANS"] }, "products_types"],
    ["products_types as an object", { products_types: { ACCOUNTS: true } }, "products_types"],
    ["oauth_redirect_uri that is not a URL", { oauth_redirect_uri: "not a url" }, "oauth_redirect_uri"],
    ["a relative oauth_redirect_uri", { oauth_redirect_uri: "/oauth/callback" }, "oauth_redirect_uri"],
    ["an http oauth_redirect_uri off localhost", { oauth_redirect_uri: "http://app.example.com/cb" }, "oauth_redirect_uri"],
    ["a javascript: oauth_redirect_uri", { oauth_redirect_uri: "javascript:alert(1)" }, "oauth_redirect_uri"],
    ["an oauth_redirect_uri with credentials", { oauth_redirect_uri: "https://user:pw@app.example.com/cb" }, "oauth_redirect_uri"],
    ["an oauth_redirect_uri with a fragment", { oauth_redirect_uri: "https://app.example.com/cb#x" }, "oauth_redirect_uri"],
    ["an oauth_redirect_uri on an origin not allowed", { oauth_redirect_uri: "https://evil.example.com/cb" }, "oauth_redirect_uri"],
    ["an oauth_redirect_uri on an allowed host but another port", { oauth_redirect_uri: "https://app.example.com:8443/cb" }, "oauth_redirect_uri"],
    ["an oauth_redirect_uri on an allowed host under http", { oauth_redirect_uri: "http://localhost:5174/cb" }, "oauth_redirect_uri"],
    ["an array body", [], "body"],
  ])("refuses %s", (_name, json, field) => {
    it("with 400 validation_error naming the field, without calling Pluggy", async () => {
      const user = uniqueUser();
      const res = await connectToken(user, json);
      expect(res.status).toBe(400);
      const { error } = await body(res);
      expect(error.code).toBe("validation_error");
      expect(error.details.map((detail: { field: string }) => detail.field)).toContain(field);
      expect(await pluggyBodiesFor(user)).toEqual([]);
    });
  });

  it.each([
    ["malformed JSON", { body: "{", headers: { "Content-Type": "application/json" } }, 400, "invalid_json"],
    ["a form body", { body: "a=1", headers: { "Content-Type": "application/x-www-form-urlencoded" } }, 415, "unsupported_media_type"],
  ])("refuses %s", async (_name, init, status, code) => {
    const user = uniqueUser();
    const res = await call(PATH, { method: "POST", body: init.body, headers: { ...(await authHeaders(user)), ...init.headers } });
    expect(res.status).toBe(status);
    expect((await body(res)).error.code).toBe(code);
  });

  it.each([
    ["no token", async () => ({})],
    ["a bad token", async () => ({ Authorization: `Bearer ${await tokenFor(uniqueUser(), { secret: "wrong-secret-0123456789abcdef0123456789" })}` })],
    ["an expired token", async () => ({ Authorization: `Bearer ${await tokenFor(uniqueUser(), { expiresInSeconds: -5 })}` })],
  ])("answers 401 with %s", async (_name, headers) => {
    const res = await call(PATH, { method: "POST", headers: await headers(), json: {} });
    expect(res.status).toBe(401);
    expect((await body(res)).error.code).toBe("unauthorized");
  });

  it("rate limits each user (20 a minute) with 429 rate_limited and Retry-After, without affecting others", async () => {
    const user = uniqueUser();
    // The limiter's windows are aligned to the clock: a run that crosses a minute boundary gets a fresh
    // allowance part-way. Two windows' worth (41 requests) always reaches a 429, and no window lets more
    // than 20 through, so at least 20 and at most 40 are served before the first 429.
    const statuses: number[] = [];
    let limited: Response | undefined;
    while (!limited && statuses.length < 41) {
      const res = await connectToken(user, {});
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else await res.body?.cancel();
    }
    expect(limited?.status).toBe(429);
    const served = statuses.slice(0, -1);
    expect(served.every((status) => status === 200)).toBe(true);
    expect(served.length).toBeGreaterThanOrEqual(20);
    expect(served.length).toBeLessThanOrEqual(40);
    expect(limited?.headers.get("Retry-After")).toBe("60");
    expect((await body(limited as Response)).error.code).toBe("rate_limited");
    expect(await pluggyBodiesFor(user)).toHaveLength(served.length);
    expect((await connectToken(uniqueUser(), {})).status).toBe(200);
  });

  describe("when Pluggy fails", () => {
    it.each([
      [500, 502, "upstream_error"],
      [400, 502, "upstream_error"],
      [503, 503, "upstream_unavailable"],
    ])("answers Pluggy's %i as %i %s, and does not retry the write", async (pluggyStatus, status, code) => {
      const user = uniqueUser();
      await sim.fault({ path: "^/connect_token$", method: "POST", body: user, status: pluggyStatus, message: "internal detail that must not leak" });
      const res = await connectToken(user, {});
      expect(res.status).toBe(status);
      const { error } = await body(res);
      expect(error.code).toBe(code);
      expect(error.message).not.toContain("internal detail");
      expect(await pluggyBodiesFor(user)).toHaveLength(1);
    });

    it("answers Pluggy's 429 as 429 rate_limited with Pluggy's reset as Retry-After", async () => {
      const user = uniqueUser();
      await sim.fault({ path: "^/connect_token$", method: "POST", body: user, status: 429, rateLimitReset: 42 });
      const res = await connectToken(user, {});
      expect(res.status).toBe(429);
      expect(res.headers.get("Retry-After")).toBe("42");
      expect((await body(res)).error.code).toBe("rate_limited");
    });
  });

  it("is in the OpenAPI document", async () => {
    const doc = await body(await call("/openapi.json"));
    expect(doc.paths["/api/banking/pluggy/connect-token"].post.requestBody.content["application/json"].schema).toBeDefined();
  });
});
