/*
 * Webhook authentication, kept pure (bytes and strings in, a verdict out) so it is tested with known
 * vectors and reused by anything that needs to re-check a stored body.
 *
 * - `X-Pluggy-Signature`: hex HMAC-SHA256 of the raw body bytes, optionally prefixed `sha256=`, either
 *   case. Checked with `crypto.subtle.verify`, which compares in constant time, against each configured
 *   key in order (PLUGGY_WEBHOOK_SECRET is a comma-separated list so a key can be rotated without a gap).
 * - `X-Webhook-Token` (Pluggy's header-secret scheme): both sides are hashed to equal-length digests and
 *   compared with `crypto.subtle.timingSafeEqual`, so neither the content nor the length leaks.
 */

/**
 * How a body was authenticated: `key:<index>` into PLUGGY_WEBHOOK_SECRET for a verified signature;
 * `unsigned` when it carried no signature header and the caller allowed that (the header token already
 * authenticated it, see `acceptUnsigned`); `none` when no key is configured (nothing checked).
 */
export type MatchedKey = `key:${number}` | "unsigned" | "none";

export type SignatureVerdict =
  | { ok: true; matchedKey: MatchedKey }
  | { ok: false; reason: "missing_signature" | "malformed_signature" | "no_matching_key" };

const SIGNATURE = /^(?:sha256=)?([0-9a-f]{64})$/i;

/* Imported HMAC keys, per isolate: importing costs more than verifying a small body. */
const hmacKeys = new Map<string, Promise<CryptoKey>>();
const encoder = new TextEncoder();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify", "sign"]);
    key.catch(() => hmacKeys.delete(secret));
    hmacKeys.set(secret, key);
  }
  return key;
}

function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** Lower-case hex of a byte buffer. */
export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = "";
  for (const byte of view) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** Lower-case hex SHA-256 of `bytes` (the archive's integrity key). */
export async function sha256Hex(bytes: Uint8Array | ArrayBuffer): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", bytes));
}

/** Hex HMAC-SHA256 of `body` under `secret`: what a sender puts in `X-Pluggy-Signature` (used by tests and tools). */
export async function signBody(body: Uint8Array | string, secret: string): Promise<string> {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  return toHex(await crypto.subtle.sign("HMAC", await hmacKey(secret), bytes));
}

/**
 * Checks `X-Pluggy-Signature` against every configured key (first match wins, so list the newest key
 * first). With no key configured every body is accepted as `none`: the caller logs the warning. A
 * missing (or blank) header is refused, unless `acceptUnsigned` — then it is accepted as `unsigned`.
 * A header that is present but malformed or wrong is always refused.
 */
export async function verifySignature(
  body: Uint8Array,
  header: string | null | undefined,
  secrets: readonly string[],
  options: { acceptUnsigned?: boolean } = {},
): Promise<SignatureVerdict> {
  if (secrets.length === 0) return { ok: true, matchedKey: "none" };
  if (header === null || header === undefined || header.trim() === "") {
    return options.acceptUnsigned === true ? { ok: true, matchedKey: "unsigned" } : { ok: false, reason: "missing_signature" };
  }
  const match = SIGNATURE.exec(header.trim());
  if (!match?.[1]) return { ok: false, reason: "malformed_signature" };
  const signature = hexToBytes(match[1]);
  for (const [index, secret] of secrets.entries()) {
    if (await crypto.subtle.verify("HMAC", await hmacKey(secret), signature, body)) return { ok: true, matchedKey: `key:${index}` };
  }
  return { ok: false, reason: "no_matching_key" };
}

/* Digests of the configured tokens, per isolate (the configuration never changes within one). */
const expectedTokenDigests = new Map<string, Promise<ArrayBuffer>>();

function tokenDigest(token: string): Promise<ArrayBuffer> {
  let digest = expectedTokenDigests.get(token);
  if (!digest) {
    digest = crypto.subtle.digest("SHA-256", encoder.encode(token));
    expectedTokenDigests.set(token, digest);
  }
  return digest;
}

/**
 * Constant-time equality of the presented `X-Webhook-Token` with the configured one, or with any of
 * several during a rotation (PLUGGY_WEBHOOK_AUTH_TOKEN is a comma-separated list like the secret).
 * Hashing first gives `timingSafeEqual` the equal-length inputs it needs and hides the token's length;
 * every configured token is compared, so the time does not depend on which one matched.
 */
export async function tokenMatches(presented: string | null | undefined, expected: string | readonly string[]): Promise<boolean> {
  const tokens = typeof expected === "string" ? [expected] : expected;
  if (presented === null || presented === undefined || tokens.length === 0) return false;
  const [digest, ...wanted] = await Promise.all([crypto.subtle.digest("SHA-256", encoder.encode(presented)), ...tokens.map(tokenDigest)]);
  let matched = false;
  for (const candidate of wanted) matched = crypto.subtle.timingSafeEqual(digest, candidate) || matched;
  return matched;
}
