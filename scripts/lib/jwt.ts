import { sign } from "hono/jwt";

/** A development JWT (HS256) for `sub`, optionally with the admin role. */
export async function devToken(secret: string, sub: string, options: { admin?: boolean; ttlSeconds?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign({ sub, iat: now, exp: now + (options.ttlSeconds ?? 24 * 3600), ...(options.admin ? { role: "admin" } : {}) }, secret, "HS256");
}
