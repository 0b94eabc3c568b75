import { sign } from "hono/jwt";
import { JWKS_HOST } from "./jwks-server.ts";

/*
 * The identity provider of a JWKS test: its own tenant at the local JWKS server (jwks-server.ts, reached
 * at http://jwks.test through vitest.config.ts), its key pairs, and the count of fetches it served.
 */

export type JwksAlg = "RS256" | "ES256";

export interface KeyPair {
  kid: string;
  alg: JwksAlg;
  publicJwk: JsonWebKey & { kid: string };
  privateJwk: JsonWebKey & { kid: string; alg: JwksAlg };
}

export async function keyPair(alg: JwksAlg, kid: string = crypto.randomUUID()): Promise<KeyPair> {
  const params =
    alg === "RS256"
      ? { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }
      : { name: "ECDSA", namedCurve: "P-256" };
  const pair = (await crypto.subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
  const publicJwk = { ...((await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey), kid, alg, use: "sig" };
  const privateJwk = { ...((await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey), kid, alg };
  return { kid, alg, publicJwk, privateJwk };
}

export const ISSUER = "https://auth.financehub.example/";
export const AUDIENCE = "finance-hub-edge";

/** A token signed with `key` (its kid in the header), with our issuer and audience unless overridden. */
export function signWith(key: KeyPair, claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign({ iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 600, ...claims }, key.privateJwk, key.alg);
}

export interface IdentityProvider {
  /** AUTH_JWKS_URL for this provider. */
  url: string;
  /** The env overrides that make this provider the issuer (JWKS URL, issuer, audience). */
  env: { AUTH_JWKS_URL: string; AUTH_JWT_ISSUER: string; AUTH_JWT_AUDIENCE: string };
  publish(keys: JsonWebKey[]): Promise<void>;
  /** Make the endpoint answer `status` (0 = normally) and/or hang `delayMs` before answering. */
  misbehave(options: { status?: number; delayMs?: number }): Promise<void>;
  /** How many times the key set was fetched. */
  fetches(): Promise<number>;
}

export async function identityProvider(keys: JsonWebKey[] = []): Promise<IdentityProvider> {
  const base = `http://${JWKS_HOST}/${crypto.randomUUID()}`;
  const control = async (body: unknown) => {
    const response = await fetch(`${base}/__control`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (response.status !== 204) throw new Error(`jwks server answered ${response.status}`);
  };
  const url = `${base}/.well-known/jwks.json`;
  const provider: IdentityProvider = {
    url,
    env: { AUTH_JWKS_URL: url, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE },
    publish: (published) => control({ keys: published }),
    misbehave: (options) => control(options),
    async fetches() {
      const response = await fetch(`${base}/__control`);
      return ((await response.json()) as { fetches: number }).fetches;
    },
  };
  await provider.publish(keys);
  return provider;
}
