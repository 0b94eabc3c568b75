import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/platform/logger.ts";
import { MAX_WEBHOOK_BODY_BYTES } from "../../src/webhooks/webhook-intake.routes.ts";
import { acceptDelivery } from "../../src/webhooks/webhook-intake.service.ts";
import { body } from "../helpers/http.ts";
import {
  archivedKeysContaining,
  counterTotal,
  db,
  eventPayload,
  eventRow,
  faultyBucket,
  fetchWithEnv,
  hmacHex,
  postWebhook,
  recordingQueue,
  rowsByRequestId,
  SECRET_NEW,
  SECRET_OLD,
  sha256Of,
  uniqueIp,
  webhookRequest,
} from "./support.ts";

const accepted = (eventId: string) => ({ data: { event_id: eventId, status: "accepted" } });
const duplicate = (eventId: string) => ({ data: { event_id: eventId, status: "duplicate" } });

/** Nothing of this event reached D1 or R2. */
async function expectNothingStored(eventId: string) {
  expect(await eventRow(eventId)).toBeUndefined();
  expect(await archivedKeysContaining(eventId)).toEqual([]);
}

describe("signature matrix (PLUGGY_WEBHOOK_SECRET = new,old)", () => {
  const flip = (hex: string) => `${hex.slice(0, -1)}${hex.endsWith("0") ? "1" : "0"}`;
  describe.each([
    { name: "new key", sign: (b: string) => hmacHex(b, SECRET_NEW), status: 200, matchedKey: "key:0" },
    { name: "old (rotated-out) key still listed", sign: (b: string) => hmacHex(b, SECRET_OLD), status: 200, matchedKey: "key:1" },
    { name: "sha256= prefix", sign: async (b: string) => `sha256=${await hmacHex(b, SECRET_NEW)}`, status: 200, matchedKey: "key:0" },
    { name: "upper-case hex", sign: async (b: string) => (await hmacHex(b, SECRET_NEW)).toUpperCase(), status: 200, matchedKey: "key:0" },
    { name: "lower-case hex of the old key with prefix", sign: async (b: string) => `sha256=${await hmacHex(b, SECRET_OLD)}`, status: 200, matchedKey: "key:1" },
    { name: "wrong key", sign: (b: string) => hmacHex(b, "not-our-secret"), status: 401 },
    { name: "one hex digit changed", sign: async (b: string) => flip(await hmacHex(b, SECRET_NEW)), status: 401 },
    { name: "signature of a body one byte different", sign: (b: string) => hmacHex(b.replace('"test/noop"', '"test/noo0"'), SECRET_NEW), status: 401 },
    { name: "missing header", sign: async () => null, status: 401 },
    { name: "garbage header", sign: async () => "not-a-signature", status: 401 },
  ])("$name", ({ sign, status, matchedKey }) => {
    it(`answers ${status}${status === 401 ? " and stores nothing" : ", archived with the matched key"}`, async () => {
      const payload = eventPayload();
      const raw = JSON.stringify(payload);
      const response = await postWebhook(raw, { signature: await sign(raw) });
      expect(response.status).toBe(status);
      if (status === 401) {
        const json = await body(response);
        expect(json.error.code).toBe("invalid_signature");
        expect(json.error.request_id).toBe(response.headers.get("X-Request-Id"));
        await expectNothingStored(payload.eventId);
        return;
      }
      expect(await body(response)).toEqual(accepted(payload.eventId));
      const row = await eventRow(payload.eventId);
      expect(row?.matchedKey).toBe(matchedKey);
      expect(row?.requestId).toBe(response.headers.get("X-Request-Id"));
      const object = await env.WEBHOOK_ARCHIVE.head(row?.r2Key ?? "");
      expect(object?.customMetadata).toMatchObject({ matched_key: matchedKey, sha256: await sha256Of(raw), request_id: row?.requestId });
    });
  });
});

