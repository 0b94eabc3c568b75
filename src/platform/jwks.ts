import { z } from "zod";
import { AppError } from "./errors.ts";
import { createLogger } from "./logger.ts";

/*
 * The identity provider's signing keys (AUTH_JWKS_URL), cached per isolate. A token costs no fetch
 * while its `kid` is in a fresh key set. What can make this isolate fetch:
 * - the set is older than JWKS_TTL_MS (the provider rotated, or will);
 * - a `kid` the set does not have (a key published since) — at most once per JWKS_MIN_REFETCH_MS, so a
 *   flood of tokens with made-up `kid`s costs one fetch a minute, not one per token;
 * - after a failed fetch, the next try waits JWKS_RETRY_AFTER_FAILURE_MS.
 * Concurrent requests share one fetch in flight. Each fetch is bounded by JWKS_FETCH_TIMEOUT_MS and
 * JWKS_MAX_BYTES. While refreshes fail, the last good set is used up to JWKS_MAX_STALE_MS past its TTL;
 * with no usable set the request is answered 503 (the token may be fine; we cannot check it now).
 */

export const JWKS_TTL_MS = 10 * 60_000;
export const JWKS_MIN_REFETCH_MS = 60_000;
export const JWKS_RETRY_AFTER_FAILURE_MS = 10_000;
export const JWKS_MAX_STALE_MS = 60 * 60_000;
export const JWKS_FETCH_TIMEOUT_MS = 5_000;
export const JWKS_MAX_BYTES = 256 * 1024;
const MAX_KEYS = 100;

const jwkSchema = z.looseObject({ kty: z.string(), kid: z.string().min(1).optional() });
const jwksSchema = z.object({ keys: z.array(z.unknown()).max(MAX_KEYS) });

interface CachedKeySet {
  keys: JsonWebKey[] | undefined;
  /** When `keys` was fetched (ms). */
  fetchedAt: number;
  /** When the latest fetch started, and whether it failed. */
  attemptedAt: number;
  failed: boolean;
  inflight: Promise<void> | undefined;
}

/* Per isolate, one entry per JWKS URL (there is one in any deployment). */
const keySets = new Map<string, CachedKeySet>();

const logger = createLogger({ component: "jwks" });

async function fetchKeySet(url: string, entry: CachedKeySet): Promise<void> {
  entry.attemptedAt = Date.now();
  try {
    const response = await fetch(url, { headers: { Accept: "application/json" }, signal: AbortSignal.timeout(JWKS_FETCH_TIMEOUT_MS) });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`the key set answered HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get("Content-Length") ?? "0");
    if (declared > JWKS_MAX_BYTES) {
      await response.body?.cancel();
      throw new Error(`the key set is larger than ${JWKS_MAX_BYTES} bytes`);
    }
    const text = await response.text();
    if (text.length > JWKS_MAX_BYTES) throw new Error(`the key set is larger than ${JWKS_MAX_BYTES} bytes`);
    const parsed = jwksSchema.parse(JSON.parse(text));
    entry.keys = parsed.keys.flatMap((key) => (jwkSchema.safeParse(key).success ? [key as JsonWebKey] : []));
    entry.fetchedAt = Date.now();
    entry.failed = false;
  } catch (error) {
    entry.failed = true;
    logger.warn("could not fetch the identity provider's key set (AUTH_JWKS_URL)", {
      url,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      using_cached_keys: entry.keys !== undefined,
    });
  }
}

/**
 * The key set to verify a token whose header names `kid`, fetching it when the rules above allow.
 * Throws 503 `upstream_unavailable` when there is no usable key set.
 */
export async function signingKeys(url: string, kid: string): Promise<JsonWebKey[]> {
  let entry = keySets.get(url);
  if (!entry) {
    entry = { keys: undefined, fetchedAt: 0, attemptedAt: 0, failed: false, inflight: undefined };
    keySets.set(url, entry);
  }
  const now = Date.now();
  const expired = entry.keys === undefined || now - entry.fetchedAt >= JWKS_TTL_MS;
  const known = entry.keys?.some((key) => (key as { kid?: unknown }).kid === kid) ?? false;
  if (expired || !known) {
    if (entry.inflight) {
      await entry.inflight;
    } else {
      const wait = entry.attemptedAt === 0 ? 0 : entry.failed ? JWKS_RETRY_AFTER_FAILURE_MS : JWKS_MIN_REFETCH_MS;
      if (now - entry.attemptedAt >= wait) {
        const current = entry;
        current.inflight = fetchKeySet(url, current).finally(() => {
          current.inflight = undefined;
        });
        await current.inflight;
      }
    }
  }
  if (entry.keys === undefined || Date.now() - entry.fetchedAt >= JWKS_TTL_MS + JWKS_MAX_STALE_MS) {
    throw new AppError("upstream_unavailable", "the identity provider's signing keys cannot be fetched right now; try again shortly", {
      headers: { "Retry-After": String(JWKS_RETRY_AFTER_FAILURE_MS / 1000) },
    });
  }
  return entry.keys;
}
