import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import type { AppBindings } from "../src/platform/env.ts";
import { call, body } from "./helpers/http.ts";
import { backoffSeconds } from "../src/platform/backoff.ts";
import { formatMinor, toMinor } from "../src/platform/money.ts";
import { decodeCursor, encodeCursor } from "../src/platform/cursor.ts";
import { z } from "zod";

describe("healthz", () => {
  it("answers ok without auth and carries a request id", async () => {
    const res = await call("/healthz");
    expect(res.status).toBe(200);
    // The test configuration has PLUGGY_WEBHOOK_SECRET and no PLUGGY_WEBHOOK_AUTH_TOKEN: every delivery must be signed.
    expect(await body(res)).toEqual({ data: { status: "ok", webhook_signatures: "required" } });
    expect(res.headers.get("X-Request-Id")).toMatch(/.+/);
  });

  it.each([
    [{ PLUGGY_WEBHOOK_SECRET: undefined }, "not_checked"],
    [{ PLUGGY_WEBHOOK_SECRET: "" }, "not_checked"],
    [{ PLUGGY_WEBHOOK_SECRET: "   " }, "not_checked"],
    [{ PLUGGY_WEBHOOK_SECRET: " , ,, " }, "not_checked"],
    [{ PLUGGY_WEBHOOK_SECRET: "s1", PLUGGY_WEBHOOK_AUTH_TOKEN: "t1" }, "checked"],
    [{ PLUGGY_WEBHOOK_SECRET: "s1", PLUGGY_WEBHOOK_AUTH_TOKEN: "t1", PLUGGY_WEBHOOK_REQUIRE_SIGNATURE: "true" }, "required"],
    [{ PLUGGY_WEBHOOK_SECRET: "s1,s0", PLUGGY_WEBHOOK_AUTH_TOKEN: " " }, "required"],
  ])("says how webhook signatures are checked (%j → %s), touching no storage", async (vars, expected) => {
    const broken = () => {
      throw new Error("storage touched");
    };
    const noStorage = { DB: { prepare: broken, batch: broken, exec: broken }, WEBHOOK_ARCHIVE: { get: broken, put: broken, head: broken, list: broken, delete: broken } };
    const ctx = createExecutionContext();
    const res = await createApp().fetch(new Request("https://api.test/healthz"), { ...(env as AppBindings), ...noStorage, ...vars } as unknown as AppBindings, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(200);
    expect(await body(res)).toEqual({ data: { status: "ok", webhook_signatures: expected } });
  });

  it("echoes a valid incoming request id", async () => {
    const res = await call("/healthz", { headers: { "X-Request-Id": "abc-123" } });
    expect(res.headers.get("X-Request-Id")).toBe("abc-123");
  });

  it("works with a trailing slash", async () => {
    expect((await call("/healthz/")).status).toBe(200);
  });
});

describe("unknown routes", () => {
  it("answer 404 in the error envelope", async () => {
    const res = await call("/api/banking/nope/");
    expect(res.status).toBe(404);
    const json = await body(res);
    expect(json.error.code).toBe("not_found");
    expect(json.error.request_id).toBe(res.headers.get("X-Request-Id"));
  });
});

describe("openapi", () => {
  it("serves an OpenAPI 3.1 document and the docs page", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    const doc = await body(res);
    expect(doc.openapi).toBe("3.1.0");
    expect((await call("/docs")).status).toBe(200);
  });

  it("renders /docs on the server from the OpenAPI document, with no external script (works offline)", async () => {
    const doc = await body(await call("/openapi.json"));
    const html = await (await call("/docs")).text();
    expect(html).not.toMatch(/<script/i);
    for (const path of Object.keys(doc.paths)) expect(html).toContain(path);
    expect((await call("/docs/swagger")).status).toBe(200);
  });
});

describe("money", () => {
  it.each([
    [0, "0.00"],
    [5, "0.05"],
    [-12345, "-123.45"],
    [100, "1.00"],
    [-1, "-0.01"],
  ])("formats %i as %s", (minor, text) => expect(formatMinor(minor)).toBe(text));

  it.each([
    [0.29, 29],
    [-123.45, -12345],
    [1999.99, 199999],
    [0.1 + 0.2, 30],
    [-0.01, -1],
  ])("converts %d to %i minor units", (amount, minor) => expect(toMinor(amount)).toBe(minor));
});

describe("backoff", () => {
  const options = { baseSeconds: 5, capSeconds: 300 };
  it("doubles per attempt and caps, with jitter between half and full", () => {
    expect(backoffSeconds(1, { ...options, random: () => 0.999999 })).toBe(5);
    expect(backoffSeconds(1, { ...options, random: () => 0 })).toBe(3);
    expect(backoffSeconds(3, { ...options, random: () => 0.999999 })).toBe(20);
    expect(backoffSeconds(20, { ...options, random: () => 0.999999 })).toBe(300);
  });
  it("never goes below the floor (a 429's reset)", () => {
    expect(backoffSeconds(1, { ...options, random: () => 0 }, 42)).toBe(42);
  });
});

describe("cursor", () => {
  const schema = z.object({ d: z.string(), i: z.string() });
  it("round-trips", () => {
    expect(decodeCursor(encodeCursor({ d: "2026-01-01", i: "x" }), schema)).toEqual({ d: "2026-01-01", i: "x" });
  });
  it.each(["", "!!!", "bm90LWpzb24", encodeCursor({ d: 1, i: "x" })])("refuses %j as a validation error", (cursor) => {
    expect(() => decodeCursor(cursor, schema)).toThrowError(expect.objectContaining({ code: "validation_error" }));
  });
});

describe("wrong method on an existing path", () => {
  it.each([
    ["PUT", "/api/banking/items/"],
    ["DELETE", "/api/banking/transactions"],
    ["POST", "/healthz"],
  ])("%s %s answers 405 with Allow in the envelope", async (method, path) => {
    const res = await call(path, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toMatch(/GET/);
    expect((await body(res)).error.code).toBe("method_not_allowed");
  });

  it("keeps 404 for paths that do not exist at all", async () => {
    expect((await call("/api/banking/nothing-here/", { method: "PUT" })).status).toBe(404);
  });
});