describe("X-Webhook-Token (PLUGGY_WEBHOOK_AUTH_TOKEN set)", () => {
  const token = `tok-${crypto.randomUUID()}`;
  describe.each([
    { name: "right token", headers: { "X-Webhook-Token": token } as Record<string, string>, status: 200 },
    { name: "missing token", headers: {} as Record<string, string>, status: 401 },
    { name: "wrong token", headers: { "X-Webhook-Token": `${token}x` }, status: 401 },
    { name: "token of another length", headers: { "X-Webhook-Token": "short" }, status: 401 },
  ])("$name", ({ headers, status }) => {
    it(`answers ${status}`, async () => {
      const payload = eventPayload();
      const raw = JSON.stringify(payload);
      const queue = recordingQueue(env.EVENTS_QUEUE);
      const response = await fetchWithEnv(await webhookRequest(raw, { headers }), { PLUGGY_WEBHOOK_AUTH_TOKEN: token, EVENTS_QUEUE: queue });
      expect(response.status).toBe(status);
      if (status === 401) {
        expect((await body(response)).error.code).toBe("invalid_signature");
        await expectNothingStored(payload.eventId);
        expect(queue.sent).toEqual([]);
      } else {
        expect(queue.sent).toEqual([{ kind: "webhook.process", eventId: payload.eventId }]);
      }
    });
  });

  it("accepts the old and the new token during a rotation (PLUGGY_WEBHOOK_AUTH_TOKEN = new,old)", async () => {
    for (const presented of ["tok-new", "tok-old"]) {
      const raw = JSON.stringify(eventPayload());
      const response = await fetchWithEnv(await webhookRequest(raw, { headers: { "X-Webhook-Token": presented } }), { PLUGGY_WEBHOOK_AUTH_TOKEN: "tok-new,tok-old" });
      expect(response.status).toBe(200);
    }
    const refused = await fetchWithEnv(await webhookRequest(JSON.stringify(eventPayload()), { headers: { "X-Webhook-Token": "tok-new,tok-old" } }), {
      PLUGGY_WEBHOOK_AUTH_TOKEN: "tok-new,tok-old",
    });
    expect(refused.status).toBe(401);
  });

  it("requires the signature too when PLUGGY_WEBHOOK_REQUIRE_SIGNATURE is true", async () => {
    const payload = eventPayload();
    const raw = JSON.stringify(payload);
    const response = await fetchWithEnv(await webhookRequest(raw, { signature: null, headers: { "X-Webhook-Token": token } }), {
      PLUGGY_WEBHOOK_AUTH_TOKEN: token,
      PLUGGY_WEBHOOK_REQUIRE_SIGNATURE: "true",
    });
    expect(response.status).toBe(401);
    await expectNothingStored(payload.eventId);
  });
});

describe("signature rollout: token and secret set, signatures not required", () => {
  const token = `tok-${crypto.randomUUID()}`;
  const rollout = { PLUGGY_WEBHOOK_AUTH_TOKEN: token };

  it("the right token and no signature header: accepted, recorded and counted as unsigned (once, not for its duplicates)", async () => {
    const payload = eventPayload();
    const raw = JSON.stringify(payload);
    const before = { accepted: await counterTotal("webhooks.accepted"), unsigned: await counterTotal("webhooks.unsigned") };
    const response = await fetchWithEnv(await webhookRequest(raw, { signature: null, headers: { "X-Webhook-Token": token } }), rollout);
    expect(await body(response)).toEqual(accepted(payload.eventId));
    const row = await eventRow(payload.eventId);
    expect(row?.matchedKey).toBe("unsigned");
    expect((await env.WEBHOOK_ARCHIVE.head(row?.r2Key ?? ""))?.customMetadata?.["matched_key"]).toBe("unsigned");
    const again = await fetchWithEnv(await webhookRequest(raw, { signature: null, headers: { "X-Webhook-Token": token } }), rollout);
    expect(await body(again)).toEqual(duplicate(payload.eventId));
    expect(await counterTotal("webhooks.accepted")).toBe(before.accepted + 1);
    expect(await counterTotal("webhooks.unsigned")).toBe(before.unsigned + 1);
  });

  it("a valid signature is still verified and is not unsigned", async () => {
    const payload = eventPayload();
    const before = await counterTotal("webhooks.unsigned");
    const response = await fetchWithEnv(await webhookRequest(JSON.stringify(payload), { headers: { "X-Webhook-Token": token } }), rollout);
    expect(response.status).toBe(200);
    expect((await eventRow(payload.eventId))?.matchedKey).toBe("key:0");
    expect(await counterTotal("webhooks.unsigned")).toBe(before);
  });

  it.each([
    { name: "a wrong signature, with the right token", signature: "0".repeat(64), headers: { "X-Webhook-Token": token } as Record<string, string> },
    { name: "a malformed signature, with the right token", signature: "not-a-signature", headers: { "X-Webhook-Token": token } },
    { name: "no signature and no token", signature: null, headers: {} as Record<string, string> },
    { name: "no signature and a wrong token", signature: null, headers: { "X-Webhook-Token": `${token}x` } },
  ])("$name → 401, nothing stored", async ({ signature, headers }) => {
    const payload = eventPayload();
    const response = await fetchWithEnv(await webhookRequest(JSON.stringify(payload), { signature, headers }), rollout);
    expect(response.status).toBe(401);
    expect((await body(response)).error.code).toBe("invalid_signature");
    await expectNothingStored(payload.eventId);
  });

  it("no PLUGGY_WEBHOOK_AUTH_TOKEN: a missing signature is refused as before", async () => {
    const payload = eventPayload();
    const response = await fetchWithEnv(await webhookRequest(JSON.stringify(payload), { signature: null }), { PLUGGY_WEBHOOK_AUTH_TOKEN: "" });
    expect(response.status).toBe(401);
    await expectNothingStored(payload.eventId);
  });
});

