import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sign } from "hono/jwt";
import { authenticate } from "../../src/platform/auth.ts";
import { authHeaders, tokenFor, uniqueUser } from "../helpers/auth.ts";
import { AUDIENCE, identityProvider, ISSUER, keyPair, signWith } from "../helpers/jwks.ts";
import { makeAccount, makeItem, makeTransaction } from "../helpers/factories.ts";
import { body, call } from "../helpers/http.ts";
import { sim } from "../helpers/simulator.ts";
import { nowSeconds, signToken, unsignedToken } from "./support.ts";

/*
 * The authentication and ownership matrix for every user route (bearer JWTs; "another user's
 * resource answers exactly like a missing one").
 *
 * ADDING A ROUTE: add one row to USER_ROUTES (or PUBLIC_ROUTES if it is not JWT-authenticated). The
 * "route table matches the OpenAPI document" test fails until every /api route of the app is listed
 * here, so a route cannot ship without going through the matrix. `prepare` makes the owner's fixtures
 * and returns the concrete request; `status` is what the owner gets; `owned: true` when the path
 * names one of the owner's resources (a stranger must then get 404).
 */

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

interface PreparedRequest {
  path: string;
  json?: unknown;
}

interface UserRoute {
  method: Method;
  /** The path as /openapi.json spells it, e.g. `/api/banking/transactions/{id}`. */
  path: string;
  /** Makes the owner's fixtures; returns the concrete request the owner is allowed to make. */
  prepare: (owner: string) => Promise<PreparedRequest>;
  /** The owner's status for that request. */
  status: number;
  /** The path names one of the owner's resources: anyone else gets 404 `not_found`. */
  owned: boolean;
}

async function ownedTransaction(owner: string): Promise<string> {
  const item = await makeItem(owner);
  const account = await makeAccount(owner, item.id);
  return (await makeTransaction(owner, account)).id;
}

/** An item that exists at the Pluggy simulator and is registered locally to `owner`. */
async function pluggyItem(owner: string): Promise<string> {
  const { item } = await sim.createItem({ clientUserId: owner, transactionsPerAccount: 0 });
  await makeItem(owner, { id: item.id });
  return item.id;
}

export const USER_ROUTES: UserRoute[] = [
  { method: "GET", path: "/api/banking/transactions", prepare: async () => ({ path: "/api/banking/transactions/" }), status: 200, owned: false },
  {
    method: "GET",
    path: "/api/banking/transactions/{id}",
    prepare: async (owner) => ({ path: `/api/banking/transactions/${await ownedTransaction(owner)}/` }),
    status: 200,
    owned: true,
  },
  {
    method: "PATCH",
    path: "/api/banking/transactions/{id}",
    prepare: async (owner) => ({ path: `/api/banking/transactions/${await ownedTransaction(owner)}/`, json: { category: null } }),
    status: 200,
    owned: true,
  },
  { method: "GET", path: "/api/banking/categories", prepare: async () => ({ path: "/api/banking/categories/" }), status: 200, owned: false },
  { method: "GET", path: "/api/banking/accounts", prepare: async () => ({ path: "/api/banking/accounts/" }), status: 200, owned: false },
  { method: "GET", path: "/api/banking/items", prepare: async () => ({ path: "/api/banking/items/" }), status: 200, owned: false },
  { method: "POST", path: "/api/banking/pluggy/connect-token", prepare: async () => ({ path: "/api/banking/pluggy/connect-token/", json: {} }), status: 200, owned: false },
  {
    method: "POST",
    path: "/api/banking/items",
    prepare: async (owner) => ({ path: "/api/banking/items/", json: { item_id: (await sim.createItem({ clientUserId: owner, transactionsPerAccount: 0 })).item.id } }),
    status: 201,
    owned: false,
  },
  { method: "POST", path: "/api/banking/items/{id}/refresh", prepare: async (owner) => ({ path: `/api/banking/items/${await pluggyItem(owner)}/refresh/` }), status: 202, owned: true },
  { method: "DELETE", path: "/api/banking/items/{id}", prepare: async (owner) => ({ path: `/api/banking/items/${await pluggyItem(owner)}/` }), status: 204, owned: true },
  { method: "DELETE", path: "/api/banking/me", prepare: async () => ({ path: "/api/banking/me/" }), status: 202, owned: false },
];

/** /api routes that are deliberately not JWT-authenticated (method and OpenAPI path). */
const PUBLIC_ROUTES: string[] = ["POST /api/banking/pluggy/webhook"];

const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

