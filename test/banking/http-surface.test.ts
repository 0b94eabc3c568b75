import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { authHeaders, uniqueUser } from "../helpers/auth.ts";
import { makeAccount, makeItem, makeTransaction } from "../helpers/factories.ts";
import { body, call } from "../helpers/http.ts";

/*
 * The app-wide surface as the banking API sees it: CORS, body limits and media types, trailing
 * slashes, and the OpenAPI document. Routes are discovered from the app itself, so routes added later
 * by other areas are covered without editing this file.
 */

const app = createApp();
const document = app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "test", version: "0" } });

type Operation = { method: string; path: string; hasBody: boolean };
const operations: Operation[] = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
  (["get", "post", "put", "patch", "delete"] as const)
    .filter((method) => item?.[method] !== undefined)
    .map((method) => ({ method: method.toUpperCase(), path, hasBody: item?.[method]?.requestBody !== undefined })),
);

const WEBHOOK = "/api/banking/pluggy/webhook";
/** JSON-body routes behind the 64 KiB API limit (the webhook has its own 256 KiB limit and checks). */
const bodyRoutes = operations.filter((op) => op.hasBody && op.path.startsWith("/api/") && op.path !== WEBHOOK);
const fill = (path: string) => path.replace(/\{[^}]+\}/g, () => crypto.randomUUID());
const credentialsFor = (path: string) => authHeaders(uniqueUser(), { admin: path.startsWith("/api/admin") });

describe("CORS", () => {
  const allowed = "https://app.example.com";

  it("gives an allowed origin Access-Control-Allow-Origin and exposes the bookmark and request id", async () => {
    const res = await call("/api/banking/transactions/", { headers: { ...(await authHeaders(uniqueUser())), Origin: allowed } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(allowed);
    const exposed = (res.headers.get("Access-Control-Expose-Headers") ?? "").toLowerCase();
    expect(exposed).toContain("x-d1-bookmark");
    expect(exposed).toContain("x-request-id");
  });

  it.each(["https://evil.example", "https://app.example.com.evil.example", "null"])("gives %s no Access-Control-Allow-Origin", async (origin) => {
    const res = await call("/api/banking/transactions/", { headers: { ...(await authHeaders(uniqueUser())), Origin: origin } });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("answers a preflight without credentials, allowing the headers and methods the API uses", async () => {
    const res = await call("/api/banking/transactions/", {
      method: "OPTIONS",
      headers: { Origin: allowed, "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "authorization,content-type,x-d1-bookmark" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(allowed);
    const methods = (res.headers.get("Access-Control-Allow-Methods") ?? "").split(",").map((m) => m.trim());
    expect(methods).toEqual(expect.arrayContaining(["GET", "POST", "PATCH", "DELETE"]));
    const headers = (res.headers.get("Access-Control-Allow-Headers") ?? "").toLowerCase();
    for (const name of ["authorization", "content-type", "x-d1-bookmark"]) expect(headers).toContain(name);
  });

  it("gives a preflight from a foreign origin no Access-Control-Allow-Origin", async () => {
    const res = await call("/api/banking/transactions/", { method: "OPTIONS", headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "GET" } });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});

describe("trailing slashes", () => {
  it("every banking read path answers the same with and without a trailing slash", async () => {
    const userId = uniqueUser();
    const headers = await authHeaders(userId);
    const item = await makeItem(userId);
    const tx = await makeTransaction(userId, await makeAccount(userId, item.id));
    for (const path of ["/api/banking/transactions", `/api/banking/transactions/${tx.id}`, "/api/banking/categories", "/api/banking/accounts", "/api/banking/items"]) {
      const plain = await call(path, { headers });
      const slashed = await call(`${path}/`, { headers });
      expect([path, plain.status, slashed.status]).toEqual([path, 200, 200]);
      expect(await body(slashed)).toEqual(await body(plain));
    }
  });
});

describe("request bodies", () => {
  it("there is at least one JSON-body API route to check", () => {
    expect(bodyRoutes.length).toBeGreaterThan(0);
  });

  describe.each(bodyRoutes)("$method $path", ({ method, path }) => {
    it("413 payload_too_large for a JSON body over 64 KiB", async () => {
      const res = await call(fill(path), { method, headers: await credentialsFor(path), json: { padding: "x".repeat(64 * 1024 + 1) } });
      expect(res.status).toBe(413);
      expect((await body(res)).error.code).toBe("payload_too_large");
    });

    it("413 also when the size is not declared up front (streamed body)", async () => {
      const chunk = new TextEncoder().encode(`{"padding":"${"x".repeat(70 * 1024)}"}`);
      const stream = new ReadableStream({
        start(controller) {
          controller.enqueue(chunk);
          controller.close();
        },
      });
      const res = await call(fill(path), { method, headers: { ...(await credentialsFor(path)), "Content-Type": "application/json", "Transfer-Encoding": "chunked" }, body: stream, duplex: "half" } as RequestInit);
      expect(res.status).toBe(413);
    });

    it.each(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])("415 unsupported_media_type for %s", async (type) => {
      const res = await call(fill(path), { method, headers: { ...(await credentialsFor(path)), "Content-Type": type }, body: "{}" });
      expect(res.status).toBe(415);
      expect((await body(res)).error.code).toBe("unsupported_media_type");
    });

    it.each(["{", '{"a": }', "not json", '{"a":1}garbage'])("400 invalid_json for %j", async (raw) => {
      const res = await call(fill(path), { method, headers: { ...(await credentialsFor(path)), "Content-Type": "application/json" }, body: raw });
      expect(res.status).toBe(400);
      const json = await body(res);
      expect(json.error.code).toBe("invalid_json");
      expect(json.error.request_id).toBe(res.headers.get("X-Request-Id"));
    });
  });
});

describe("OpenAPI", () => {
  it("documents every /api route of the app, with a 3.1 document at /openapi.json", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    const served = await body(res);
    expect(served.openapi).toBe("3.1.0");
    const documented = new Set(
      Object.entries(served.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ":$1")}`)),
    );
    const routed = new Set(
      app.routes
        .filter((r) => r.method !== "ALL" && (r.path.startsWith("/api/") || r.path === "/healthz"))
        .map((r) => `${r.method} ${r.path}`),
    );
    expect(routed.size).toBeGreaterThan(0);
    expect([...routed].filter((route) => !documented.has(route))).toEqual([]);
  });

  it.each([
    ["get", "/api/banking/transactions"],
    ["get", "/api/banking/transactions/{id}"],
    ["get", "/api/banking/categories"],
    ["get", "/api/banking/accounts"],
    ["get", "/api/banking/items"],
    ["get", "/healthz"],
  ])("documents %s %s at its contract path", async (method, path) => {
    const served = await body(await call("/openapi.json"));
    expect(served.paths[path]?.[method]).toBeDefined();
  });

  it("documents the read routes' query parameters, bearer auth and X-D1-Bookmark", async () => {
    const served = await body(await call("/openapi.json"));
    const list = served.paths["/api/banking/transactions"].get;
    const params = list.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`);
    expect(params).toEqual(
      expect.arrayContaining(["query:account_id", "query:item_id", "query:category_id", "query:date_from", "query:date_to", "query:search", "query:limit", "query:cursor", "header:X-D1-Bookmark"]),
    );
    expect(list.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(list.responses["200"].headers ?? {})).toContain("X-D1-Bookmark");
    expect(served.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("serves the docs page as HTML pointing at /openapi.json", async () => {
    const res = await call("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/text\/html/);
    expect(await res.text()).toContain("/openapi.json");
  });
});
