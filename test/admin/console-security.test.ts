import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { CONSOLE_BODY_LIMIT } from "../../src/admin/console/console-guard.tsx";
import { deriveToken } from "../../src/admin/console/console-session.ts";
import type { AppBindings } from "../../src/platform/env.ts";
import { tokenFor, uniqueUser } from "../helpers/auth.ts";

/*
 * The operator console's own secret (CONSOLE_SESSION_SECRET, never AUTH_JWT_SECRET) and its body limit.
 * The console's pages and flows are driven in a browser by test-browser/; these are the server-side rules.
 */

const ORIGIN = "https://api.test";
const testEnv = env as AppBindings;

async function consoleFetch(path: string, init: RequestInit = {}, overrides?: Partial<AppBindings>): Promise<Response> {
  const request = new Request(`${ORIGIN}${path}`, { redirect: "manual", ...init });
  return overrides ? createApp().fetch(request, { ...testEnv, ...overrides }) : exports.default.fetch(request);
}

/** The sign-in form's nonce cookie and its CSRF token. */
async function signInForm(overrides?: Partial<AppBindings>): Promise<{ response: Response; nonce: string; csrf: string }> {
  const response = await consoleFetch("/admin/sign-in", {}, overrides);
  const html = await response.clone().text();
  const nonce = /fhe_console_sign_in=([^;]+)/.exec(response.headers.get("Set-Cookie") ?? "")?.[1] ?? "";
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
  return { response, nonce, csrf };
}

describe("the console's own secret", () => {
  it("derives its CSRF tokens from CONSOLE_SESSION_SECRET, not from AUTH_JWT_SECRET", async () => {
    const { response, nonce, csrf } = await signInForm();
    expect(response.status).toBe(200);
    expect(nonce).not.toBe("");
    expect(csrf).toBe(await deriveToken(testEnv.CONSOLE_SESSION_SECRET, "sign-in", nonce));
    expect(csrf).not.toBe(await deriveToken(testEnv.AUTH_JWT_SECRET, "sign-in", nonce));
  });

  it("signs an operator in with a form whose token comes from that secret", async () => {
    const { nonce, csrf } = await signInForm();
    const token = await tokenFor(uniqueUser("ops"), { admin: true });
    const form = new URLSearchParams({ _csrf: csrf, token, next: "/admin" });
    const response = await consoleFetch("/admin/sign-in", {
      method: "POST",
      headers: { Origin: ORIGIN, Cookie: `fhe_console_sign_in=${nonce}`, "Content-Type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("Location")).toBe("/admin");
    expect(response.headers.get("Set-Cookie") ?? "").toContain("fhe_console_session=");
  });

  it.each([
    ["unset", { CONSOLE_SESSION_SECRET: "" }, "is not configured"],
    ["shorter than 32 bytes", { CONSOLE_SESSION_SECRET: "too-short-console-secret" }, "shorter than 32 bytes"],
    ["the same as AUTH_JWT_SECRET", { CONSOLE_SESSION_SECRET: testEnv.AUTH_JWT_SECRET }, "same as AUTH_JWT_SECRET"],
  ])("when it is %s the console says so (503) and never falls back to AUTH_JWT_SECRET", async (_case, overrides, why) => {
    const { response } = await signInForm(overrides);
    expect(response.status).toBe(503);
    const html = await response.text();
    expect(html).toContain("CONSOLE_SESSION_SECRET");
    expect(html).toContain(why);
    expect(html).not.toContain('name="_csrf"');
  });
});

/** A body of `total` bytes produced on demand, counting what the server pulled. */
function countedBody(total: number): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  const chunk = new TextEncoder().encode("token=".padEnd(64 * 1024, "a"));
  let produced = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (produced >= total) return controller.close();
      const next = chunk.subarray(0, Math.min(chunk.byteLength, total - produced));
      produced += next.byteLength;
      controller.enqueue(next);
    },
  });
  return { stream, pulled: () => produced };
}

describe("console body limit", () => {
  const HUNDRED_MB = 100 * 1024 * 1024;

  it(`refuses a 100 MB form to /admin/sign-in with 413 before reading it (declared size)`, async () => {
    const { stream, pulled } = countedBody(HUNDRED_MB);
    const response = await consoleFetch("/admin/sign-in", {
      method: "POST",
      headers: { Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded", "Content-Length": String(HUNDRED_MB) },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(await response.text()).toContain("Form too large");
    expect(pulled()).toBeLessThan(1024 * 1024);
  });

  it("cuts off a 100 MB form sent without a declared size once it passes the limit", async () => {
    const { stream, pulled } = countedBody(HUNDRED_MB);
    const response = await consoleFetch("/admin/sign-in", {
      method: "POST",
      headers: { Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded", "Transfer-Encoding": "chunked" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(pulled()).toBeLessThan(1024 * 1024);
  });

  it("still accepts a form within the limit", async () => {
    const { nonce, csrf } = await signInForm();
    const form = new URLSearchParams({ _csrf: csrf, token: "x".repeat(CONSOLE_BODY_LIMIT - 200), next: "/admin" }).toString();
    expect(form.length).toBeLessThanOrEqual(CONSOLE_BODY_LIMIT);
    const response = await consoleFetch("/admin/sign-in", {
      method: "POST",
      headers: { Origin: ORIGIN, Cookie: `fhe_console_sign_in=${nonce}`, "Content-Type": "application/x-www-form-urlencoded" },
      body: form,
    });
    // Read and judged: the token is not a JWT.
    expect(response.status).toBe(401);
  });
});