describe("clientId (Pluggy's recipe: the notification must be for our application)", () => {
  it.each([
    { name: "another application's clientId", clientId: "someone-elses-client-id" },
    { name: "our clientId with different case", clientId: "SIM-CLIENT-ID" },
    { name: "a clientId that is not a string", clientId: 42 },
  ])("$name → 401 unauthorized, nothing stored, counted as rejected", async ({ clientId }) => {
    const payload = eventPayload({ clientId });
    const before = await counterTotal("webhooks.rejected");
    const queue = recordingQueue(env.EVENTS_QUEUE);
    const response = await fetchWithEnv(await webhookRequest(JSON.stringify(payload)), { EVENTS_QUEUE: queue });
    expect(response.status).toBe(401);
    expect((await body(response)).error.code).toBe("unauthorized");
    await expectNothingStored(payload.eventId);
    expect(queue.sent).toEqual([]);
    expect(await counterTotal("webhooks.rejected")).toBe(before + 1);
  });

  it("refuses another application's body even when it is not a valid event (nothing kept under rejected/)", async () => {
    const requestId = `req-${crypto.randomUUID()}`;
    const response = await postWebhook(JSON.stringify({ event: "item/updated", clientId: "someone-else" }), { headers: { "X-Request-Id": requestId } });
    expect(response.status).toBe(401);
    expect(await rowsByRequestId(requestId)).toEqual([]);
  });

  it.each([
    { name: "our clientId", clientId: "sim-client-id" },
    { name: "clientId null", clientId: null },
    { name: "clientId empty", clientId: "" },
    { name: "no clientId", clientId: undefined },
  ])("$name → accepted", async ({ clientId }) => {
    const payload = eventPayload(clientId === undefined ? {} : { clientId });
    expect(await body(await postWebhook(JSON.stringify(payload)))).toEqual(accepted(payload.eventId));
  });
});

describe("no PLUGGY_WEBHOOK_SECRET configured", () => {
  it("accepts an unsigned delivery with matched_key none and a logged warning", async () => {
    const warn = vi.spyOn(console, "warn");
    const payload = eventPayload();
    const response = await fetchWithEnv(await webhookRequest(JSON.stringify(payload), { signature: null }), { PLUGGY_WEBHOOK_SECRET: "" });
    expect(response.status).toBe(200);
    expect((await eventRow(payload.eventId))?.matchedKey).toBe("none");
    expect(warn.mock.calls.some(([line]) => String(line).includes("PLUGGY_WEBHOOK_SECRET is not set"))).toBe(true);
    warn.mockRestore();
  });
});

