import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AppBindings } from "../../src/platform/env.ts";
import { createPluggyClient } from "../../src/pluggy/pluggy.client.ts";
import { deletePluggyWebhook } from "../../src/webhooks/pluggy-webhooks.service.ts";
import { authHeaders, uniqueUser } from "../helpers/auth.ts";
import { body, call } from "../helpers/http.ts";
import { sim } from "../helpers/simulator.ts";
import { fetchWithEnv } from "./support.ts";

/*
 * Our subscription at Pluggy carries PLUGGY_WEBHOOK_AUTH_TOKEN as a header on every delivery, so it may
 * only point at our own webhook origin, and only a real subscription id may reach Pluggy's path.
 */

const admin = () => authHeaders(uniqueUser("ops"), { admin: true });

async function register(url: string, overrides: Partial<AppBindings> = {}): Promise<Response> {
  const headers = { ...(await admin()), "Content-Type": "application/json" };
  return fetchWithEnv(new Request("https://api.test/api/admin/pluggy-webhooks/", { method: "POST", headers, body: JSON.stringify({ url }) }), {
    PLUGGY_WEBHOOK_AUTH_TOKEN: "the-header-token-0123456789",
    ...overrides,
  });
}

/**
 * Removes a subscription a test made: the simulator, like Pluggy, holds at most 5 per event for our
 * client, shared by every test file.
 */
async function unsubscribe(response: Response): Promise<void> {
  const { data } = await body(response);
  const deleted = await call(`/api/admin/pluggy-webhooks/${data.id}/`, { method: "DELETE", headers: await admin() });
  expect(deleted.status).toBe(204);
}

/** Subscriptions Pluggy was asked to create for `url`. */
async function createdAtPluggy(url: string): Promise<number> {
  return (await sim.requests({ path: "^/webhooks$", method: "POST" })).filter((request) => (request.body as { url?: string }).url === url).length;
}

describe("webhook subscriptions point only at our webhook origin", () => {
  const ours = "https://hooks.financehub.example";

  it("accepts a URL on PLUGGY_WEBHOOK_URL's origin", async () => {
    const url = `${ours}/api/banking/pluggy/webhook/?s=${crypto.randomUUID()}`;
    const response = await register(url, { PLUGGY_WEBHOOK_URL: `${ours}/api/banking/pluggy/webhook/` });
    expect(response.status).toBe(201);
    expect(await createdAtPluggy(url)).toBe(1);
    await unsubscribe(response);
  });

  it.each([
    ["another host", "https://attacker.example/api/banking/pluggy/webhook/"],
    ["a look-alike host", "https://hooks.financehub.example.attacker.example/api/banking/pluggy/webhook/"],
    ["user info before our host", "https://hooks.financehub.example@attacker.example/api/banking/pluggy/webhook/"],
    ["another port", "https://hooks.financehub.example:8443/api/banking/pluggy/webhook/"],
  ])("refuses %s with 400 on url, and Pluggy is never asked", async (_case, base) => {
    const url = `${base}?s=${crypto.randomUUID()}`;
    const response = await register(url, { PLUGGY_WEBHOOK_URL: `${ours}/api/banking/pluggy/webhook/` });
    expect(response.status).toBe(400);
    const { error } = await body(response);
    expect(error).toMatchObject({ code: "validation_error", details: [{ field: "url" }] });
    expect(error.message).toContain(ours);
    expect(await createdAtPluggy(url)).toBe(0);
  });

  it("without PLUGGY_WEBHOOK_URL, only this API's own origin is accepted", async () => {
    const elsewhere = `https://attacker.example/hook?s=${crypto.randomUUID()}`;
    expect((await register(elsewhere, { PLUGGY_WEBHOOK_URL: undefined })).status).toBe(400);
    expect(await createdAtPluggy(elsewhere)).toBe(0);
    const own = `https://api.test/api/banking/pluggy/webhook/?s=${crypto.randomUUID()}`;
    const created = await register(own, { PLUGGY_WEBHOOK_URL: undefined });
    expect(created.status).toBe(201);
    await unsubscribe(created);
  });
});

describe("webhook subscription ids", () => {
  it("an id that is not Pluggy's UUID is a 400 and never reaches Pluggy", async () => {
    const junk = `not-a-hook-${crypto.randomUUID()}`;
    const response = await call(`/api/admin/pluggy-webhooks/${junk}/`, { method: "DELETE", headers: await admin() });
    expect(response.status).toBe(400);
    expect((await body(response)).error.details[0].field).toBe("id");
    expect(await sim.requests({ path: junk })).toEqual([]);
  });

  it.each(["..", ".", "../items/1", ""])("the service refuses %j without calling Pluggy (no path escapes /webhooks/)", async (id) => {
    const calls: string[] = [];
    const pluggy = createPluggyClient(env as AppBindings, {
      fetch: async (input, init) => {
        const request = new Request(input, init);
        calls.push(`${request.method} ${new URL(request.url).pathname}`);
        return fetch(request);
      },
    });
    await expect(deletePluggyWebhook({ pluggy }, id)).rejects.toMatchObject({ code: "not_found" });
    expect(calls.filter((line) => !line.startsWith("POST /auth"))).toEqual([]);
  });
});