/** Every way a request can fail to authenticate; each must be a 401 `unauthorized`. */
const BAD_CREDENTIALS: [string, () => Promise<Record<string, string>>][] = [
  ["no Authorization header", async () => ({})],
  ["an empty Authorization header", async () => ({ Authorization: "" })],
  ["Bearer without a token", async () => ({ Authorization: "Bearer " })],
  ["another scheme (Basic)", async () => ({ Authorization: `Basic ${btoa("alice:secret")}` })],
  ["a valid token without the Bearer scheme", async () => ({ Authorization: await tokenFor(uniqueUser()) })],
  ["a token that is not a JWT", async () => ({ Authorization: "Bearer not-a-jwt" })],
  ["a token signed with the wrong secret", async () => ({ Authorization: `Bearer ${await tokenFor(uniqueUser(), { secret: "wrong-secret-0123456789abcdef0123456789" })}` })],
  ["an expired token", async () => ({ Authorization: `Bearer ${await tokenFor(uniqueUser(), { expiresInSeconds: -60 })}` })],
  ["a token without sub", async () => ({ Authorization: `Bearer ${await signToken({ exp: nowSeconds() + 600 })}` })],
  ["a token with an empty sub", async () => ({ Authorization: `Bearer ${await signToken({ sub: "", exp: nowSeconds() + 600 })}` })],
  ["a token with a numeric sub", async () => ({ Authorization: `Bearer ${await signToken({ sub: 42, exp: nowSeconds() + 600 })}` })],
  ["a token without exp", async () => ({ Authorization: `Bearer ${await signToken({ sub: uniqueUser() })}` })],
  ["a token not valid yet (nbf in the future)", async () => ({ Authorization: `Bearer ${await signToken({ sub: uniqueUser(), exp: nowSeconds() + 600, nbf: nowSeconds() + 300 })}` })],
  ["an unsigned alg:none token", async () => ({ Authorization: `Bearer ${unsignedToken({ sub: uniqueUser(), exp: nowSeconds() + 600, role: "admin" })}` })],
  ["an HS512 token signed with the right secret", async () => ({ Authorization: `Bearer ${await signToken({ sub: uniqueUser(), exp: nowSeconds() + 600 }, { alg: "HS512" })}` })],
  [
    "a token whose payload was swapped after signing",
    async () => {
      const [header, , signature] = (await tokenFor(uniqueUser())).split(".");
      const forged = btoa(JSON.stringify({ sub: "someone-else", exp: nowSeconds() + 600 })).replaceAll("=", "");
      return { Authorization: `Bearer ${header}.${forged}.${signature}` };
    },
  ],
];

function send(method: Method, request: PreparedRequest, headers: Record<string, string>): Promise<Response> {
  return call(request.path, { method, headers, ...(request.json !== undefined ? { json: request.json } : {}) });
}

/** A concrete path for an OpenAPI template, with random ids for the parameters. */
const fillPath = (template: string): string => template.replace(/\{[^}]+\}/g, () => crypto.randomUUID());

async function documentedOperations(): Promise<{ method: string; path: string }[]> {
  const doc = await body(await call("/openapi.json"));
  const operations: { method: string; path: string }[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(item)) {
      if (["get", "post", "put", "patch", "delete"].includes(method)) operations.push({ method: method.toUpperCase(), path });
    }
  }
  return operations;
}

describe("route table matches the OpenAPI document", () => {
  it("lists every /api/banking route, and only routes that exist", async () => {
    const documented = (await documentedOperations()).filter((op) => op.path.startsWith("/api/") && !op.path.startsWith("/api/admin"));
    const documentedKeys = documented.map((op) => key(op.method, op.path)).sort();
    const tableKeys = [...USER_ROUTES.map((r) => key(r.method, r.path)), ...PUBLIC_ROUTES.filter((k) => documentedKeys.includes(k))].sort();
    expect(tableKeys, "every /api route must have a row in USER_ROUTES (or PUBLIC_ROUTES) in test/banking/auth-matrix.test.ts").toEqual(documentedKeys);
  });
});

describe.each(USER_ROUTES)("$method $path", (route) => {
  it.each(BAD_CREDENTIALS)("401 unauthorized with %s", async (_case, credentials) => {
    const request = await route.prepare(uniqueUser());
    const res = await send(route.method, request, await credentials());
    expect(res.status).toBe(401);
    const json = await body(res);
    expect(json.error.code).toBe("unauthorized");
    expect(json.error.request_id).toBe(res.headers.get("X-Request-Id"));
  });

  it("answers the owner", async () => {
    const owner = uniqueUser();
    const res = await send(route.method, await route.prepare(owner), await authHeaders(owner));
    expect(res.status).toBe(route.status);
  });

  it("answers the owner the same when the token also carries the admin role", async () => {
    const owner = uniqueUser();
    for (const claims of [{ role: "admin" }, { roles: ["admin", "user"] }]) {
      const token = await tokenFor(owner, { extra: claims });
      const res = await send(route.method, await route.prepare(owner), { Authorization: `Bearer ${token}` });
      expect(res.status).toBe(route.status);
    }
  });

});

