import { sign } from "hono/jwt";

/** A development JWT (HS256) for `sub`, optionally with the admin role. */
export async function devToken(secret: string, sub: string, options: { admin?: boolean; ttlSeconds?: number } = {}): Promise<string> {
  // The API refuses HS256 keys shorter than 32 bytes; say so here rather than mint tokens it will not take.
  const bytes = new TextEncoder().encode(secret).byteLength;
  if (bytes < 32) throw new Error(`AUTH_JWT_SECRET is ${bytes} bytes; an HS256 key must be at least 32 bytes`);
  const now = Math.floor(Date.now() / 1000);
  return sign({ sub, iat: now, exp: now + (options.ttlSeconds ?? 24 * 3600), ...(options.admin ? { role: "admin" } : {}) }, secret, "HS256");
}
