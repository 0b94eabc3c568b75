import { verify, verifyWithJwks } from "hono/jwt";
import { decodeHeader } from "hono/utils/jwt/jwt";
import { createMiddleware } from "hono/factory";
import type { JWTPayload } from "hono/utils/jwt/types";
import { AppError, ConfigurationError } from "./errors.ts";
import type { AppBindings, AppEnv } from "./env.ts";
import { signingKeys } from "./jwks.ts";

export interface AuthUser {
  /** The JWT `sub`: the only user identity this service knows. */
  id: string;
  isAdmin: boolean;
}

/** The shortest HS256 key accepted: as long as the hash's output (RFC 7518 §3.2). */
export const MIN_HS256_SECRET_BYTES = 32;
/** Longest token lifetime (`exp − iat`) accepted unless AUTH_JWT_MAX_LIFETIME_SECONDS says otherwise. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;

const JWKS_ALGORITHMS = ["RS256", "ES256"];

const unauthorized = (message = "missing or invalid bearer token") => new AppError("unauthorized", message);

const configured = (value: string | undefined): string | undefined => (value && value.trim().length > 0 ? value : undefined);

interface AuthPolicy {
  jwksUrl: string | undefined;
  /** HS256 is accepted: always without a JWKS; with one only when AUTH_ALLOW_HS256=true. */
  allowHs256: boolean;
  verification: { iss?: string; aud?: string };
  maxLifetimeSeconds: number;
}

/**
 * How tokens are checked on this deployment. Throws ConfigurationError (a logged 500, never a 401)
 * when the configuration is one we refuse to run with.
 */
function authPolicy(env: AppBindings): AuthPolicy {
  const jwksUrl = configured(env.AUTH_JWKS_URL);
  const issuer = configured(env.AUTH_JWT_ISSUER);
  const audience = configured(env.AUTH_JWT_AUDIENCE);
  if (jwksUrl && (!issuer || !audience)) {
    const missing = [issuer ? undefined : "AUTH_JWT_ISSUER", audience ? undefined : "AUTH_JWT_AUDIENCE"].filter((name) => name !== undefined);
    throw new ConfigurationError(
      `AUTH_JWKS_URL is set but ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not: with a JWKS, tokens must name our issuer and audience (set AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE)`,
    );
  }
  const rawLifetime = configured(env.AUTH_JWT_MAX_LIFETIME_SECONDS);
  const maxLifetimeSeconds = rawLifetime === undefined ? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS : Number(rawLifetime.trim());
  if (!Number.isInteger(maxLifetimeSeconds) || maxLifetimeSeconds <= 0) {
    throw new ConfigurationError(`AUTH_JWT_MAX_LIFETIME_SECONDS must be a positive whole number of seconds (it is "${rawLifetime ?? ""}")`);
  }
  return {
    jwksUrl,
    allowHs256: !jwksUrl || env.AUTH_ALLOW_HS256?.trim().toLowerCase() === "true",
    verification: { ...(issuer ? { iss: issuer } : {}), ...(audience ? { aud: audience } : {}) },
    maxLifetimeSeconds,
  };
}

/** AUTH_JWT_SECRET, refused when missing or shorter than MIN_HS256_SECRET_BYTES. */
function hs256Secret(env: AppBindings): string {
  const secret = configured(env.AUTH_JWT_SECRET);
  if (!secret) {
    throw new ConfigurationError("AUTH_JWT_SECRET is not set, so HS256 tokens cannot be verified (wrangler secret put AUTH_JWT_SECRET, or use AUTH_JWKS_URL)");
  }
  const bytes = new TextEncoder().encode(secret).byteLength;
  if (bytes < MIN_HS256_SECRET_BYTES) {
    throw new ConfigurationError(
      `AUTH_JWT_SECRET is ${bytes} bytes; an HS256 key must be at least ${MIN_HS256_SECRET_BYTES} bytes (e.g. the output of \`openssl rand -base64 48\`)`,
    );
  }
  return secret;
}

/**
 * Verifies a JWT: with AUTH_JWKS_URL, RS256/ES256 against the identity provider's keys (cached, see
 * jwks.ts), issuer and audience required, and HS256 refused unless AUTH_ALLOW_HS256=true; without it,
 * HS256 with AUTH_JWT_SECRET (iss/aud enforced when set). `exp` is required, and the lifetime
 * (`exp − iat`, or what is left of it when there is no `iat`) is capped. `alg: none` and any other
 * algorithm are refused. Returns the user, or throws 401 (ConfigurationError for a deployment that
 * cannot check tokens safely; 503 when the key set cannot be fetched).
 */
export async function authenticate(token: string, env: AppBindings): Promise<AuthUser> {
  const policy = authPolicy(env);
  let payload: JWTPayload;
  try {
    const header = decodeHeader(token);
    if (header.alg === "HS256" && policy.allowHs256) {
      payload = await verify(token, hs256Secret(env), { alg: "HS256", ...policy.verification });
    } else if (policy.jwksUrl) {
      if (header.alg === "HS256") throw unauthorized("HS256 tokens are not accepted here; use a token from the identity provider");
      // Checked before any key lookup, so a malformed header never costs a fetch.
      if (!JWKS_ALGORITHMS.includes(header.alg) || typeof header.kid !== "string" || header.kid.length === 0) throw unauthorized("invalid or expired token");
      const keys = await signingKeys(policy.jwksUrl, header.kid);
      payload = await verifyWithJwks(token, { keys, allowedAlgorithms: JWKS_ALGORITHMS as ("RS256" | "ES256")[], verification: policy.verification });
    } else {
      throw unauthorized("invalid or expired token");
    }
  } catch (error) {
    if (error instanceof AppError || error instanceof ConfigurationError) throw error;
    throw unauthorized("invalid or expired token");
  }
  if (typeof payload.exp !== "number") throw unauthorized("token has no exp claim");
  const lifetime = payload.exp - (typeof payload.iat === "number" ? payload.iat : Math.floor(Date.now() / 1000));
  if (lifetime > policy.maxLifetimeSeconds) throw unauthorized(`token lifetime is longer than the ${policy.maxLifetimeSeconds} s allowed`);
  if (typeof payload.sub !== "string" || payload.sub.length === 0 || payload.sub.length > 255) {
    throw unauthorized("token has no sub claim");
  }
  const roles = payload["roles"];
  const isAdmin = payload["role"] === "admin" || (Array.isArray(roles) && roles.includes("admin"));
  return { id: payload.sub, isAdmin };
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

/** Requires a valid user JWT in `Authorization: Bearer`; sets `c.var.user`. */
export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token) throw unauthorized();
  c.set("user", await authenticate(token, c.env));
  await next();
});

/** Requires an admin JWT in `Authorization: Bearer`. Authenticated but not admin → 403. */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token) throw unauthorized();
  const user = await authenticate(token, c.env);
  if (!user.isAdmin) throw new AppError("forbidden", "admin role required");
  c.set("user", user);
  await next();
});