describe("accepted delivery", () => {
  it("archives the exact bytes, writes the row and queues one message before answering", async () => {
    const payload = eventPayload({ event: "test/noop", nested: { amount: 12.3, note: "café ☕" } });
    // Odd spacing and key order: the archive must keep the bytes, not a re-serialization.
    const raw = `{ "nested": {"note":"café ☕","amount":12.30},\n  "event":"test/noop", "eventId":"${payload.eventId}", "itemId":"${String(payload.itemId)}" }`;
    const queue = recordingQueue(env.EVENTS_QUEUE);
    const dayBefore = new Date().toISOString().slice(0, 10).replaceAll("-", "/");
    const response = await fetchWithEnv(await webhookRequest(raw), { EVENTS_QUEUE: queue });
    expect(response.status).toBe(200);
    expect(await body(response)).toEqual(accepted(payload.eventId));
    expect(queue.sent).toEqual([{ kind: "webhook.process", eventId: payload.eventId }]);

    const row = await eventRow(payload.eventId);
    // The day it was received: the run may cross midnight, so either side of the request.
    const dayAfter = new Date().toISOString().slice(0, 10).replaceAll("-", "/");
    const today = [dayBefore, dayAfter].find((day) => row?.r2Key === `events/${day}/${payload.eventId}.json`) ?? dayAfter;
    expect(row).toMatchObject({
      event: "test/noop",
      itemId: payload.itemId,
      bodySha256: await sha256Of(raw),
      r2Key: `events/${today}/${payload.eventId}.json`,
      contentType: "application/json",
      replayCount: 0,
    });
    expect(["received", "processing", "ignored"]).toContain(row?.status);
    const object = await env.WEBHOOK_ARCHIVE.get(row?.r2Key ?? "");
    expect(object?.httpMetadata?.contentType).toBe("application/json");
    expect(object?.customMetadata?.["received_at"]).toBe(row?.receivedAt);
    expect(new Uint8Array(await (object as R2ObjectBody).arrayBuffer())).toEqual(new TextEncoder().encode(raw));
  });

  it("works with and without the trailing slash", async () => {
    const payload = eventPayload();
    const raw = JSON.stringify(payload);
    const request = await webhookRequest(raw);
    const response = await fetchWithEnv(new Request(request.url.replace(/\/$/, ""), request), {});
    expect(response.status).toBe(200);
    expect(await body(response)).toEqual(accepted(payload.eventId));
  });

  it("refuses a body that is not JSON by media type with 415", async () => {
    const payload = eventPayload();
    const raw = JSON.stringify(payload);
    const response = await postWebhook(raw, { headers: { "Content-Type": "text/plain" } });
    expect(response.status).toBe(415);
    await expectNothingStored(payload.eventId);
  });
});

