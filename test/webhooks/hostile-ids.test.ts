import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { webhookEvents } from "../../src/db/schema.ts";
import type { AppBindings } from "../../src/platform/env.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { consumeBatch } from "../../src/queues/consumer.ts";
import { webhookProcessMessage } from "../../src/queues/messages.ts";
import { eventArchiveKey } from "../../src/webhooks/webhook-archive.ts";
import { parseDelivery } from "../../src/webhooks/webhook-intake.service.ts";
import { createWebhookProcessHandler } from "../../src/webhooks/webhooks.consumer.ts";
import { authHeaders } from "../helpers/auth.ts";
import { body, call } from "../helpers/http.ts";
import { counterTotal, db, eventRow, hmacHex, rowsByRequestId, SECRET_NEW, sha256Of, uniqueIp } from "./support.ts";
import { servicesFor } from "../../src/platform/services.ts";

/*
 * Ids a signed body may carry that cannot be used as keys — unpaired UTF-16 surrogates, control
 * characters, dot segments, absurd lengths — are refused at intake (400, bytes kept under rejected/);
 * every other id (slashes, "..", "%", spaces, any well-formed Unicode, up to 256 characters) is
 * accepted and handled end to end: R2 key, D1 row, admin API, processing.
 */

const encoder = new TextEncoder();
const today = () => new Date().toISOString().slice(0, 10).replaceAll("-", "/");

/** Any string, with lone surrogates, controls and the characters that matter in paths mixed in. */
const anyId = fc.string({
  unit: fc.oneof(
    fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
    fc.constantFrom("/", ".", "..", "%", "\u0000", "\u007f", "\u0085", " ", "😀", "中"),
  ),
  maxLength: 300,
});
const anyIdOrLong = fc.oneof(anyId, fc.constantFrom(".", "..", "", "x".repeat(256), "中".repeat(256), "x".repeat(257)));

const isUnsafe = (id: string) => /\p{Cs}|\p{Cc}/u.test(id) || id === "." || id === "..";

/** The JSON text of a body (JSON.stringify writes a lone surrogate as a `\udXXX` escape, as Pluggy's JSON would). */
const bodyBytes = (payload: Record<string, unknown>) => encoder.encode(JSON.stringify(payload));

// Predicates answer booleans, so a counterexample is reported by fast-check (JSON-escaped): a lone
// surrogate in a vitest diff would not survive the trip to the test runner.
describe("properties (fast-check)", () => {
  it("any eventId is either refused at `eventId` or accepted with a safe, bounded R2 key", async () => {
    await fc.assert(
      fc.asyncProperty(anyIdOrLong, async (eventId) => {
        const parsed = parseDelivery(bodyBytes({ event: "test/noop", eventId }));
        const acceptable = eventId.length >= 1 && eventId.length <= 256 && !isUnsafe(eventId);
        if (!parsed.ok) return !acceptable && parsed.field === "eventId";
        if (!acceptable || parsed.payload.eventId !== eventId) return false;
        const key = await eventArchiveKey(eventId, "2026-01-02T03:04:05.000Z");
        // Bounded, and the id never invents folders: one file under the day, or under the day's sha256/ folder.
        return encoder.encode(key).byteLength <= 1024 && /^events\/2026\/01\/02\/(?:[^/]+|sha256\/[0-9a-f]{64})\.json$/.test(key);
      }),
      { numRuns: 500 },
    );
  });

  it("distinct accepted eventIds never share a key", async () => {
    await fc.assert(
      fc.asyncProperty(anyIdOrLong, anyIdOrLong, async (a, b) => {
        fc.pre(a !== b && parseDelivery(bodyBytes({ event: "x", eventId: a })).ok && parseDelivery(bodyBytes({ event: "x", eventId: b })).ok);
        const at = "2026-01-02T03:04:05.000Z";
        return (await eventArchiveKey(a, at)) !== (await eventArchiveKey(b, at));
      }),
      { numRuns: 300 },
    );
  });

  it("any string itemId is refused at `itemId` or is one a Pluggy URL keeps as one path segment", () => {
    fc.assert(
      fc.property(anyIdOrLong, (itemId) => {
        const parsed = parseDelivery(bodyBytes({ event: "item/updated", eventId: crypto.randomUUID(), itemId }));
        if (itemId === "") return parsed.ok && parsed.payload.itemId === undefined; // empty reads as absent, as before
        const acceptable = itemId.length <= 256 && !isUnsafe(itemId);
        if (!parsed.ok) return !acceptable && parsed.field === "itemId";
        if (!acceptable || parsed.payload.itemId !== itemId) return false;
        const url = new URL(`https://api.pluggy.ai/items/${encodeURIComponent(itemId)}`);
        return url.pathname.startsWith("/items/") && decodeURIComponent(url.pathname.slice("/items/".length)) === itemId;
      }),
      { numRuns: 500 },
    );
  });
});

