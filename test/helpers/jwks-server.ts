/*
 * A stand-in identity provider: a JWKS endpoint that counts its fetches. It runs in Node beside the
 * Pluggy simulator (vitest.config.ts `outboundService`) and tests inside workerd reach it at
 * http://jwks.test, so the auth code fetches its keys over a real fetch, exactly as in production.
 * State is per tenant (the first path segment): each test makes its own with `identityProvider()`
 * (test/helpers/jwks.ts), so parallel files never share keys or counts.
 *
 *   GET  /<tenant>/.well-known/jwks.json   the key set (counted; may answer an error or hang if told to)
 *   GET  /<tenant>/__control               {"fetches": n}
 *   PUT  /<tenant>/__control               {"keys"?: [...], "status"?: 500, "delayMs"?: 8000} (status 0 = answer normally)
 */

export const JWKS_HOST = "jwks.test";
const MAX_DELAY_MS = 30_000;

interface Tenant {
  keys: unknown[];
  fetches: number;
  status: number;
  delayMs: number;
}

export function createJwksServer(): { fetch(request: Request): Promise<Response> } {
  const tenants = new Map<string, Tenant>();
  const tenantOf = (id: string): Tenant => {
    let tenant = tenants.get(id);
    if (!tenant) {
      tenant = { keys: [], fetches: 0, status: 0, delayMs: 0 };
      tenants.set(id, tenant);
    }
    return tenant;
  };

  return {
    async fetch(request) {
      const { pathname } = new URL(request.url);
      const [, id = "", ...rest] = pathname.split("/");
      const leaf = rest.join("/");
      if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) return new Response("unknown tenant", { status: 404 });
      const tenant = tenantOf(id);
      if (leaf === ".well-known/jwks.json" && request.method === "GET") {
        tenant.fetches += 1;
        if (tenant.delayMs > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, tenant.delayMs);
            request.signal.addEventListener("abort", () => {
              clearTimeout(timer);
              resolve();
            });
          });
        }
        if (tenant.status !== 0) return new Response("identity provider failure", { status: tenant.status });
        return Response.json({ keys: tenant.keys });
      }
      if (leaf === "__control" && request.method === "GET") return Response.json({ fetches: tenant.fetches });
      if (leaf === "__control" && request.method === "PUT") {
        const body = (await request.json()) as { keys?: unknown[]; status?: number; delayMs?: number };
        if (body.keys !== undefined) tenant.keys = body.keys;
        if (body.status !== undefined) tenant.status = body.status;
        if (body.delayMs !== undefined) tenant.delayMs = Math.min(Math.max(0, body.delayMs), MAX_DELAY_MS);
        return new Response(null, { status: 204 });
      }
      return new Response("not found", { status: 404 });
    },
  };
}
