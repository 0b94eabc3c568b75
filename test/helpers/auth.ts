import { sign } from "hono/jwt";
import { env } from "cloudflare:workers";

/** A unique user id per call, so tests never share fixtures by accident. */
export const uniqueUser = (prefix = "user"): string => `${prefix}-${crypto.randomUUID()}`;

/** A valid HS256 token for `sub`, signed with the test AUTH_JWT_SECRET. */
export async function tokenFor(sub: string, options: { admin?: boolean; expiresInSeconds?: number; secret?: string; extra?: Record<string, unknown> } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign(
    { sub, iat: now, exp: now + (options.expiresInSeconds ?? 3600), ...(options.admin ? { role: "admin" } : {}), ...options.extra },
    options.secret ?? env.AUTH_JWT_SECRET,
    "HS256",
  );
}

export async function authHeaders(sub: string, options: { admin?: boolean } = {}): Promise<Record<string, string>> {
  return { Authorization: `Bearer ${await tokenFor(sub, options)}` };
}
