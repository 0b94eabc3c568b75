import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { eq } from "drizzle-orm";
import { webhookEvents } from "../../src/db/schema.ts";
import { authHeaders, tokenFor, uniqueUser } from "../helpers/auth.ts";
import { body, call } from "../helpers/http.ts";
import { exactPath, sim } from "../helpers/simulator.ts";
import { db, eventPayload, eventRow, fetchWithEnv, hmacHex, postWebhook, recordingQueue, sha256Of } from "./support.ts";

const admin = () => authHeaders("ops-admin", { admin: true });

/** Posts an event through intake and waits until the background consumer has finished with it. */
async function deliver(overrides: Record<string, unknown> = {}, raw?: (payload: Record<string, unknown>) => string) {
  const payload = eventPayload(overrides);
  const bytes = raw ? raw(payload) : JSON.stringify(payload);
  const response = await postWebhook(bytes);
  expect(response.status).toBe(200);
  await settled(payload.eventId);
  return { payload, raw: bytes };
}

/** Waits until no consumer holds the event (test/* events end as `ignored`). */
async function settled(eventId: string) {
  await vi.waitFor(async () => expect(["ignored", "processed", "failed", "dead"]).toContain((await eventRow(eventId))?.status), { timeout: 10_000, interval: 50 });
}

describe("admin auth matrix", () => {
  const routes = [
    { method: "GET", path: "/api/admin/webhook-events/" },
    { method: "GET", path: "/api/admin/webhook-events/some-event/" },
    { method: "GET", path: "/api/admin/webhook-events/some-event/raw/" },
    { method: "POST", path: "/api/admin/webhook-events/some-event/replay/" },
    { method: "POST", path: "/api/admin/webhook-events/replay/", json: { status: "failed", dry_run: true } },
    { method: "GET", path: "/api/admin/pluggy-webhooks/" },
    { method: "POST", path: "/api/admin/pluggy-webhooks/", json: { url: "https://hooks.example.com/x" } },
    { method: "DELETE", path: "/api/admin/pluggy-webhooks/some-hook/" },
  ];
  describe.each(routes)("$method $path", ({ method, path, json }) => {
    it.each([
      { who: "no token", headers: async () => ({}) as Record<string, string>, status: 401, code: "unauthorized" },
      { who: "a malformed token", headers: async () => ({ Authorization: "Bearer not.a.jwt" }), status: 401, code: "unauthorized" },
      { who: "a token signed with another secret", headers: async () => ({ Authorization: `Bearer ${await tokenFor("x", { admin: true, secret: "another-secret-0123456789abcdef" })}` }), status: 401, code: "unauthorized" },
      { who: "an expired admin token", headers: async () => ({ Authorization: `Bearer ${await tokenFor("x", { admin: true, expiresInSeconds: -60 })}` }), status: 401, code: "unauthorized" },
      { who: "a user (not admin) token", headers: () => authHeaders(uniqueUser()), status: 403, code: "forbidden" },
    ])("$who → $status", async ({ headers, status, code }) => {
      const response = await call(path, { method, headers: await headers(), ...(json ? { json } : {}) });
      expect(response.status).toBe(status);
      expect((await body(response)).error.code).toBe(code);
    });
  });
});