/** Posts the JSON text exactly as given (so `\ud800` stays an escape), signed, with its own request id. */
async function post(text: string) {
  const requestId = `req-${crypto.randomUUID()}`;
  const response = await exports.default.fetch(
    new Request("https://api.test/api/banking/pluggy/webhook/", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Pluggy-Signature": await hmacHex(text, SECRET_NEW), "CF-Connecting-IP": uniqueIp(), "X-Request-Id": requestId },
      body: text,
    }),
  );
  return { response, requestId };
}

const admin = () => authHeaders("ops-admin", { admin: true });

describe("intake refuses ids that cannot be keys: 400, bytes kept as a rejected delivery", () => {
  const uuid = () => crypto.randomUUID();
  // JSON texts written by hand: `\\ud800` in this source is the six characters \ud800 in the body.
  describe.each([
    { name: "eventId with a lone high surrogate", json: () => `{"event":"item/updated","eventId":"\\ud800"}`, field: "eventId" },
    { name: "eventId with a lone low surrogate inside", json: () => `{"event":"item/updated","eventId":"a\\udc00b-${uuid()}"}`, field: "eventId" },
    { name: "eventId with a reversed surrogate pair", json: () => `{"event":"item/updated","eventId":"\\ude00\\ud83d"}`, field: "eventId" },
    { name: "eventId with NUL", json: () => `{"event":"item/updated","eventId":"${uuid()}\\u0000"}`, field: "eventId" },
    { name: "eventId with a newline", json: () => `{"event":"item/updated","eventId":"${uuid()}\\n"}`, field: "eventId" },
    { name: "eventId with a C1 control", json: () => `{"event":"item/updated","eventId":"${uuid()}\\u0085"}`, field: "eventId" },
    { name: "eventId '..'", json: () => `{"event":"item/updated","eventId":".."}`, field: "eventId" },
    { name: "eventId '.'", json: () => `{"event":"item/updated","eventId":"."}`, field: "eventId" },
    { name: "eventId of 10 KB", json: () => JSON.stringify({ event: "item/updated", eventId: "e".repeat(10_240) }), field: "eventId" },
    { name: "eventId of 257 characters", json: () => JSON.stringify({ event: "item/updated", eventId: "e".repeat(257) }), field: "eventId" },
    { name: "itemId with a lone surrogate", json: () => `{"event":"item/updated","eventId":"${uuid()}","itemId":"\\ud800"}`, field: "itemId" },
    { name: "itemId with NUL", json: () => `{"event":"item/updated","eventId":"${uuid()}","itemId":"item\\u0000"}`, field: "itemId" },
    { name: "itemId '..'", json: () => `{"event":"item/updated","eventId":"${uuid()}","itemId":".."}`, field: "itemId" },
    { name: "itemId of 10 KB", json: () => JSON.stringify({ event: "item/updated", eventId: uuid(), itemId: "i".repeat(10_240) }), field: "itemId" },
    { name: "event with a lone surrogate", json: () => `{"event":"item/\\udfff","eventId":"${uuid()}"}`, field: "event" },
  ])("$name", ({ json, field }) => {
    it("answers 400 validation_error naming the field; the exact bytes are kept under rejected/ and nothing is queued", async () => {
      const text = json();
      const rejectedBefore = await counterTotal("webhooks.rejected");
      const { response, requestId } = await post(text);
      expect(response.status).toBe(400);
      const error = (await body(response)).error;
      expect(error.code).toBe("validation_error");
      expect(error.details[0].field).toBe(field);
      const [row, ...others] = await rowsByRequestId(requestId);
      expect(others).toEqual([]);
      expect(row).toMatchObject({ status: "rejected", bodySha256: await sha256Of(text) });
      expect(row?.eventId).toMatch(/^rejected:[0-9a-f-]{36}$/);
      expect(row?.lastError).toMatch(new RegExp(`^${field}: `));
      // What the row holds is well-formed text, and an unusable itemId is not kept as one.
      expect(row?.event.isWellFormed()).toBe(true);
      if (field === "itemId") expect(row?.itemId).toBeNull();
      const object = await env.WEBHOOK_ARCHIVE.get(row?.r2Key ?? "");
      expect(await object?.text()).toBe(text);
      expect(await counterTotal("webhooks.rejected")).toBe(rejectedBefore + 1);
    });
  });
});