describe.each(USER_ROUTES.filter((route) => route.owned))("$method $path, another user's resource", (route) => {
  it("answers 404 not_found, exactly like a missing resource", async () => {
    const request = await route.prepare(uniqueUser("owner"));
    const stranger = await authHeaders(uniqueUser("stranger"));
    const res = await send(route.method, request, stranger);
    expect(res.status).toBe(404);
    const foreign = (await body(res)).error;
    expect(foreign.code).toBe("not_found");
    const missing = await send(route.method, { ...request, path: request.path.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, () => crypto.randomUUID()) }, stranger);
    expect(missing.status).toBe(404);
    expect((await body(missing)).error).toEqual({ ...foreign, request_id: missing.headers.get("X-Request-Id") });
  });
});

describe("admin routes refuse user tokens", () => {
  it("401 without a token and 403 forbidden with a valid user token, on every documented /api/admin route", async () => {
    const adminOperations = (await documentedOperations()).filter((op) => op.path.startsWith("/api/admin"));
    // With no admin route yet, the router answers unknown /api/admin paths 404 before any auth.
    if (adminOperations.length === 0) {
      expect((await call("/api/admin/webhook-events/", { headers: await authHeaders(uniqueUser()) })).status).toBe(404);
      return;
    }
    const user = await authHeaders(uniqueUser());
    for (const op of adminOperations) {
      const path = fillPath(op.path);
      const anonymous = await call(path, { method: op.method });
      expect([op.method, path, anonymous.status]).toEqual([op.method, path, 401]);
      const res = await call(path, { method: op.method, headers: user });
      expect([op.method, path, res.status]).toEqual([op.method, path, 403]);
      expect((await body(res)).error.code).toBe("forbidden");
    }
  });
});

describe("authenticate() with AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE", () => {
  const issuer = "https://auth.financehub.example";
  const audience = "finance-hub-edge";
  const configured = { ...env, AUTH_JWT_ISSUER: issuer, AUTH_JWT_AUDIENCE: audience };
  const claims = (extra: Record<string, unknown>) => ({ sub: "user-1", exp: nowSeconds() + 600, ...extra });

  it.each([
    ["matching iss and aud", { iss: issuer, aud: audience }],
    ["aud as an array that contains ours", { iss: issuer, aud: ["other-api", audience] }],
  ])("accepts %s", async (_case, extra) => {
    await expect(authenticate(await signToken(claims(extra)), configured)).resolves.toEqual({ id: "user-1", isAdmin: false });
  });

  it.each([
    ["a wrong issuer", { iss: "https://evil.example", aud: audience }],
    ["no issuer", { aud: audience }],
    ["a wrong audience", { iss: issuer, aud: "other-api" }],
    ["no audience", { iss: issuer }],
  ])("refuses %s with 401", async (_case, extra) => {
    await expect(authenticate(await signToken(claims(extra)), configured)).rejects.toMatchObject({ code: "unauthorized", status: 401 });
  });

  it("does not require iss or aud when they are not configured", async () => {
    await expect(authenticate(await signToken(claims({ iss: "anyone", aud: "anything" })), { ...env, AUTH_JWT_ISSUER: undefined, AUTH_JWT_AUDIENCE: undefined })).resolves.toMatchObject({ id: "user-1" });
  });

  it.each([
    [{ role: "admin" }, true],
    [{ roles: ["viewer", "admin"] }, true],
    [{ role: "user" }, false],
    [{ roles: "admin" }, false],
  ])("derives admin from %j → %s", async (extra, isAdmin) => {
    await expect(authenticate(await signToken(claims(extra)), env)).resolves.toEqual({ id: "user-1", isAdmin });
  });
});

describe("authenticate() with AUTH_JWKS_URL", () => {
  // The key set comes from a local identity provider (test/helpers/jwks-server.ts) over a real fetch.
  it.each(["RS256", "ES256"] as const)("accepts an %s token signed by a key in the set", async (alg) => {
    const key = await keyPair(alg);
    const provider = await identityProvider([key.publicJwk]);
    const token = await signWith(key, { sub: "user-jwks" });
    await expect(authenticate(token, { ...env, ...provider.env })).resolves.toEqual({ id: "user-jwks", isAdmin: false });
    expect(await provider.fetches()).toBe(1);
  });

  it("refuses a token signed by a key outside the set, and an unsigned one", async () => {
    const trusted = await keyPair("RS256", "trusted");
    const rogue = await keyPair("RS256", "trusted");
    const provider = await identityProvider([trusted.publicJwk]);
    const forged = await signWith(rogue, { sub: "user-jwks" });
    await expect(authenticate(forged, { ...env, ...provider.env })).rejects.toMatchObject({ code: "unauthorized" });
    const unsigned = unsignedToken({ sub: "user-jwks", exp: nowSeconds() + 600, iss: ISSUER, aud: AUDIENCE });
    await expect(authenticate(unsigned, { ...env, ...provider.env })).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("still requires exp on a JWKS-verified token", async () => {
    const key = await keyPair("ES256");
    const provider = await identityProvider([key.publicJwk]);
    const token = await sign({ sub: "user-jwks", iss: ISSUER, aud: AUDIENCE }, key.privateJwk, "ES256");
    await expect(authenticate(token, { ...env, ...provider.env })).rejects.toMatchObject({ code: "unauthorized" });
  });
});
