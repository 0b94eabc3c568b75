import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index.ts";
import type { WebhookEventRow } from "../../src/db/schema.ts";
import { webhookEvents } from "../../src/db/schema.ts";
import { PluggyError } from "../../src/pluggy/pluggy.errors.ts";
import type { AppBindings } from "../../src/platform/env.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { consumeBatch } from "../../src/queues/consumer.ts";
import { webhookProcessMessage } from "../../src/queues/messages.ts";
import { eventArchiveKey } from "../../src/webhooks/webhook-archive.ts";
import type { ProcessPayload } from "../../src/webhooks/webhook-processing.service.ts";
import { createWebhookProcessHandler, isConcurrentEvent } from "../../src/webhooks/webhooks.consumer.ts";
import { sim } from "../helpers/simulator.ts";
import { uniqueUser } from "../helpers/auth.ts";
import { ledgerOf } from "../helpers/ledger.ts";
import { counterTotal, db, eventPayload, eventRow, sha256Of } from "./support.ts";
import { servicesFor } from "../../src/platform/services.ts";

/** Stores an event the way intake does (row + exact bytes), without sending a message. */
async function seedEvent(options: { payload?: Record<string, unknown>; status?: WebhookEventRow["status"]; corrupt?: boolean; withoutBody?: boolean } = {}) {
  const payload = { ...eventPayload(), ...options.payload } as Record<string, unknown> & { eventId: string; event: string };
  const raw = JSON.stringify(payload);
  const receivedAt = new Date().toISOString();
  const key = await eventArchiveKey(payload.eventId, receivedAt);
  const sha256 = await sha256Of(raw);
  if (!options.withoutBody) await env.WEBHOOK_ARCHIVE.put(key, options.corrupt ? `${raw} ` : raw, { httpMetadata: { contentType: "application/json" } });
  await db()
    .insert(webhookEvents)
    .values({
      eventId: payload.eventId,
      event: payload.event,
      itemId: typeof payload["itemId"] === "string" ? payload["itemId"] : null,
      status: options.status ?? "received",
      receivedAt,
      bodySha256: sha256,
      r2Key: key,
      contentType: "application/json",
      matchedKey: "key:0",
      requestId: "seed",
      updatedAt: receivedAt,
    });
  return { payload, raw, key };
}