describe("GET /api/admin/webhook-events/", () => {
  it("lists newest first with the contract's fields, filters, and pages with a cursor", async () => {
    const event = `test/list-${crypto.randomUUID()}`;
    const itemId = crypto.randomUUID();
    const delivered = [];
    for (let i = 0; i < 3; i++) delivered.push(await deliver({ event, itemId }));
    await deliver({ event }); // another item
    const headers = await admin();

    const first = await call(`/api/admin/webhook-events/?event=${encodeURIComponent(event)}&item_id=${itemId}&limit=2`, { headers });
    expect(first.status).toBe(200);
    const page1 = await body(first);
    expect(page1.data.map((e: { event_id: string }) => e.event_id)).toEqual([delivered[2]?.payload.eventId, delivered[1]?.payload.eventId]);
    expect(page1.next_cursor).toEqual(expect.any(String));
    expect(Object.keys(page1.data[0]).sort()).toEqual(
      [
        "attempts",
        "body_sha256",
        "content_type",
        "event",
        "event_id",
        "item_id",
        "last_error",
        "matched_key",
        "payload_purged_at",
        "processed_at",
        "received_at",
        "replay_count",
        "request_id",
        "status",
      ].sort(),
    );
    expect(page1.data[0]).toMatchObject({ event, item_id: itemId, status: "ignored", attempts: 1, replay_count: 0, body_sha256: await sha256Of(delivered[2]?.raw ?? "") });

    const page2 = await body(await call(`/api/admin/webhook-events/?event=${encodeURIComponent(event)}&item_id=${itemId}&limit=2&cursor=${page1.next_cursor}`, { headers }));
    expect(page2.data.map((e: { event_id: string }) => e.event_id)).toEqual([delivered[0]?.payload.eventId]);
    expect(page2.next_cursor).toBeNull();

    const all = await body(await call(`/api/admin/webhook-events?event=${encodeURIComponent(event)}&status=ignored`, { headers }));
    expect(all.data).toHaveLength(4);
    const none = await body(await call(`/api/admin/webhook-events?event=${encodeURIComponent(event)}&status=failed`, { headers }));
    expect(none.data).toEqual([]);
  });

  it("filters by received_from (inclusive) and received_to (exclusive)", async () => {
    const event = `test/range-${crypto.randomUUID()}`;
    const { payload } = await deliver({ event });
    const row = await eventRow(payload.eventId);
    const at = row?.receivedAt ?? "";
    const headers = await admin();
    const ids = async (query: string) =>
      (await body(await call(`/api/admin/webhook-events/?event=${encodeURIComponent(event)}&${query}`, { headers }))).data.map((e: { event_id: string }) => e.event_id);
    expect(await ids(`received_from=${at}`)).toEqual([payload.eventId]);
    expect(await ids(`received_to=${at}`)).toEqual([]);
    expect(await ids(`received_from=${new Date(Date.parse(at) + 1).toISOString()}`)).toEqual([]);
    expect(await ids(`received_from=${at.slice(0, 10)}`)).toEqual([payload.eventId]);
  });

  it.each([
    ["an unknown parameter", "?foo=1", "foo"],
    ["an unknown status", "?status=lost", "status"],
    ["a malformed instant", "?received_from=yesterday", "received_from"],
    ["an inverted range", "?received_from=2026-11-02T00:00:00Z&received_to=2026-11-01T00:00:00Z", "received_from"],
    ["a tampered cursor", "?cursor=eyJ4IjoxfQ", "cursor"],
    ["limit 0", "?limit=0", "limit"],
  ])("refuses %s with 400 naming the field", async (_case, query, field) => {
    const response = await call(`/api/admin/webhook-events/${query}`, { headers: await admin() });
    expect(response.status).toBe(400);
    const json = await body(response);
    expect(json.error.code).toBe("validation_error");
    expect(json.error.details[0].field).toBe(field);
  });
});

