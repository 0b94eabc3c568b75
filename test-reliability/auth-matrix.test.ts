/**
 * The auth matrix over every route, generated from the app's own route table (the Hono router's
 * `routes`, imported from src/app.ts), sent over HTTP to the running app — so a new route cannot
 * skip it. Every route is classified by where it is mounted:
 * - `/api/admin/*`: no token → 401 `unauthorized`; a bad, expired, unsigned or foreign-key token → 401;
 *   a valid user token → 403 `forbidden`;
 * - `/api/banking/*` (except the webhook): the same 401s;
 * - the webhook: no or a wrong signature → 401 `invalid_signature`, never a JWT;
 * - `/admin` console pages: no session → 303 to the sign-in page; a user (non-admin) session → 403;
 * - public: only the explicit PUBLIC list below may answer without credentials.
 * And every documented operation in /openapi.json is a route of the router (and vice versa for /api).
 */
import { sign } from "hono/jwt";
import { describe, expect, it } from "vitest";
import { app, stack, uid } from "./support/stack.ts";

type Route = { method: string; path: string };

/** Routes that answer without any credentials, on purpose. */
const PUBLIC = new Set(["GET /healthz", "GET /openapi.json", "GET /docs", "GET /docs/swagger", "GET /admin/sign-in", "POST /admin/sign-in"]);
const WEBHOOK = /^\/api\/banking\/pluggy\/webhook$/;

const normalize = (path: string) => (path.length > 1 ? path.replace(/\/+$/, "") : path);

/**
 * The router's concrete routes (middleware registrations and catch-alls left out), deduplicated.
 * src/app.ts is imported at run time (vitest transforms it; the app has no Workers-only imports), and
 * by a computed path so this Node-typed project does not type-check the Workers sources.
 */
async function routeTable(): Promise<Route[]> {
  const appModule = ["..", "src", "app.ts"].join("/");
  const { createApp } = (await import(/* @vite-ignore */ appModule)) as { createApp: () => { routes: Array<{ method: string; path: string }> } };
  const seen = new Map<string, Route>();
  for (const r of createApp().routes) {
    if (r.method === "ALL" || r.path.includes("*")) continue;
    const route = { method: r.method.toUpperCase(), path: normalize(r.path) };
    seen.set(`${route.method} ${route.path}`, route);
  }
  return [...seen.values()].sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}

const concrete = (path: string) => `${path.replace(/:[A-Za-z_]+(\{[^}]*\})?/g, () => crypto.randomUUID())}/`.replace(/\/\/$/, "/");

async function badTokens(): Promise<Array<[string, string]>> {
  const now = Math.floor(Date.now() / 1000);
  const secret = stack().secrets.AUTH_JWT_SECRET;
  const header = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
  const claims = Buffer.from(JSON.stringify({ sub: "mallory", exp: now + 600, role: "admin" })).toString("base64url");
  return [
    ["garbage", "Bearer not-a-jwt"],
    ["expired", `Bearer ${await sign({ sub: "alice", exp: now - 60, role: "admin" }, secret, "HS256")}`],
    ["no exp", `Bearer ${await sign({ sub: "alice", role: "admin" }, secret, "HS256")}`],
    ["wrong key", `Bearer ${await sign({ sub: "alice", exp: now + 600, role: "admin" }, "some-other-secret-0123456789abcdef", "HS256")}`],
    ["alg none", `Bearer ${header}.${claims}.`],
    ["Basic scheme", "Basic YWRtaW46YWRtaW4="],
  ];
}

async function send(route: Route, headers: Record<string, string>): Promise<{ status: number; text: string; location: string | null }> {
  const hasBody = !["GET", "HEAD", "DELETE"].includes(route.method);
  const response = await fetch(`${stack().appUrl}${concrete(route.path)}`, {
    method: route.method,
    redirect: "manual",
    headers: { ...(hasBody ? { "Content-Type": "application/json" } : {}), ...headers },
    ...(hasBody ? { body: "{}" } : {}),
  });
  return { status: response.status, text: await response.text(), location: response.headers.get("Location") };
}

const code = (text: string): string | undefined => {
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
};