describe("duplicates", () => {
  it("answers duplicate for a repeated eventId and keeps the original bytes", async () => {
    const payload = eventPayload();
    const original = JSON.stringify(payload);
    expect(await body(await postWebhook(original))).toEqual(accepted(payload.eventId));
    // Same event again, then the same eventId with different bytes (must not clobber the original).
    expect(await body(await postWebhook(original))).toEqual(duplicate(payload.eventId));
    const altered = JSON.stringify({ ...payload, extra: "changed" });
    expect(await body(await postWebhook(altered))).toEqual(duplicate(payload.eventId));

    const row = await eventRow(payload.eventId);
    expect(row?.bodySha256).toBe(await sha256Of(original));
    const object = await env.WEBHOOK_ARCHIVE.get(row?.r2Key ?? "");
    expect(await object?.text()).toBe(original);
    expect(await archivedKeysContaining(payload.eventId)).toEqual([row?.r2Key]);
  });

  it("five concurrent deliveries of one event: exactly one accepted, one row, original bytes intact", async () => {
    const payload = eventPayload();
    const raw = JSON.stringify(payload);
    const ip = uniqueIp();
    const responses = await Promise.all(Array.from({ length: 5 }, () => postWebhook(raw, { ip })));
    const statuses = await Promise.all(responses.map(async (response) => ({ code: response.status, json: await body(response) })));
    expect(statuses.every((status) => status.code === 200)).toBe(true);
    const kinds = statuses.map((status) => status.json.data.status).sort();
    expect(kinds).toEqual(["accepted", "duplicate", "duplicate", "duplicate", "duplicate"]);
    const row = await eventRow(payload.eventId);
    expect(row?.bodySha256).toBe(await sha256Of(raw));
    expect(await (await env.WEBHOOK_ARCHIVE.get(row?.r2Key ?? ""))?.text()).toBe(raw);
    expect(await archivedKeysContaining(payload.eventId)).toEqual([row?.r2Key]);
  });

  it("concurrent deliveries with different bytes for one eventId: the stored bytes always match the row", async () => {
    const payload = eventPayload();
    const bodies = Array.from({ length: 5 }, (_, i) => JSON.stringify({ ...payload, variant: i }));
    const ip = uniqueIp();
    const responses = await Promise.all(bodies.map((raw) => postWebhook(raw, { ip })));
    const kinds = (await Promise.all(responses.map((response) => body(response)))).map((json) => json.data.status).sort();
    expect(kinds).toEqual(["accepted", "duplicate", "duplicate", "duplicate", "duplicate"]);
    const row = await eventRow(payload.eventId);
    const stored = await (await env.WEBHOOK_ARCHIVE.get(row?.r2Key ?? ""))?.text();
    expect(await sha256Of(stored ?? "")).toBe(row?.bodySha256);
  });

  it("counts duplicates in webhooks.duplicate, after the answer", async () => {
    const read = () => counterTotal("webhooks.duplicate");
    const before = await read();
    const raw = JSON.stringify(eventPayload());
    await postWebhook(raw);
    await postWebhook(raw);
    await postWebhook(raw);
    await vi.waitFor(async () => expect(await read()).toBe(before + 2));
  });
});

describe("metrics counted at intake", () => {
  /** The DB binding, recording each statement prepared and each round trip (a batch, or a lone statement). */
  function recordingDb(db: D1Database) {
    const prepared: string[] = [];
    const roundTrips: string[][] = [];
    const binding = {
      prepare: (query: string) => {
        prepared.push(query);
        return db.prepare(query);
      },
      batch: (statements: D1PreparedStatement[]) => {
        roundTrips.push(prepared.splice(0));
        return db.batch(statements);
      },
    } as unknown as D1Database;
    return { binding, roundTrips, lone: () => prepared };
  }

  it("an accepted event: the row and its `webhooks.accepted` count in one D1 batch (one round trip)", async () => {
    const before = await counterTotal("webhooks.accepted");
    const payload = eventPayload();
    const recording = recordingDb(env.DB);
    const response = await fetchWithEnv(await webhookRequest(JSON.stringify(payload)), { DB: recording.binding });
    expect(await body(response)).toEqual(accepted(payload.eventId));
    expect(recording.roundTrips).toHaveLength(1);
    expect(recording.roundTrips[0]).toHaveLength(2);
    expect(recording.roundTrips[0]?.join("\n")).toMatch(/insert into "metric_counters"[\s\S]*insert into "webhook_events"/);
    expect(recording.lone()).toEqual([]);
    expect(await counterTotal("webhooks.accepted")).toBe(before + 1);
  });

  it("counts an event once: its duplicates, sequential or concurrent, never count", async () => {
    const before = await counterTotal("webhooks.accepted");
    const sequential = JSON.stringify(eventPayload());
    for (let i = 0; i < 3; i++) expect((await postWebhook(sequential)).status).toBe(200);
    const concurrent = eventPayload();
    const ip = uniqueIp();
    // Same bytes and even the same X-Request-Id: only the delivery whose insert created the row counts.
    const headers = { "X-Request-Id": `req-${crypto.randomUUID()}` };
    const responses = await Promise.all(Array.from({ length: 5 }, () => postWebhook(JSON.stringify(concurrent), { ip, headers })));
    const kinds = (await Promise.all(responses.map((response) => body(response)))).map((json) => json.data.status).sort();
    expect(kinds).toEqual(["accepted", "duplicate", "duplicate", "duplicate", "duplicate"]);
    expect(await counterTotal("webhooks.accepted")).toBe(before + 2);
  });

  it("a signed but invalid delivery counts as rejected with its row; a refused one (401) too", async () => {
    const before = await counterTotal("webhooks.rejected");
    const invalid = await postWebhook(JSON.stringify({ event: "item/updated" }));
    expect(invalid.status).toBe(400);
    expect(await counterTotal("webhooks.rejected")).toBe(before + 1);
    const refused = await fetchWithEnv(await webhookRequest(JSON.stringify(eventPayload()), { signature: "0".repeat(64) }), {});
    expect(refused.status).toBe(401);
    expect(await counterTotal("webhooks.rejected")).toBe(before + 2);
  });
});