function batchOf(messages: Array<{ eventId: string; replay?: boolean; attempts?: number }>, queue = "finance-hub-events") {
  return createMessageBatch(
    queue,
    messages.map((message, i) => ({
      id: `msg-${i}-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts: message.attempts ?? 1,
      body: { kind: "webhook.process", eventId: message.eventId, ...(message.replay ? { replay: true } : {}) },
    })),
  );
}

/** Runs a batch through the real consumer loop with a given payload processor. */
async function consume(messages: Array<{ eventId: string; replay?: boolean; attempts?: number }>, processor: ProcessPayload, options: { concurrent?: boolean } = {}) {
  const batch = batchOf(messages);
  // getQueueResult does not report per-message delays, so record what the consumer asked for.
  const retryDelays: Array<number | undefined> = [];
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options?: QueueRetryOptions) => {
      retryDelays.push(options?.delaySeconds);
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  await consumeBatch(batch, webhookProcessMessage, createWebhookProcessHandler(() => processor), servicesFor(env as AppBindings, ctx, { logger: createLogger() }), undefined, () => options.concurrent === true);
  return { batch, result: await getQueueResult(batch, ctx), retryDelays };
}

const ok: ProcessPayload = async () => ({ outcome: "processed" });

describe("webhook.process consumer", () => {
  it("processes a received event once: ack, processed, processed_at, attempts 1, counted", async () => {
    const { payload } = await seedEvent();
    const processor = vi.fn(ok);
    const before = await counterTotal("webhooks.processed");
    const { batch, result } = await consume([{ eventId: payload.eventId }], processor);
    expect(result.explicitAcks).toEqual([batch.messages[0]?.id]);
    expect(result.retryMessages).toEqual([]);
    expect(await counterTotal("webhooks.processed")).toBe(before + 1);
    expect(processor).toHaveBeenCalledTimes(1);
    expect(processor.mock.calls[0]?.[0]).toMatchObject({ event: payload.event, eventId: payload.eventId, itemId: payload["itemId"] });
    const row = await eventRow(payload.eventId);
    expect(row).toMatchObject({ status: "processed", attempts: 1, lastError: null });
    expect(row?.processedAt).toBeTruthy();
  });

  it("records ignored events as ignored, with the processor's reason in last_error", async () => {
    const { payload } = await seedEvent();
    const before = await counterTotal("webhooks.ignored");
    await consume([{ eventId: payload.eventId }], async () => ({ outcome: "ignored", reason: "no itemId: item/updated is about an item and names none" }));
    expect(await eventRow(payload.eventId)).toMatchObject({ status: "ignored", lastError: "no itemId: item/updated is about an item and names none" });
    expect(await counterTotal("webhooks.ignored")).toBe(before + 1);
  });

  it("keeps a processed event's note (what was not applied) in last_error", async () => {
    const { payload } = await seedEvent();
    await consume([{ eventId: payload.eventId }], async () => ({ outcome: "processed", reason: "1 of the 2 listed transactions held here were kept: Pluggy still lists them" }));
    expect(await eventRow(payload.eventId)).toMatchObject({ status: "processed", lastError: "1 of the 2 listed transactions held here were kept: Pluggy still lists them" });
  });

  it.each(["processed", "ignored", "failed", "dead", "rejected", "processing"] as const)(
    "acks without processing when the event is already %s (a duplicate delivery)",
    async (status) => {
      const { payload } = await seedEvent({ status });
      const processor = vi.fn(ok);
      const { batch, result } = await consume([{ eventId: payload.eventId }], processor);
      expect(result.explicitAcks).toEqual([batch.messages[0]?.id]);
      expect(processor).not.toHaveBeenCalled();
      expect((await eventRow(payload.eventId))?.status).toBe(status);
    },
  );

  it.each([false, true])("processes an event only once when several messages for it arrive together (handled concurrently: %s)", async (concurrent) => {
    const { payload } = await seedEvent();
    const processor = vi.fn(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { outcome: "processed" as const };
    });
    const messages = [{ eventId: payload.eventId }, { eventId: payload.eventId }, { eventId: payload.eventId, replay: true }];
    const { result } = await consume(messages, processor, { concurrent });
    expect(processor).toHaveBeenCalledTimes(1);
    expect(result.explicitAcks).toHaveLength(3);
    expect((await eventRow(payload.eventId))?.attempts).toBe(1);
  });

  it("handles the webhook events of one batch at the same time (the dispatcher's choice for webhook.process)", async () => {
    expect(isConcurrentEvent({ kind: "webhook.process" })).toBe(true);
    expect(isConcurrentEvent({ kind: "item.sync" })).toBe(false);
    const events = await Promise.all(Array.from({ length: 5 }, () => seedEvent()));
    // A barrier: every call waits until all five have started, which only concurrent handling can reach.
    // Handled one at a time, the first call never returns and the test fails on vitest's testTimeout (no
    // wall-clock limit of its own: a slow machine only makes the barrier open later).
    let started = 0;
    let release: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (release = resolve));
    const processor: ProcessPayload = async () => {
      if (++started === events.length) release();
      await all;
      return { outcome: "processed" };
    };
    const { result } = await consume(events.map(({ payload }) => ({ eventId: payload.eventId })), processor, { concurrent: isConcurrentEvent({ kind: "webhook.process" }) });
    expect(result.explicitAcks).toHaveLength(5);
    for (const { payload } of events) expect((await eventRow(payload.eventId))?.status).toBe("processed");
  });

  it("a transient Pluggy error: retried with backoff, back to received with last_error", async () => {
    const { payload } = await seedEvent();
    const { batch, result, retryDelays } = await consume([{ eventId: payload.eventId }], async () => {
      throw new PluggyError(503, "Service Unavailable", { codeDescription: "UNAVAILABLE" });
    });
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toHaveLength(1);
    expect(result.retryMessages[0]?.msgId).toBe(batch.messages[0]?.id);
    // QUEUE_BACKOFF: 5 s base at attempt 1, jittered down to no less than half.
    expect(retryDelays).toHaveLength(1);
    expect(retryDelays[0]).toBeGreaterThanOrEqual(3);
    expect(retryDelays[0]).toBeLessThanOrEqual(5);
    const row = await eventRow(payload.eventId);
    expect(row).toMatchObject({ status: "received", attempts: 1 });
    expect(row?.lastError).toContain("503 UNAVAILABLE");

    // The retry then succeeds.
    await consume([{ eventId: payload.eventId, attempts: 2 }], ok);
    expect(await eventRow(payload.eventId)).toMatchObject({ status: "processed", attempts: 2, lastError: null });
  });

  it("a Pluggy 429 is retried no sooner than its reset", async () => {
    const { payload } = await seedEvent();
    const { result, retryDelays } = await consume([{ eventId: payload.eventId }], async () => {
      throw new PluggyError(429, "Too many requests", { retryAfterSeconds: 120 });
    });
    expect(result.retryMessages).toHaveLength(1);
    expect(retryDelays).toEqual([120]);
  });

  it("a permanent Pluggy error fails the event with the reason and acks", async () => {
    const { payload } = await seedEvent();
    const failedBefore = await counterTotal("webhooks.failed");
    const { batch, result } = await consume([{ eventId: payload.eventId }], async () => {
      throw new PluggyError(403, "Forbidden", { codeDescription: "CLIENT_IP_NOT_ALLOWED" });
    });
    expect(result.explicitAcks).toEqual([batch.messages[0]?.id]);
    expect(await counterTotal("webhooks.failed")).toBe(failedBefore + 1);
    const row = await eventRow(payload.eventId);
    expect(row?.status).toBe("failed");
    expect(row?.lastError).toBe("Pluggy: 403 CLIENT_IP_NOT_ALLOWED: Forbidden");
  });

  it("a bug in processing is retried, not lost, and last_error names it as unexpected", async () => {
    const { payload } = await seedEvent();
    const { result } = await consume([{ eventId: payload.eventId }], async () => {
      throw new TypeError("cannot read properties of undefined");
    });
    expect(result.retryMessages).toHaveLength(1);
    expect(await eventRow(payload.eventId)).toMatchObject({ status: "received", lastError: "unexpected TypeError: cannot read properties of undefined" });
  });

  it("a bug that fails every time ends dead after the retries, saying what kept failing", async () => {
    const { payload } = await seedEvent();
    const bug = async () => {
      encodeURIComponent("\ud800"); // URIError: URI malformed, the same on every attempt
      return { outcome: "processed" as const };
    };
    for (let attempt = 1; attempt <= 3; attempt++) {
      const { result } = await consume([{ eventId: payload.eventId, attempts: attempt }], bug);
      expect(result.retryMessages).toHaveLength(1);
    }
    const batch = batchOf([{ eventId: payload.eventId, attempts: 1 }], "finance-hub-events-dlq");
    const ctx = createExecutionContext();
    await worker.queue(batch, env as AppBindings, ctx);
    await getQueueResult(batch, ctx);
    expect(await eventRow(payload.eventId)).toMatchObject({ status: "dead", attempts: 3, lastError: "retries exhausted: unexpected URIError: URI malformed" });
  });

  it("an archive whose sha256 does not match fails as corrupted without calling the processor", async () => {
    const { payload } = await seedEvent({ corrupt: true });
    const processor = vi.fn(ok);
    const { result } = await consume([{ eventId: payload.eventId }], processor);
    expect(result.explicitAcks).toHaveLength(1);
    expect(processor).not.toHaveBeenCalled();
    const row = await eventRow(payload.eventId);
    expect(row?.status).toBe("failed");
    expect(row?.lastError).toMatch(/^archive corrupted: sha256/);
  });

  it("a missing archive copy is retried (Pluggy's next delivery fills it in)", async () => {
    const { payload } = await seedEvent({ withoutBody: true });
    const { result } = await consume([{ eventId: payload.eventId }], ok);
    expect(result.retryMessages).toHaveLength(1);
    expect(await eventRow(payload.eventId)).toMatchObject({ status: "received", lastError: "archived body not found in R2 (yet)" });
  });

  it("a message that outruns its row is retried, then dropped once the row clearly never came", async () => {
    const eventId = crypto.randomUUID();
    const first = await consume([{ eventId, attempts: 1 }], ok);
    expect(first.result.retryMessages).toHaveLength(1);
    const last = await consume([{ eventId, attempts: 3 }], ok);
    expect(last.result.explicitAcks).toHaveLength(1);
  });
});

describe("dead-letter queue", () => {
  it("marks the event dead with its last error, and leaves finished events alone", async () => {
    const { payload } = await seedEvent();
    await consume([{ eventId: payload.eventId }], async () => {
      throw new PluggyError(500, "boom");
    });
    const done = await seedEvent({ status: "processed" });
    const deadBefore = await counterTotal("webhooks.dead");

    const batch = batchOf([{ eventId: payload.eventId, attempts: 1 }, { eventId: done.payload.eventId, attempts: 1 }], "finance-hub-events-dlq");
    const ctx = createExecutionContext();
    await worker.queue(batch, env as AppBindings, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toHaveLength(2);
    const row = await eventRow(payload.eventId);
    expect(row?.status).toBe("dead");
    expect(row?.lastError).toBe("retries exhausted: Pluggy: 500: boom");
    expect(await counterTotal("webhooks.dead")).toBe(deadBefore + 1);
    expect((await eventRow(done.payload.eventId))?.status).toBe("processed");
  });
});

describe("wired to the real processor (Pluggy simulator)", () => {
  it("item/updated for a simulator item: processed, and the item is ours locally", async () => {
    const user = uniqueUser();
    const { item } = await sim.createItem({ clientUserId: user, accounts: 1, transactionsPerAccount: 2 });
    const { payload } = await seedEvent({ payload: { event: "item/updated", itemId: item.id, clientUserId: user } });
    const batch = batchOf([{ eventId: payload.eventId }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env as AppBindings, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toHaveLength(1);
    expect((await eventRow(payload.eventId))?.status).toBe("processed");
    // The item directory names its owner, and the owner's ledger holds it.
    const entry = await env.DB.prepare("select user_id from item_directory where item_id = ?").bind(item.id).first<{ user_id: string }>();
    expect(entry?.user_id).toBe(user);
    expect(await ledgerOf(user).getItem(item.id)).toMatchObject({ id: item.id, status: item.status });
    expect(Object.keys(await ledgerOf(user).localAccounts(item.id))).toHaveLength(1);
  });

  it("an unknown event kind is recorded as ignored", async () => {
    const { payload } = await seedEvent({ payload: { event: "payment_intent/created" } });
    const batch = batchOf([{ eventId: payload.eventId }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env as AppBindings, ctx);
    await getQueueResult(batch, ctx);
    expect((await eventRow(payload.eventId))?.status).toBe("ignored");
  });
});