describe("auth matrix over the router's route table", async () => {
  const routes = await routeTable();
  const api = routes.filter((r) => r.path.startsWith("/api/"));
  const adminApi = api.filter((r) => r.path.startsWith("/api/admin/"));
  const userApi = api.filter((r) => !r.path.startsWith("/api/admin/") && !WEBHOOK.test(r.path));
  const consolePages = routes.filter((r) => (r.path === "/admin" || r.path.startsWith("/admin/")) && !PUBLIC.has(`${r.method} ${r.path}`));
  const classified = new Set([...api, ...consolePages].map((r) => `${r.method} ${r.path}`));
  const unclassified = routes.filter((r) => !classified.has(`${r.method} ${r.path}`) && !PUBLIC.has(`${r.method} ${r.path}`));

  it("has routes, and every route is classified (a new public route must be added to PUBLIC on purpose)", () => {
    expect(adminApi.length).toBeGreaterThan(10);
    expect(userApi.length).toBeGreaterThan(5);
    expect(unclassified.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it("documents every /api route in /openapi.json, and documents no route the router lacks", async () => {
    const doc = await app<{ paths: Record<string, Record<string, unknown>> }>("/openapi.json");
    const documented = Object.entries(doc.body.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => ["get", "post", "put", "patch", "delete"].includes(m))
        .map((m) => `${m.toUpperCase()} ${normalize(path.replace(/\{([^}]+)\}/g, ":$1"))}`),
    );
    const routed = api.map((r) => `${r.method} ${r.path.replace(/\{[^}]*\}/g, "")}`);
    expect(routed.filter((r) => !documented.includes(r)), "routes missing from /openapi.json").toEqual([]);
    expect(documented.filter((d) => d.includes(" /api/") && !routed.includes(d)), "documented but not routed").toEqual([]);
  });

  it.each(adminApi.map((r) => [`${r.method} ${r.path}`, r] as const))("%s: 401 without or with a bad token, 403 with a user token", async (_name, route) => {
    const none = await send(route, {});
    expect([none.status, code(none.text)]).toEqual([401, "unauthorized"]);
    for (const [what, authorization] of await badTokens()) {
      const bad = await send(route, { Authorization: authorization });
      expect([what, bad.status, code(bad.text)]).toEqual([what, 401, "unauthorized"]);
    }
    const userToken = await sign({ sub: uid("matrix-user"), exp: Math.floor(Date.now() / 1000) + 600 }, stack().secrets.AUTH_JWT_SECRET, "HS256");
    const user = await send(route, { Authorization: `Bearer ${userToken}` });
    expect([user.status, code(user.text)]).toEqual([403, "forbidden"]);
  });

  it.each(userApi.map((r) => [`${r.method} ${r.path}`, r] as const))("%s: 401 without or with a bad token", async (_name, route) => {
    const none = await send(route, {});
    expect([none.status, code(none.text)]).toEqual([401, "unauthorized"]);
    for (const [what, authorization] of await badTokens()) {
      const bad = await send(route, { Authorization: authorization });
      expect([what, bad.status, code(bad.text)]).toEqual([what, 401, "unauthorized"]);
    }
  });

  it("webhook: no signature or a wrong one is 401 invalid_signature, and a JWT does not stand in for it", async () => {
    const webhook = api.filter((r) => WEBHOOK.test(r.path));
    expect(webhook.length).toBeGreaterThan(0);
    const adminToken = await sign({ sub: "ops", exp: Math.floor(Date.now() / 1000) + 600, role: "admin" }, stack().secrets.AUTH_JWT_SECRET, "HS256");
    for (const route of webhook) {
      const variants: Array<Record<string, string>> = [{}, { "X-Pluggy-Signature": "00".repeat(32) }, { Authorization: `Bearer ${adminToken}` }];
      for (const headers of variants) {
        const answer = await send(route, { "CF-Connecting-IP": "127.4.0.1", ...headers });
        expect([answer.status, code(answer.text)]).toEqual([401, "invalid_signature"]);
      }
    }
  });

  it.each(consolePages.filter((r) => r.method === "GET").map((r) => [`${r.method} ${r.path}`, r] as const))(
    "%s: no session → sign-in page; a non-admin session → 403",
    async (_name, route) => {
      const none = await send(route, {});
      expect(none.status).toBe(303);
      expect(none.location ?? "").toMatch(/^\/admin\/sign-in/);
      const userToken = await sign({ sub: uid("matrix-user"), exp: Math.floor(Date.now() / 1000) + 600 }, stack().secrets.AUTH_JWT_SECRET, "HS256");
      const user = await send(route, { Cookie: `fhe_console_session=${userToken}` });
      expect(user.status).toBe(403);
    },
  );

  it.each(consolePages.filter((r) => r.method !== "GET").map((r) => [`${r.method} ${r.path}`, r] as const))(
    "%s: a form post without an admin session changes nothing (303 to sign-in or 403)",
    async (_name, route) => {
      const origin = stack().appUrl;
      const none = await send(route, { Origin: origin });
      expect([303, 403]).toContain(none.status);
      const userToken = await sign({ sub: uid("matrix-user"), exp: Math.floor(Date.now() / 1000) + 600 }, stack().secrets.AUTH_JWT_SECRET, "HS256");
      const user = await send(route, { Origin: origin, Cookie: `fhe_console_session=${userToken}` });
      expect(user.status).toBe(403);
    },
  );

  it("public routes answer without credentials", async () => {
    for (const key of PUBLIC) {
      const [method = "GET", path = "/"] = key.split(" ");
      if (method !== "GET") continue;
      const answer = await send({ method, path }, {});
      expect([key, answer.status < 400]).toEqual([key, true]);
    }
  });
});
