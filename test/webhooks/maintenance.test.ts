import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index.ts";
import { webhookEvents, type WebhookEventRow } from "../../src/db/schema.ts";
import type { AppBindings } from "../../src/platform/env.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { incrementCounter } from "../../src/platform/metrics.ts";
import { FREQUENT_CRON, HOURLY_CRON } from "../../src/scheduled.ts";
import { eventArchiveKey } from "../../src/webhooks/webhook-archive.ts";
import { purgeExpiredWebhookBodies, retentionDays, sweepWebhookEvents } from "../../src/webhooks/webhook-maintenance.service.ts";
import { webhookMetrics } from "../../src/webhooks/webhook-metrics.ts";
import { authHeaders } from "../helpers/auth.ts";
import { body, call } from "../helpers/http.ts";
import { db, eventPayload, eventRow, fetchWithEnv, recordingQueue, sha256Of, webhookRequest } from "./support.ts";

const logger = createLogger();
const MINUTE = 60_000;
const DAY = 86_400_000;

/** A stored event (row + bytes) with chosen timestamps, as intake would have left it. */
async function seed(options: { status?: WebhookEventRow["status"]; receivedAt?: Date; updatedAt?: Date; event?: string } = {}) {
  const payload = eventPayload(options.event ? { event: options.event } : {});
  const raw = JSON.stringify(payload);
  const receivedAt = (options.receivedAt ?? new Date()).toISOString();
  const key = await eventArchiveKey(payload.eventId, receivedAt);
  await env.WEBHOOK_ARCHIVE.put(key, raw, { httpMetadata: { contentType: "application/json" } });
  await db()
    .insert(webhookEvents)
    .values({
      eventId: payload.eventId,
      event: payload.event,
      status: options.status ?? "received",
      receivedAt,
      bodySha256: await sha256Of(raw),
      r2Key: key,
      contentType: "application/json",
      matchedKey: "key:0",
      updatedAt: (options.updatedAt ?? options.receivedAt ?? new Date()).toISOString(),
    });
  return { eventId: payload.eventId, key };
}

describe("sweeper (FREQUENT_CRON)", () => {
  it("re-queues idle received events and releases stuck processing ones, leaving the rest alone", async () => {
    const now = new Date();
    const idle = await seed({ receivedAt: new Date(now.getTime() - 30 * MINUTE), updatedAt: new Date(now.getTime() - 11 * MINUTE) });
    const fresh = await seed({ receivedAt: new Date(now.getTime() - 30 * MINUTE), updatedAt: new Date(now.getTime() - 2 * MINUTE) });
    const stuck = await seed({ status: "processing", receivedAt: new Date(now.getTime() - 60 * MINUTE), updatedAt: new Date(now.getTime() - 25 * MINUTE) });
    const working = await seed({ status: "processing", updatedAt: new Date(now.getTime() - 3 * MINUTE) });
    const done = await seed({ status: "processed", updatedAt: new Date(now.getTime() - 60 * MINUTE) });
    const ours = new Set([idle, fresh, stuck, working, done].map((event) => event.eventId));

    const queue = recordingQueue(env.EVENTS_QUEUE);
    await sweepWebhookEvents({ catalog: db(), eventsQueue: queue, logger }, now);
    const sent = (queue.sent as Array<{ eventId: string }>).filter((message) => ours.has(message.eventId));
    expect(sent.map((message) => message.eventId).sort()).toEqual([idle.eventId, stuck.eventId].sort());
    expect(sent.every((message) => Object.keys(message).sort().join() === "eventId,kind")).toBe(true);

    const stuckRow = await eventRow(stuck.eventId);
    expect(stuckRow?.lastError).toMatch(/released by the sweeper/);
    expect((await eventRow(working.eventId))?.status).toBe("processing");
    // The re-queued events were touched, so the next run does not send them again.
    const again = recordingQueue(env.EVENTS_QUEUE);
    await sweepWebhookEvents({ catalog: db(), eventsQueue: again, logger }, new Date(now.getTime() + MINUTE));
    expect((again.sent as Array<{ eventId: string }>).filter((message) => ours.has(message.eventId))).toEqual([]);
    // The consumer picks them up for real.
    for (const id of [idle.eventId, stuck.eventId]) {
      await vi.waitFor(async () => expect((await eventRow(id))?.status).toBe("ignored"), { timeout: 10_000, interval: 50 });
    }
  });

  it("is bounded per run", async () => {
    const old = new Date(Date.now() - 20 * MINUTE);
    for (let i = 0; i < 4; i++) await seed({ receivedAt: old });
    const queue = recordingQueue(env.EVENTS_QUEUE);
    const result = await sweepWebhookEvents({ catalog: db(), eventsQueue: queue, logger }, new Date(), 3);
    expect(result.requeued).toBe(3);
    expect(queue.sent).toHaveLength(3);
  });

  it("recovers an event whose queue send failed at intake (503), through the scheduled handler", async () => {
    const payload = eventPayload();
    const failed = await fetchWithEnv(await webhookRequest(JSON.stringify(payload)), { EVENTS_QUEUE: recordingQueue(env.EVENTS_QUEUE, { fail: true }) });
    expect(failed.status).toBe(503);
    expect((await eventRow(payload.eventId))?.status).toBe("received");

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: FREQUENT_CRON, scheduledTime: Date.now() + 11 * MINUTE }), env as AppBindings, ctx);
    await waitOnExecutionContext(ctx);
    await vi.waitFor(async () => expect((await eventRow(payload.eventId))?.status).toBe("ignored"), { timeout: 10_000, interval: 50 });
  });
});