describe("body size (≤ 256 KiB)", () => {
  /** A signed, valid event padded to exactly `size` bytes. */
  function paddedEvent(size: number) {
    const payload = eventPayload();
    const skeleton = JSON.stringify({ ...payload, pad: "" });
    return { payload, raw: JSON.stringify({ ...payload, pad: "x".repeat(size - skeleton.length) }) };
  }

  it("accepts exactly 256 KiB", async () => {
    const { payload, raw } = paddedEvent(MAX_WEBHOOK_BODY_BYTES);
    expect(raw.length).toBe(MAX_WEBHOOK_BODY_BYTES);
    const response = await postWebhook(raw);
    expect(response.status).toBe(200);
    expect(await body(response)).toEqual(accepted(payload.eventId));
  });

  it("refuses one byte more by Content-Length with 413, storing nothing", async () => {
    const { payload, raw } = paddedEvent(MAX_WEBHOOK_BODY_BYTES + 1);
    const response = await postWebhook(raw);
    expect(response.status).toBe(413);
    expect((await body(response)).error.code).toBe("payload_too_large");
    await expectNothingStored(payload.eventId);
  });

  it("stops reading a chunked body that never ends and answers 413", async () => {
    let pulled = 0;
    const chunk = new Uint8Array(16 * 1024).fill(0x20);
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const request = new Request("https://api.test/api/banking/pluggy/webhook/", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Pluggy-Signature": "0".repeat(64), "CF-Connecting-IP": uniqueIp() },
      body: endless,
    });
    expect(request.headers.get("Content-Length")).toBeNull();
    const response = await fetchWithEnv(request, {});
    expect(response.status).toBe(413);
    expect((await body(response)).error.code).toBe("payload_too_large");
    expect(pulled).toBeLessThan(MAX_WEBHOOK_BODY_BYTES + 4 * chunk.byteLength);
  });
});

describe("signed but invalid payloads → 400, bytes kept under rejected/", () => {
  describe.each([
    { name: "not JSON", raw: "event=item/updated", field: "body" },
    { name: "a JSON array", raw: JSON.stringify([{ event: "item/updated", eventId: "x" }]), field: "body" },
    { name: "no event", raw: JSON.stringify({ eventId: crypto.randomUUID() }), field: "event" },
    { name: "no eventId", raw: JSON.stringify({ event: "item/updated", itemId: "item-1" }), field: "eventId" },
    { name: "eventId not a string", raw: JSON.stringify({ event: "item/updated", eventId: 42 }), field: "eventId" },
    { name: "empty eventId", raw: JSON.stringify({ event: "item/updated", eventId: "" }), field: "eventId" },
    { name: "invalid UTF-8", raw: new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]), field: "body" },
  ])("$name", ({ raw, field }) => {
    it("answers 400 validation_error naming the field and keeps a rejected row with the exact bytes", async () => {
      const bytes: Uint8Array<ArrayBuffer> = new Uint8Array(typeof raw === "string" ? new TextEncoder().encode(raw) : raw);
      const requestId = `req-${crypto.randomUUID()}`;
      const queue = recordingQueue(env.EVENTS_QUEUE);
      const request = new Request("https://api.test/api/banking/pluggy/webhook/", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Pluggy-Signature": await hmacHex(bytes, SECRET_NEW), "CF-Connecting-IP": uniqueIp(), "X-Request-Id": requestId },
        body: bytes,
      });
      const response = await fetchWithEnv(request, { EVENTS_QUEUE: queue });
      expect(response.status).toBe(400);
      const json = await body(response);
      expect(json.error.code).toBe("validation_error");
      expect(json.error.details[0].field).toBe(field);
      expect(queue.sent).toEqual([]);

      const rows = await rowsByRequestId(requestId);
      expect(rows).toHaveLength(1);
      const row = rows[0];
      expect(row?.status).toBe("rejected");
      expect(row?.eventId).toMatch(/^rejected:/);
      expect(row?.r2Key).toMatch(/^rejected\/\d{4}\/\d{2}\/\d{2}\/.+\.json$/);
      expect(row?.lastError).toContain(field);
      expect(row?.bodySha256).toBe(await sha256Of(bytes));
      const object = await env.WEBHOOK_ARCHIVE.get(row?.r2Key ?? "");
      expect(new Uint8Array(await (object as R2ObjectBody).arrayBuffer())).toEqual(bytes);
    });
  });

  it("does not keep anything for an unsigned invalid body (401 first)", async () => {
    const requestId = `req-${crypto.randomUUID()}`;
    const response = await postWebhook("not json", { signature: null, headers: { "X-Request-Id": requestId } });
    expect(response.status).toBe(401);
    expect(await rowsByRequestId(requestId)).toEqual([]);
  });
});

