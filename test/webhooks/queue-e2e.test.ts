import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { authHeaders } from "../helpers/auth.ts";
import { eventsQueueSettled } from "../helpers/queues.ts";
import { body, call } from "../helpers/http.ts";
import { counterTotal, eventPayload, eventRow, faultyBucket, fetchWithEnv, postWebhook, webhookRequest } from "./support.ts";

/*
 * End to end on the real `finance-hub-events` queue and its dead-letter queue, as vitest.config.ts
 * wires them (3 retries, about a second apart): intake → queue → consumer → retries → DLQ consumer.
 */

describe("finance-hub-events → finance-hub-events-dlq", () => {
  it("a message that fails on every delivery reaches the DLQ and the event ends dead; Pluggy's redelivery and a replay recover it", async () => {
    const deadBefore = await counterTotal("webhooks.dead");
    const payload = eventPayload();
    const raw = JSON.stringify(payload);
    // R2 fails at intake: the row and the queue message exist, the bytes do not (answer 503, Pluggy would
    // retry). Every delivery of the message then finds no archived copy and asks for a retry.
    const intake = await fetchWithEnv(await webhookRequest(raw), { WEBHOOK_ARCHIVE: faultyBucket(env.WEBHOOK_ARCHIVE, { failPut: true }) });
    expect(intake.status).toBe(503);

    await vi.waitUntil(async () => (await eventRow(payload.eventId))?.status === "dead", { timeout: 20_000, interval: 100 });
    // max_retries 3 in tests → 4 deliveries, each one claim.
    expect(await eventRow(payload.eventId)).toMatchObject({ status: "dead", attempts: 4, lastError: "retries exhausted: archived body not found in R2 (yet)" });
    expect(await counterTotal("webhooks.dead")).toBe(deadBefore + 1);

    // Pluggy delivers again: a duplicate, which fills the missing copy but processes nothing.
    expect(await body(await postWebhook(raw))).toEqual({ data: { event_id: payload.eventId, status: "duplicate" } });
    await eventsQueueSettled(); // work the duplicate could have queued has been delivered by now
    expect((await eventRow(payload.eventId))?.status).toBe("dead");

    // The operator replays it: processed from the copy (test/* events end ignored).
    const replay = await call(`/api/admin/webhook-events/${payload.eventId}/replay/`, { method: "POST", headers: await authHeaders("ops-admin", { admin: true }) });
    expect(replay.status).toBe(202);
    await vi.waitUntil(async () => (await eventRow(payload.eventId))?.status === "ignored", { timeout: 10_000, interval: 100 });
    expect(await eventRow(payload.eventId)).toMatchObject({ replayCount: 1, lastError: 'event kind "test/noop" is not one we act on' });
  });
});