describe("retention purge (HOURLY_CRON, WEBHOOK_RETENTION_DAYS)", () => {
  it("parses WEBHOOK_RETENTION_DAYS with a default of 90", () => {
    expect(retentionDays(undefined)).toBe(90);
    expect(retentionDays("")).toBe(90);
    expect(retentionDays("abc")).toBe(90);
    expect(retentionDays("0")).toBe(90);
    expect(retentionDays("30")).toBe(30);
  });

  it("deletes bodies older than the retention in bounded batches, keeps rows, and answers 410 for them", async () => {
    const now = new Date();
    const expired = [];
    for (let i = 0; i < 5; i++) expired.push(await seed({ status: "processed", receivedAt: new Date(now.getTime() - (91 + i) * DAY) }));
    const kept = await seed({ status: "processed", receivedAt: new Date(now.getTime() - 89 * DAY) });

    expect(await purgeExpiredWebhookBodies({ catalog: db(), bucket: env.WEBHOOK_ARCHIVE, logger }, now, 90, { batchSize: 2, maxBatches: 2 })).toBe(4);
    expect(await purgeExpiredWebhookBodies({ catalog: db(), bucket: env.WEBHOOK_ARCHIVE, logger }, now, 90, { batchSize: 2, maxBatches: 2 })).toBe(1);
    expect(await purgeExpiredWebhookBodies({ catalog: db(), bucket: env.WEBHOOK_ARCHIVE, logger }, now, 90)).toBe(0);

    for (const event of expired) {
      expect(await env.WEBHOOK_ARCHIVE.head(event.key)).toBeNull();
      const row = await eventRow(event.eventId);
      expect(row?.payloadPurgedAt).toBe(now.toISOString());
      expect(row?.status).toBe("processed");
    }
    expect(await env.WEBHOOK_ARCHIVE.head(kept.key)).not.toBeNull();
    expect((await eventRow(kept.eventId))?.payloadPurgedAt).toBeNull();

    const headers = await authHeaders("ops-admin", { admin: true });
    const purged = expired[0]?.eventId ?? "";
    for (const [method, suffix] of [
      ["GET", "raw/"],
      ["POST", "replay/"],
    ] as const) {
      const response = await call(`/api/admin/webhook-events/${purged}/${suffix}`, { method, headers });
      expect(response.status).toBe(410);
      expect((await body(response)).error.code).toBe("gone");
    }
    const detail = await body(await call(`/api/admin/webhook-events/${purged}/`, { headers }));
    expect(detail.data).toMatchObject({ event_id: purged, payload: null, payload_purged_at: now.toISOString() });
    const bulk = await body(await call("/api/admin/webhook-events/replay/", { method: "POST", headers, json: { status: "processed", dry_run: true, limit: 1000 } }));
    expect(bulk.data.event_ids).not.toContain(purged);
    expect(bulk.data.event_ids).toContain(kept.eventId);
  });

  it("runs from the hourly cron with WEBHOOK_RETENTION_DAYS", async () => {
    const old = await seed({ status: "ignored", receivedAt: new Date(Date.now() - 40 * DAY) });
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: HOURLY_CRON, scheduledTime: Date.now() }), { ...(env as AppBindings), WEBHOOK_RETENTION_DAYS: "30" }, ctx);
    await waitOnExecutionContext(ctx);
    expect(await env.WEBHOOK_ARCHIVE.head(old.key)).toBeNull();
    expect((await eventRow(old.eventId))?.payloadPurgedAt).not.toBeNull();
  });
});

