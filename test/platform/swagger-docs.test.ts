import { describe, expect, it } from "vitest";
import { call } from "../helpers/http.ts";

/*
 * /docs/swagger shares its origin with the operator console: every script it loads is pinned to an
 * exact version and checked by Subresource Integrity, and its CSP allows nothing else to run.
 */

describe("/docs/swagger", () => {
  it("loads Swagger UI only from a pinned version, with an SRI hash on every external file", async () => {
    const response = await call("/docs/swagger");
    expect(response.status).toBe(200);
    const html = await response.text();

    const scripts = [...html.matchAll(/<script\b([^>]*)>/gi)].map((match) => match[1] ?? "");
    const external = scripts.filter((attributes) => /\bsrc=/.test(attributes));
    const stylesheets = [...html.matchAll(/<link\b([^>]*rel="stylesheet"[^>]*)>/gi)].map((match) => match[1] ?? "");
    expect(external).toHaveLength(1);
    expect(stylesheets).toHaveLength(1);
    for (const attributes of [...external, ...stylesheets]) {
      const url = /\b(?:src|href)="([^"]+)"/.exec(attributes)?.[1] ?? "";
      expect(url, "an exact version in the URL, not a range or 'latest'").toMatch(/^https:\/\/cdn\.jsdelivr\.net\/npm\/swagger-ui-dist@\d+\.\d+\.\d+\/[a-z-]+\.(js|css)$/);
      expect(attributes).toMatch(/\bintegrity="sha384-[A-Za-z0-9+/]{64}"/);
      expect(attributes).toMatch(/\bcrossorigin="anonymous"/);
    }
  });

  it("runs under a CSP that allows only that file and the page's own nonce'd initializer", async () => {
    const response = await call("/docs/swagger");
    const csp = response.headers.get("Content-Security-Policy") ?? "";
    const html = await response.text();
    const directives = Object.fromEntries(csp.split(";").map((part) => part.trim().split(/\s+/)).map(([name = "", ...values]) => [name, values]));
    expect(directives["default-src"]).toEqual(["'none'"]);
    const scriptSources = directives["script-src"] ?? [];
    const scriptUrl = /<script\b[^>]*\bsrc="([^"]+)"/.exec(html)?.[1];
    const nonce = /<script\b[^>]*\bnonce="([^"]+)"/.exec(html)?.[1];
    expect(scriptSources.sort()).toEqual([`'nonce-${nonce}'`, scriptUrl].sort());
    expect(csp).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline|\*/);
    expect(directives["connect-src"]).toEqual(["'self'"]);
    expect(directives["frame-ancestors"]).toEqual(["'none'"]);
    // A fresh nonce per response.
    const again = (await call("/docs/swagger")).headers.get("Content-Security-Policy");
    expect(again).not.toBe(csp);
  });
});
