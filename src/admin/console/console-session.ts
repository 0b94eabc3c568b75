import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { decode } from "hono/jwt";
import type { CookieOptions } from "hono/utils/cookie";

/** Cookies are scoped to the console: the API never sees them, and they never authorize an API call by themselves. */
export const CONSOLE_PATH = "/admin";
export const SESSION_COOKIE = "fhe_console_session";
/** Holds a random nonce between showing the sign-in form and posting it (login CSRF). */
export const SIGN_IN_COOKIE = "fhe_console_sign_in";
export const FLASH_COOKIE = "fhe_console_flash";
/** The hidden form field carrying the CSRF token. */
export const CSRF_FIELD = "_csrf";

/** Upper bound of a console session even when the pasted token lives longer. */
export const MAX_SESSION_SECONDS = 12 * 3600;
const SIGN_IN_NONCE_SECONDS = 15 * 60;
const FLASH_SECONDS = 60;

const encoder = new TextEncoder();

const baseCookie: CookieOptions = { path: CONSOLE_PATH, httpOnly: true, secure: true, sameSite: "Strict" };

function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = "";
  for (const byte of view) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    const bytes = new Uint8Array(new ArrayBuffer(binary.length));
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}

function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

/** `purpose` separates the uses of the one secret, so a CSRF token can never pass as a flash signature. */
const message = (purpose: string, value: string) => encoder.encode(`finance-hub-console:${purpose}\n${value}`);

/** HMAC-SHA256(secret, purpose ‖ value), base64url: the CSRF tokens and the flash signature. */
export async function deriveToken(secret: string, purpose: string, value: string): Promise<string> {
  return base64url(await crypto.subtle.sign("HMAC", await hmacKey(secret), message(purpose, value)));
}

/** Checks a token from `deriveToken` in constant time (`crypto.subtle.verify`). */
export async function verifyDerivedToken(secret: string, purpose: string, value: string, candidate: string | undefined): Promise<boolean> {
  if (!candidate) return false;
  const signature = fromBase64url(candidate);
  if (!signature || signature.byteLength !== 32) return false;
  return crypto.subtle.verify("HMAC", await hmacKey(secret), signature, message(purpose, value));
}

/** Seconds the session cookie may live: until the token's `exp`, and never more than MAX_SESSION_SECONDS. */
export function sessionMaxAge(token: string, nowSeconds = Math.floor(Date.now() / 1000)): number {
  let exp: unknown;
  try {
    exp = decode(token).payload.exp;
  } catch {
    return 0;
  }
  if (typeof exp !== "number") return 0;
  return Math.max(0, Math.min(Math.floor(exp - nowSeconds), MAX_SESSION_SECONDS));
}

export function readSessionToken(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

export function startSession(c: Context, token: string, maxAge: number): void {
  setCookie(c, SESSION_COOKIE, token, { ...baseCookie, maxAge });
  deleteCookie(c, SIGN_IN_COOKIE, baseCookie);
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, baseCookie);
}

/** A fresh random nonce for the sign-in form (stored in a short-lived cookie); returns it. */
export function issueSignInNonce(c: Context): string {
  const nonce = base64url(crypto.getRandomValues(new Uint8Array(24)));
  setCookie(c, SIGN_IN_COOKIE, nonce, { ...baseCookie, maxAge: SIGN_IN_NONCE_SECONDS });
  return nonce;
}

export function readSignInNonce(c: Context): string | undefined {
  return getCookie(c, SIGN_IN_COOKIE);
}

/** A one-shot message shown on the page after a redirect (post/redirect/get). */
export interface Flash {
  kind: "success" | "error";
  message: string;
  /** The admin API's request id, for errors: what an operator quotes when asking for logs. */
  requestId?: string;
}

/** Stores a signed flash message for the next page; the signature stops a planted cookie from putting words on the page. */
export async function setFlash(c: Context, secret: string, flash: Flash): Promise<void> {
  const payload = base64url(encoder.encode(JSON.stringify(flash)));
  const signature = await deriveToken(secret, "flash", payload);
  setCookie(c, FLASH_COOKIE, `${payload}.${signature}`, { ...baseCookie, maxAge: FLASH_SECONDS });
}

/** Reads and clears the flash message, if a valid one is present. */
export async function takeFlash(c: Context, secret: string): Promise<Flash | null> {
  const cookie = getCookie(c, FLASH_COOKIE);
  if (!cookie) return null;
  deleteCookie(c, FLASH_COOKIE, baseCookie);
  const [payload = "", signature] = cookie.split(".");
  if (!(await verifyDerivedToken(secret, "flash", payload, signature))) return null;
  const bytes = fromBase64url(payload);
  if (!bytes) return null;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof value !== "object" || value === null) return null;
    const { kind, message: text, requestId } = value as Record<string, unknown>;
    if ((kind !== "success" && kind !== "error") || typeof text !== "string") return null;
    return { kind, message: text, ...(typeof requestId === "string" ? { requestId } : {}) };
  } catch {
    return null;
  }
}

/** Only a path inside the console is a valid place to return to after signing in (no open redirect). */
export function safeNextPath(next: string | undefined): string {
  if (!next || !/^\/admin(\/[A-Za-z0-9\-._~/%?=&+]*)?$/.test(next) || next.includes("//") || next.startsWith("/admin/sign-")) {
    return CONSOLE_PATH;
  }
  return next;
}