describe("webhookMetrics", () => {
  it("reads every count from the hourly counters, per bucket; event rows are not counted", async () => {
    const from = new Date(Date.UTC(2025, 0, 10, 8));
    const to = new Date(Date.UTC(2025, 0, 10, 11));
    const at = (hour: number, minute = 0) => new Date(Date.UTC(2025, 0, 10, hour, minute));
    // Rows alone count nothing: erasure deletes rows, and metrics must keep what happened.
    await seed({ status: "processed", receivedAt: at(8, 5) });
    await seed({ status: "rejected", receivedAt: at(9, 1) });
    const d = db();
    await incrementCounter({ catalog: d }, "webhooks.accepted", 2, at(8, 5));
    await incrementCounter({ catalog: d }, "webhooks.accepted", 1, at(10, 30));
    await incrementCounter({ catalog: d }, "webhooks.accepted", 1, at(11, 0)); // outside [from, to)
    await incrementCounter({ catalog: d }, "webhooks.unsigned", 1, at(10, 30));
    await incrementCounter({ catalog: d }, "webhooks.duplicate", 2, at(8, 10));
    await incrementCounter({ catalog: d }, "webhooks.rejected", 4, at(9, 10));
    await incrementCounter({ catalog: d }, "webhooks.processed", 1, at(8, 6));
    await incrementCounter({ catalog: d }, "webhooks.ignored", 1, at(10, 31));
    await incrementCounter({ catalog: d }, "webhooks.failed", 1, at(9, 0));
    await incrementCounter({ catalog: d }, "webhooks.dead", 1, at(7, 59)); // outside

    const metrics = await webhookMetrics({ catalog: d }, from, to, "hour");
    expect(metrics.totals).toEqual({ accepted: 3, unsigned: 1, duplicate: 2, rejected: 4, processed: 1, ignored: 1, failed: 1, dead: 0 });
    expect(metrics.series).toEqual([
      { bucket: "2025-01-10T08:00:00Z", accepted: 2, unsigned: 0, duplicate: 2, rejected: 0, processed: 1, ignored: 0, failed: 0, dead: 0 },
      { bucket: "2025-01-10T09:00:00Z", accepted: 0, unsigned: 0, duplicate: 0, rejected: 4, processed: 0, ignored: 0, failed: 1, dead: 0 },
      { bucket: "2025-01-10T10:00:00Z", accepted: 1, unsigned: 1, duplicate: 0, rejected: 0, processed: 0, ignored: 1, failed: 0, dead: 0 },
    ]);

    const daily = await webhookMetrics({ catalog: d }, new Date(Date.UTC(2025, 0, 9)), new Date(Date.UTC(2025, 0, 11)), "day");
    expect(daily.series.map((point) => point.bucket)).toEqual(["2025-01-09T00:00:00Z", "2025-01-10T00:00:00Z"]);
    expect(daily.totals).toEqual({ accepted: 4, unsigned: 1, duplicate: 2, rejected: 4, processed: 1, ignored: 1, failed: 1, dead: 1 });
  });

  it("counts refused deliveries (bad signature) as rejected", async () => {
    // One range for both reads, so an hour turning between them cannot move the window.
    const [from, to] = [new Date(Date.now() - 60 * MINUTE), new Date(Date.now() + 60 * MINUTE)];
    const before = await webhookMetrics({ catalog: db() }, from, to, "hour");
    const response = await fetchWithEnv(await webhookRequest(JSON.stringify(eventPayload()), { signature: "0".repeat(64) }), {});
    expect(response.status).toBe(401);
    const after = await webhookMetrics({ catalog: db() }, from, to, "hour");
    expect(after.totals.rejected).toBe(before.totals.rejected + 1);
    expect(after.totals.accepted).toBe(before.totals.accepted);
  });
});