describe("intake accepts every other id and handles it end to end", () => {
  const suffix = () => crypto.randomUUID().slice(0, 8);
  it.each([
    { name: "slashes", eventId: () => `a/b/c-${suffix()}` },
    { name: "a path traversal inside an id", eventId: () => `../../etc/passwd-${suffix()}` },
    { name: "percent signs and spaces", eventId: () => `%2e%2e %41?#&-${suffix()}` },
    { name: "accented text, an emoji (a surrogate pair)", eventId: () => `événement-☕-😀-${suffix()}` },
    { name: "256 CJK characters (too long to encode in a key: hashed)", eventId: () => `${suffix()}${"中".repeat(248)}` },
    { name: "128 emoji (256 UTF-16 units)", eventId: () => `${"😀".repeat(124)}${suffix()}` },
  ])("eventId with $name: 200 accepted, stored under one key, readable by the admin API, processed", async ({ eventId: make }) => {
    const eventId = make();
    const text = JSON.stringify({ event: "test/noop", eventId, itemId: `item/${suffix()}` });
    const dayBefore = today();
    const { response } = await post(text);
    expect(response.status).toBe(200);
    expect(await body(response)).toEqual({ data: { event_id: eventId, status: "accepted" } });

    const row = await eventRow(eventId);
    expect(row?.eventId).toBe(eventId);
    // Under the day it was received (the run may cross midnight: either side of the request).
    const day = [dayBefore, today()].find((d) => row?.r2Key.startsWith(`events/${d}/`)) ?? "(no matching day)";
    expect(row?.r2Key.startsWith(`events/${day}/`)).toBe(true);
    expect(row?.r2Key.slice(`events/${day}/`.length)).toMatch(/^(?:[^/]+|sha256\/[0-9a-f]{64})\.json$/);
    expect(encoder.encode(row?.r2Key ?? "").byteLength).toBeLessThanOrEqual(1024);
    expect(await (await env.WEBHOOK_ARCHIVE.get(row?.r2Key ?? ""))?.text()).toBe(text);

    // The real queue consumer processes it (test/* events end ignored) …
    await vi.waitFor(async () => expect((await eventRow(eventId))?.status).toBe("ignored"), { timeout: 10_000, interval: 50 });
    // … and operators can address it.
    const detail = await call(`/api/admin/webhook-events/${encodeURIComponent(eventId)}/`, { headers: await admin() });
    expect(detail.status).toBe(200);
    expect((await body(detail)).data).toMatchObject({ event_id: eventId, status: "ignored", payload: JSON.parse(text) });
    // A second delivery is a duplicate (same key, nothing processed again).
    expect(await body((await post(text)).response)).toEqual({ data: { event_id: eventId, status: "duplicate" } });
  });

  it.each([
    { name: "a slash", itemId: () => `item/${crypto.randomUUID()}` },
    { name: "'...' (not a dot segment)", itemId: () => "..." },
    { name: "unicode", itemId: () => `ítem-😀-${crypto.randomUUID()}` },
  ])("itemId with $name reaches Pluggy as one URL segment: processed, never retried", async ({ itemId: make }) => {
    const itemId = make();
    const eventId = crypto.randomUUID();
    const { response } = await post(JSON.stringify({ event: "item/updated", eventId, itemId }));
    expect(response.status).toBe(200);
    // Pluggy (the simulator) has no such item: 404 → the item's local data is removed → processed.
    await vi.waitFor(async () => expect((await eventRow(eventId))?.status).toBe("processed"), { timeout: 10_000, interval: 50 });
    expect(await eventRow(eventId)).toMatchObject({ attempts: 1, lastError: "Pluggy no longer has the item (GET /items/{id} answered 404): its local data was removed", itemId });
  });
});

describe("processing a body stored before intake refused such ids", () => {
  it("an archived itemId with a lone surrogate fails at once with the reason (no retries)", async () => {
    const eventId = crypto.randomUUID();
    const text = `{"event":"item/updated","eventId":"${eventId}","itemId":"\\ud800"}`;
    const receivedAt = new Date().toISOString();
    const key = await eventArchiveKey(eventId, receivedAt);
    await env.WEBHOOK_ARCHIVE.put(key, text);
    await db()
      .insert(webhookEvents)
      .values({ eventId, event: "item/updated", status: "received", receivedAt, bodySha256: await sha256Of(text), r2Key: key, contentType: "application/json", updatedAt: receivedAt });

    const batch = createMessageBatch("finance-hub-events", [{ id: `msg-${eventId}`, timestamp: new Date(), attempts: 1, body: { kind: "webhook.process", eventId } }]);
    const ctx = createExecutionContext();
    const processor = vi.fn(async () => ({ outcome: "processed" as const }));
    await consumeBatch(batch, webhookProcessMessage, createWebhookProcessHandler(() => processor), servicesFor(env as AppBindings, ctx, { logger: createLogger() }));
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual([`msg-${eventId}`]);
    expect(result.retryMessages).toEqual([]);
    expect(processor.mock.calls.length).toBe(0);
    expect(await eventRow(eventId)).toMatchObject({
      status: "failed",
      lastError: "archived body is not a valid webhook payload (itemId: must not contain an unpaired UTF-16 surrogate)",
    });
  });
});