describe("GET /api/admin/webhook-events/{event_id}/ and /raw/", () => {
  it("returns the event with its parsed payload", async () => {
    const { payload } = await deliver({ extra: { nested: [1, 2, 3] } });
    const response = await call(`/api/admin/webhook-events/${payload.eventId}/`, { headers: await admin() });
    expect(response.status).toBe(200);
    const json = await body(response);
    expect(json.data.event_id).toBe(payload.eventId);
    expect(json.data.payload).toEqual(payload);
  });

  it("downloads exactly the bytes that were posted, with the original content type", async () => {
    const { payload, raw } = await deliver({}, (p) => `{"eventId":"${String(p["eventId"])}",  "event":"test/noop",\n"text":"ação ✓ \\u00e9", "n": 1.50 }\n`);
    const response = await call(`/api/admin/webhook-events/${payload.eventId}/raw/`, { headers: await admin() });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(response.headers.get("X-Body-Sha256")).toBe(await sha256Of(raw));
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(new TextEncoder().encode(raw));
  });

  it("keeps a charset-qualified content type as sent", async () => {
    const payload = eventPayload();
    const raw = JSON.stringify(payload);
    const response = await postWebhook(raw, { headers: { "Content-Type": "application/json; charset=utf-8" } });
    expect(response.status).toBe(200);
    const download = await call(`/api/admin/webhook-events/${payload.eventId}/raw`, { headers: await admin() });
    expect(download.headers.get("Content-Type")).toBe("application/json; charset=utf-8");
  });

  it("shows a rejected delivery (synthetic id) with its raw bytes", async () => {
    const raw = "this is not json";
    const requestId = `req-${crypto.randomUUID()}`;
    const response = await postWebhook(raw, { signature: await hmacHex(raw, "test-webhook-secret-new"), headers: { "X-Request-Id": requestId } });
    expect(response.status).toBe(400);
    const [row] = await db().select().from(webhookEvents).where(eq(webhookEvents.requestId, requestId));
    const headers = await admin();
    const detail = await body(await call(`/api/admin/webhook-events/${encodeURIComponent(row?.eventId ?? "")}/`, { headers }));
    expect(detail.data).toMatchObject({ status: "rejected", payload: null, event: "(invalid)" });
    const download = await call(`/api/admin/webhook-events/${encodeURIComponent(row?.eventId ?? "")}/raw/`, { headers });
    expect(await download.text()).toBe(raw);
    const listed = await body(await call(`/api/admin/webhook-events/?status=rejected`, { headers }));
    expect(listed.data.map((e: { event_id: string }) => e.event_id)).toContain(row?.eventId);
  });

  it("404 for an unknown event", async () => {
    const headers = await admin();
    for (const suffix of ["", "raw/"]) {
      const response = await call(`/api/admin/webhook-events/${crypto.randomUUID()}/${suffix}`, { headers });
      expect(response.status).toBe(404);
      expect((await body(response)).error.code).toBe("not_found");
    }
  });
});

describe("POST /api/admin/webhook-events/{event_id}/replay/", () => {
  it("queues the event again from its R2 copy; replay_count counts each replay", async () => {
    const { payload } = await deliver();
    const headers = await admin();
    const queue = recordingQueue(env.EVENTS_QUEUE);
    const request = new Request(`https://api.test/api/admin/webhook-events/${payload.eventId}/replay/`, { method: "POST", headers });
    const response = await fetchWithEnv(request, { EVENTS_QUEUE: queue });
    expect(response.status).toBe(202);
    expect(await body(response)).toEqual({ data: { event_id: payload.eventId, status: "queued" } });
    expect(queue.sent).toEqual([{ kind: "webhook.process", eventId: payload.eventId, replay: true }]);
    await settled(payload.eventId);
    expect(await eventRow(payload.eventId)).toMatchObject({ status: "ignored", replayCount: 1, attempts: 2 });

    expect((await call(`/api/admin/webhook-events/${payload.eventId}/replay`, { method: "POST", headers })).status).toBe(202);
    await settled(payload.eventId);
    expect(await eventRow(payload.eventId)).toMatchObject({ status: "ignored", replayCount: 2, attempts: 3 });
  });

  it("refuses (409) when the R2 copy no longer matches body_sha256", async () => {
    const { payload } = await deliver();
    const row = await eventRow(payload.eventId);
    await env.WEBHOOK_ARCHIVE.put(row?.r2Key ?? "", JSON.stringify({ ...payload, tampered: true }));
    const response = await call(`/api/admin/webhook-events/${payload.eventId}/replay/`, { method: "POST", headers: await admin() });
    expect(response.status).toBe(409);
    expect((await body(response)).error.message).toMatch(/body_sha256/);
    expect((await eventRow(payload.eventId))?.replayCount).toBe(0);
  });

  it("refuses (409) a rejected delivery and (409) an event being processed right now", async () => {
    const raw = "[]";
    const requestId = `req-${crypto.randomUUID()}`;
    await postWebhook(raw, { signature: await hmacHex(raw, "test-webhook-secret-new"), headers: { "X-Request-Id": requestId } });
    const [rejected] = await db().select().from(webhookEvents).where(eq(webhookEvents.requestId, requestId));
    const headers = await admin();
    expect((await call(`/api/admin/webhook-events/${encodeURIComponent(rejected?.eventId ?? "")}/replay/`, { method: "POST", headers })).status).toBe(409);

    const { payload } = await deliver();
    await db().update(webhookEvents).set({ status: "processing", updatedAt: new Date().toISOString() }).where(eq(webhookEvents.eventId, payload.eventId));
    const busy = await call(`/api/admin/webhook-events/${payload.eventId}/replay/`, { method: "POST", headers });
    expect(busy.status).toBe(409);
    // Stuck for longer than any consumer can run: replayable.
    await db().update(webhookEvents).set({ updatedAt: new Date(Date.now() - 60 * 60_000).toISOString() }).where(eq(webhookEvents.eventId, payload.eventId));
    expect((await call(`/api/admin/webhook-events/${payload.eventId}/replay/`, { method: "POST", headers })).status).toBe(202);
  });

  it("404 for an unknown event", async () => {
    const response = await call(`/api/admin/webhook-events/${crypto.randomUUID()}/replay/`, { method: "POST", headers: await admin() });
    expect(response.status).toBe(404);
  });
});

