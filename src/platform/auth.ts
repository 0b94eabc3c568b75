import { verify, verifyWithJwks } from "hono/jwt";
import { decodeHeader } from "hono/utils/jwt/jwt";
import { createMiddleware } from "hono/factory";
import type { JWTPayload } from "hono/utils/jwt/types";
import { AppError } from "./errors.ts";
import type { AppBindings, AppEnv } from "./env.ts";

export interface AuthUser {
  /** The JWT `sub`: the only user identity this service knows. */
  id: string;
  isAdmin: boolean;
}

const unauthorized = (message = "missing or invalid bearer token") => new AppError("unauthorized", message);

/**
 * Verifies a JWT per the contract: HS256 with AUTH_JWT_SECRET, or RS256/ES256 against AUTH_JWKS_URL
 * when set; `exp` required; `iss`/`aud` enforced when configured; `alg: none` and any other algorithm
 * refused. Returns the user, or throws 401.
 */
export async function authenticate(token: string, env: AppBindings): Promise<AuthUser> {
  let payload: JWTPayload;
  const verification = {
    ...(env.AUTH_JWT_ISSUER ? { iss: env.AUTH_JWT_ISSUER } : {}),
    ...(env.AUTH_JWT_AUDIENCE ? { aud: env.AUTH_JWT_AUDIENCE } : {}),
  };
  try {
    const header = decodeHeader(token);
    if (env.AUTH_JWKS_URL && header.alg !== "HS256") {
      payload = await verifyWithJwks(token, {
        jwks_uri: env.AUTH_JWKS_URL,
        allowedAlgorithms: ["RS256", "ES256"],
        verification,
      });
    } else {
      if (!env.AUTH_JWT_SECRET) throw unauthorized("authentication is not configured");
      payload = await verify(token, env.AUTH_JWT_SECRET, { alg: "HS256", ...verification });
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw unauthorized("invalid or expired token");
  }
  if (typeof payload.exp !== "number") throw unauthorized("token has no exp claim");
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