describe("write failures answer 503 and lose nothing", () => {
  it("a failed queue send → 503; the row stays received for the sweeper; Pluggy's retry is a duplicate", async () => {
    const payload = eventPayload();
    const raw = JSON.stringify(payload);
    const failing = await fetchWithEnv(await webhookRequest(raw), { EVENTS_QUEUE: recordingQueue(env.EVENTS_QUEUE, { fail: true }) });
    expect(failing.status).toBe(503);
    const json = await body(failing);
    expect(json.error.code).toBe("upstream_unavailable");
    expect(JSON.stringify(json)).not.toMatch(/injected|stack/i);
    expect(failing.headers.get("Retry-After")).toBeTruthy();
    expect((await eventRow(payload.eventId))?.status).toBe("received");

    const retry = await fetchWithEnv(await webhookRequest(raw), { EVENTS_QUEUE: recordingQueue(env.EVENTS_QUEUE, { fail: true }) });
    expect(await body(retry)).toEqual(duplicate(payload.eventId));
  });

  it("a failed R2 write → 503; the retry fills the archive and the row's bytes are there", async () => {
    const payload = eventPayload();
    const raw = JSON.stringify(payload);
    const failing = await fetchWithEnv(await webhookRequest(raw), { WEBHOOK_ARCHIVE: faultyBucket(env.WEBHOOK_ARCHIVE, { failPut: true }) });
    expect(failing.status).toBe(503);
    const row = await eventRow(payload.eventId);
    expect(await env.WEBHOOK_ARCHIVE.head(row?.r2Key ?? "")).toBeNull();

    const retry = await postWebhook(raw);
    expect(await body(retry)).toEqual(duplicate(payload.eventId));
    expect(await (await env.WEBHOOK_ARCHIVE.get(row?.r2Key ?? ""))?.text()).toBe(raw);
  });

  it("a failed D1 insert → 503; the retry is accepted over the copy already archived", async () => {
    const payload = eventPayload();
    const raw = JSON.stringify(payload);
    const down = () => Promise.reject(new Error("D1 unavailable (injected)"));
    const brokenDb = { prepare: () => ({ bind: () => ({ raw: down, all: down, run: down }) }), batch: down };
    const failing = await fetchWithEnv(await webhookRequest(raw), { DB: brokenDb as unknown as D1Database });
    expect(failing.status).toBe(503);
    expect(await eventRow(payload.eventId)).toBeUndefined();
    expect(await archivedKeysContaining(payload.eventId)).toHaveLength(1);

    const retry = await postWebhook(raw);
    expect(await body(retry)).toEqual(accepted(payload.eventId));
    const row = await eventRow(payload.eventId);
    expect(await (await env.WEBHOOK_ARCHIVE.get(row?.r2Key ?? ""))?.text()).toBe(raw);
  });
});