describe("POST /api/admin/webhook-events/replay/ (by filter)", () => {
  async function failedEvents(event: string, n: number) {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const { payload } = await deliver({ event });
      await db().update(webhookEvents).set({ status: "failed", lastError: "Pluggy: 500: boom" }).where(eq(webhookEvents.eventId, payload.eventId));
      ids.push(payload.eventId);
    }
    return ids;
  }

  it("a dry run reports the matches and queues nothing", async () => {
    const event = `test/bulk-${crypto.randomUUID()}`;
    const ids = await failedEvents(event, 3);
    const queue = recordingQueue(env.EVENTS_QUEUE);
    const request = new Request("https://api.test/api/admin/webhook-events/replay/", {
      method: "POST",
      headers: { ...(await admin()), "Content-Type": "application/json" },
      body: JSON.stringify({ event, status: "failed", dry_run: true }),
    });
    const response = await fetchWithEnv(request, { EVENTS_QUEUE: queue });
    expect(response.status).toBe(202);
    expect(await body(response)).toEqual({ data: { matched: 3, queued: 0, dry_run: true, event_ids: ids, next_cursor: null } });
    expect(queue.sent).toEqual([]);
    for (const id of ids) expect(await eventRow(id)).toMatchObject({ status: "failed", replayCount: 0 });
  });

  it("replays every match oldest first, page by page with the cursor, counting each replay", async () => {
    const event = `test/bulk-${crypto.randomUUID()}`;
    const ids = await failedEvents(event, 5);
    await deliver({ event }); // same type, not failed: not selected
    const headers = await admin();
    const from = (await eventRow(ids[0] ?? ""))?.receivedAt ?? "";

    const first = await call("/api/admin/webhook-events/replay/", { method: "POST", headers, json: { event, status: "failed", received_from: from, limit: 3 } });
    expect(first.status).toBe(202);
    const page1 = (await body(first)).data;
    expect(page1).toMatchObject({ matched: 5, queued: 3, dry_run: false, event_ids: ids.slice(0, 3) });
    expect(page1.next_cursor).toEqual(expect.any(String));

    const second = await call("/api/admin/webhook-events/replay/", { method: "POST", headers, json: { event, status: "failed", limit: 3, cursor: page1.next_cursor } });
    const page2 = (await body(second)).data;
    expect(page2).toEqual({ matched: 2, queued: 2, dry_run: false, event_ids: ids.slice(3), next_cursor: null });

    for (const id of ids) {
      await settled(id);
      expect(await eventRow(id)).toMatchObject({ status: "ignored", replayCount: 1 });
    }
    const again = (await body(await call("/api/admin/webhook-events/replay/", { method: "POST", headers, json: { event, status: "failed" } }))).data;
    expect(again).toEqual({ matched: 0, queued: 0, dry_run: false, event_ids: [], next_cursor: null });
  });

  it("never selects rejected deliveries", async () => {
    const raw = "{}";
    const requestId = `req-${crypto.randomUUID()}`;
    await postWebhook(raw, { signature: await hmacHex(raw, "test-webhook-secret-new"), headers: { "X-Request-Id": requestId } });
    const [rejected] = await db().select().from(webhookEvents).where(eq(webhookEvents.requestId, requestId));
    const result = (await body(await call("/api/admin/webhook-events/replay/", { method: "POST", headers: await admin(), json: { status: "rejected", dry_run: true, limit: 1000 } }))).data;
    expect(result.matched).toBe(0);
    expect(result.event_ids).not.toContain(rejected?.eventId);
  });

  it.each([
    ["no filter at all", { dry_run: true }, "event"],
    ["limit over 1000", { status: "failed", limit: 1001 }, "limit"],
    ["an unknown field", { status: "failed", force: true }, "force"],
    ["a wrong type", { status: "failed", dry_run: "yes" }, "dry_run"],
  ])("refuses %s with 400", async (_case, json, field) => {
    const response = await call("/api/admin/webhook-events/replay/", { method: "POST", headers: await admin(), json });
    expect(response.status).toBe(400);
    expect((await body(response)).error.details[0].field).toBe(field);
  });
});

