import { env } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { expect } from "vitest";
import { body, call } from "../helpers/http.ts";

/*
 * Helpers for the banking tests: raw token building (for the claims the shared helper always adds)
 * and walking a cursor-paginated list to its end.
 */

const base64url = (text: string): string => btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

/** Signs exactly `payload` (no claims added), HS256 with the test secret unless told otherwise. */
export function signToken(payload: Record<string, unknown>, options: { alg?: "HS256" | "HS384" | "HS512"; secret?: string } = {}): Promise<string> {
  return sign(payload, options.secret ?? env.AUTH_JWT_SECRET, options.alg ?? "HS256");
}

/** An unsigned token (`alg: none`, empty signature), as an attacker would hand-build it. */
export function unsignedToken(payload: Record<string, unknown>): string {
  return `${base64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${base64url(JSON.stringify(payload))}.`;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Expects the contract's 400 `validation_error` with `field` named in `details`. */
export async function expectValidationError(res: Response, field: string): Promise<void> {
  expect(res.status).toBe(400);
  const json = await body(res);
  expect(json.error.code).toBe("validation_error");
  expect(json.error.request_id).toBe(res.headers.get("X-Request-Id"));
  expect(json.error.details.map((d: { field: string }) => d.field)).toContain(field);
}

/** Follows `next_cursor` from `path` to the last page; returns every page's ids in order. */
export async function walkPages(path: string, headers: Record<string, string>, options: { beforeEachPage?: (page: number) => Promise<void> } = {}): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  const separator = path.includes("?") ? "&" : "?";
  do {
    if (pages > 0 && options.beforeEachPage) await options.beforeEachPage(pages);
    const res = await call(cursor ? `${path}${separator}cursor=${encodeURIComponent(cursor)}` : path, { headers });
    expect(res.status).toBe(200);
    const json = await body(res);
    ids.push(...json.data.map((row: { id: string }) => row.id));
    cursor = json.next_cursor;
    pages++;
    if (pages > 1000) throw new Error("pagination does not terminate");
  } while (cursor !== null);
  return { ids, pages };
}