describe("a retry across midnight UTC (the retry's key is another day's)", () => {
  /** Runs acceptDelivery as the route would at `receivedAt`, waiting for its after-answer work. */
  async function acceptAt(raw: string, receivedAt: string, bucket: R2Bucket): Promise<{ status: string } | { error: unknown }> {
    const background: Promise<unknown>[] = [];
    const silentQueue = { send: async () => undefined, sendBatch: async () => undefined } as unknown as Queue;
    const bytes = new Uint8Array(new TextEncoder().encode(raw));
    try {
      const result = await acceptDelivery(
        { catalog: db(), bucket, eventsQueue: silentQueue, logger: createLogger({ test: "midnight" }), waitUntil: (promise) => void background.push(promise) },
        { bytes, sha256: await sha256Of(raw), contentType: "application/json", matchedKey: "key:0", requestId: crypto.randomUUID(), receivedAt },
      );
      return { status: result.status };
    } catch (error) {
      return { error };
    } finally {
      await Promise.all(background);
    }
  }

  it("the row's own copy is missing (its R2 write failed before midnight): the row points at the new day's copy instead of it being deleted", async () => {
    const payload = eventPayload();
    const raw = JSON.stringify(payload);
    // 23:59:59.900 — the row is written, the R2 put fails, Pluggy gets a 503.
    const first = await acceptAt(raw, "2026-11-28T23:59:59.900Z", faultyBucket(env.WEBHOOK_ARCHIVE, { failPut: true }));
    expect(first).toMatchObject({ error: expect.objectContaining({ code: "upstream_unavailable" }) });
    const before = await eventRow(payload.eventId);
    expect(before?.r2Key).toBe(`events/2026/11/28/${payload.eventId}.json`);
    expect(await env.WEBHOOK_ARCHIVE.head(before?.r2Key ?? "")).toBeNull();

    // 00:00:00.200 — Pluggy's retry: a duplicate, whose copy lands under the next day's key.
    expect(await acceptAt(raw, "2026-11-29T00:00:00.200Z", env.WEBHOOK_ARCHIVE)).toEqual({ status: "duplicate" });
    const after = await eventRow(payload.eventId);
    expect(after?.r2Key).toBe(`events/2026/11/29/${payload.eventId}.json`);
    const object = await env.WEBHOOK_ARCHIVE.get(after?.r2Key ?? "");
    expect(await object?.text()).toBe(raw);
    expect(after?.bodySha256).toBe(await sha256Of(raw));
    expect(await archivedKeysContaining(payload.eventId)).toEqual([`events/2026/11/29/${payload.eventId}.json`]);
  });

  it("the row's own copy is there: the new day's copy is an orphan and is deleted", async () => {
    const payload = eventPayload();
    const raw = JSON.stringify(payload);
    expect(await acceptAt(raw, "2026-11-28T23:59:59.900Z", env.WEBHOOK_ARCHIVE)).toEqual({ status: "accepted" });
    expect(await acceptAt(raw, "2026-11-29T00:00:00.200Z", env.WEBHOOK_ARCHIVE)).toEqual({ status: "duplicate" });
    expect((await eventRow(payload.eventId))?.r2Key).toBe(`events/2026/11/28/${payload.eventId}.json`);
    expect(await archivedKeysContaining(payload.eventId)).toEqual([`events/2026/11/28/${payload.eventId}.json`]);
  });
});

describe("rate limit per source address", () => {
  it("answers 429 rate_limited with Retry-After once an address is over the limit, and other addresses are unaffected", async () => {
    const ip = uniqueIp();
    // The limiter (600 per 60 s, windows aligned to the clock) counts before anything else; unsigned
    // requests keep this cheap. Two windows' worth guarantees a limited answer even across a rollover.
    let sent = 0;
    let limited: Response | undefined;
    while (!limited && sent < 1300) {
      const responses = await Promise.all(Array.from({ length: 100 }, () => postWebhook("{}", { ip, signature: null })));
      sent += responses.length;
      limited = responses.find((response) => response.status === 429);
      expect(responses.every((response) => response.status === 401 || response.status === 429)).toBe(true);
    }
    expect(sent).toBeGreaterThan(600);
    expect(limited?.status).toBe(429);
    expect((await body(limited as Response)).error.code).toBe("rate_limited");
    expect(Number(limited?.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await postWebhook("{}", { signature: null })).status).toBe(401);
  });
});