describe("Pluggy webhook subscriptions (/api/admin/pluggy-webhooks/)", () => {
  it("creates at Pluggy with event all and the X-Webhook-Token header, lists and deletes it", async () => {
    const token = `tok-${crypto.randomUUID()}`;
    const url = `https://api.test/api/banking/pluggy/webhook/?subscription=${crypto.randomUUID()}`;
    const headers = { ...(await admin()), "Content-Type": "application/json" };
    const created = await fetchWithEnv(
      new Request("https://api.test/api/admin/pluggy-webhooks/", { method: "POST", headers, body: JSON.stringify({ url }) }),
      { PLUGGY_WEBHOOK_AUTH_TOKEN: `${token},old-token-being-rotated-out` },
    );
    expect(created.status).toBe(201);
    const hook = (await body(created)).data;
    expect(hook).toMatchObject({ id: expect.any(String), url, event: "all", disabled_at: null });
    expect(JSON.stringify(hook)).not.toContain(token);
    const sent = (await sim.requests({ path: "^/webhooks$", method: "POST" })).find((request) => (request.body as { url?: string }).url === url);
    expect(sent?.body).toEqual({ url, event: "all", headers: { "X-Webhook-Token": token } });

    const listed = await body(await call("/api/admin/pluggy-webhooks/", { headers: await admin() }));
    expect(listed.data.map((h: { id: string }) => h.id)).toContain(hook.id);

    const deleted = await call(`/api/admin/pluggy-webhooks/${hook.id}/`, { method: "DELETE", headers: await admin() });
    expect(deleted.status).toBe(204);
    const after = await body(await call("/api/admin/pluggy-webhooks", { headers: await admin() }));
    expect(after.data.map((h: { id: string }) => h.id)).not.toContain(hook.id);
    expect((await call(`/api/admin/pluggy-webhooks/${hook.id}/`, { method: "DELETE", headers: await admin() })).status).toBe(404);
  });

  it.each([
    ["http", { url: "http://hooks.example.com/x" }, "url"],
    ["not a URL", { url: "hooks.example.com" }, "url"],
    ["an unknown field", { url: "https://hooks.example.com/x", secret: "x" }, "secret"],
  ])("refuses %s with 400", async (_case, json, field) => {
    const response = await call("/api/admin/pluggy-webhooks/", { method: "POST", headers: await admin(), json });
    expect(response.status).toBe(400);
    const error = (await body(response)).error;
    expect(error.code).toBe("validation_error");
    expect(error.details[0].field).toBe(field);
  });

  it("maps a Pluggy refusal to 502 upstream_error naming only its status and code", async () => {
    const response = await call("/api/admin/pluggy-webhooks/", { method: "POST", headers: await admin(), json: { url: "https://api.test/x", event: "no/such-event" } });
    expect(response.status).toBe(502);
    const error = (await body(response)).error;
    expect(error.code).toBe("upstream_error");
    expect(error.message).toMatch(/^Pluggy request failed \(400( [A-Z_]+)?\)$/);
  });

  // The same mapping as every other route (pluggyErrorToAppError): Pluggy's own text is never echoed in a 502.
  it.each([
    { pluggy: 403, status: 502, code: "upstream_error", message: "Pluggy request failed (403)" },
    { pluggy: 408, status: 502, code: "upstream_error", message: "Pluggy request failed (408)" },
    { pluggy: 500, status: 502, code: "upstream_error", message: "Pluggy request failed (500)" },
    { pluggy: 409, status: 409, code: "conflict", message: "Pluggy: Simulated failure (409)" },
    { pluggy: 503, status: 503, code: "upstream_unavailable", message: "Pluggy is unavailable, try again later" },
    { pluggy: 429, status: 429, code: "rate_limited", message: expect.stringMatching(/^Pluggy: .*; retry after 60 s$/) },
  ])("Pluggy answering $pluggy to POST /webhooks → $status $code", async ({ pluggy, status, code, message }) => {
    const marker = crypto.randomUUID();
    await sim.fault({ path: exactPath("/webhooks"), method: "POST", body: marker, status: pluggy });
    const response = await call("/api/admin/pluggy-webhooks/", { method: "POST", headers: await admin(), json: { url: `https://api.test/x?m=${marker}` } });
    expect(response.status).toBe(status);
    const error = (await body(response)).error;
    expect(error).toMatchObject({ code, message });
    if (status === 502) expect(error.message).not.toContain("Simulated");
    if (status === 429) expect(response.headers.get("Retry-After")).toBe("60");
  });

  it("DELETE: a hook Pluggy does not know → 404; Pluggy refusing → 502 without its text", async () => {
    const missing = await call(`/api/admin/pluggy-webhooks/${crypto.randomUUID()}/`, { method: "DELETE", headers: await admin() });
    expect(missing.status).toBe(404);
    expect((await body(missing)).error.code).toBe("not_found");
    const id = crypto.randomUUID();
    await sim.fault({ path: exactPath(`/webhooks/${id}`), method: "DELETE", status: 403 });
    const refused = await call(`/api/admin/pluggy-webhooks/${id}/`, { method: "DELETE", headers: await admin() });
    expect(refused.status).toBe(502);
    expect((await body(refused)).error).toMatchObject({ code: "upstream_error", message: "Pluggy request failed (403)" });
  });
});

describe("intake is documented in the OpenAPI document", () => {
  it("lists the webhook and every admin webhook route", async () => {
    const doc = await body(await call("/openapi.json"));
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/banking/pluggy/webhook",
        "/api/admin/webhook-events",
        "/api/admin/webhook-events/{event_id}",
        "/api/admin/webhook-events/{event_id}/raw",
        "/api/admin/webhook-events/{event_id}/replay",
        "/api/admin/webhook-events/replay",
        "/api/admin/pluggy-webhooks",
        "/api/admin/pluggy-webhooks/{id}",
      ]),
    );
    expect(doc.paths["/api/banking/pluggy/webhook"].post.responses).toHaveProperty("401");
  });
});
