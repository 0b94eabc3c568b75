/*
 * Web Crypto only (no Workers-only APIs): the simulator runs as its own Worker in `npm run dev` and
 * inside Node as vitest's outbound handler.
 */

const encoder = new TextEncoder();

function bytesToBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export const base64UrlEncode = (text: string): string => bytesToBase64Url(encoder.encode(text));

export function base64UrlDecode(value: string): string {
  const binary = atob(value.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(value.length / 4) * 4, "="));
  return new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
}

async function hmac(secret: string, data: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(data)));
}

/** Lower-case hex HMAC-SHA256 of the exact bytes of `body` (how the simulator signs webhooks). */
export async function hmacSha256Hex(secret: string, body: string): Promise<string> {
  return [...(await hmac(secret, body))].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

const JWT_HEAD = base64UrlEncode(JSON.stringify({ alg: "HS256", typ: "JWT" }));

/** A compact HS256 JWT: the shape of Pluggy's apiKey and connect token. */
export async function signJwt(payload: Record<string, unknown>, secret: string): Promise<string> {
  const body = base64UrlEncode(JSON.stringify(payload));
  return `${JWT_HEAD}.${body}.${bytesToBase64Url(await hmac(secret, `${JWT_HEAD}.${body}`))}`;
}

/** The payload of a JWT this simulator signed; undefined when forged, malformed or expired. */
export async function verifyJwt(token: string, secret: string, nowMs: number): Promise<Record<string, unknown> | undefined> {
  const [head, body, signature] = token.split(".");
  if (head !== JWT_HEAD || !body || !signature) return undefined;
  if (bytesToBase64Url(await hmac(secret, `${head}.${body}`)) !== signature) return undefined;
  try {
    const payload: unknown = JSON.parse(base64UrlDecode(body));
    if (!payload || typeof payload !== "object" || Array.isArray(payload)) return undefined;
    const exp = (payload as { exp?: unknown }).exp;
    if (typeof exp !== "number" || exp * 1000 <= nowMs) return undefined;
    return payload as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
