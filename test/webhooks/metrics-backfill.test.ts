import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { webhookEvents } from "../../src/db/schema.ts";
import { incrementCounter } from "../../src/platform/metrics.ts";
import { webhookMetrics } from "../../src/webhooks/webhook-metrics.ts";
import { db } from "./support.ts";

/*
 * migrations/0001_webhook_delivery_counters.sql: `accepted` and signed-but-invalid `rejected` used to be
 * counted from webhook_events rows; the migration carries the rows of an existing database over into
 * the counters that now hold them. (Its own file: it counts every row of this file's database.)
 */

describe("0001_webhook_delivery_counters backfill", () => {
  it("turns today's rows into hourly accepted / rejected counters, adding to counters already there", async () => {
    const migration = env.TEST_MIGRATIONS.find((entry) => entry.name.startsWith("0001_webhook_delivery_counters"));
    expect(migration).toBeDefined();
    const at = (hour: number, minute: number) => new Date(Date.UTC(2023, 2, 4, hour, minute)).toISOString();
    const row = (status: "processed" | "failed" | "dead" | "rejected", receivedAt: string) => ({
      eventId: status === "rejected" ? `rejected:${crypto.randomUUID()}` : crypto.randomUUID(),
      event: "item/updated",
      status,
      receivedAt,
      bodySha256: "0".repeat(64),
      r2Key: `test/${crypto.randomUUID()}`,
      updatedAt: receivedAt,
    });
    await db()
      .insert(webhookEvents)
      .values([row("processed", at(5, 1)), row("failed", at(5, 59)), row("dead", at(6, 0)), row("rejected", at(5, 30)), row("rejected", at(6, 10))]);
    // Refused deliveries (bad signature) were counters already: the backfill adds to them.
    await incrementCounter({ catalog: db() }, "webhooks.rejected", 2, new Date(at(5, 45)));

    for (const query of migration?.queries ?? []) await env.DB.prepare(query).run();

    const metrics = await webhookMetrics({ catalog: db() }, new Date(Date.UTC(2023, 2, 4, 5)), new Date(Date.UTC(2023, 2, 4, 7)), "hour");
    expect(metrics.series.map(({ bucket, accepted, rejected }) => ({ bucket, accepted, rejected }))).toEqual([
      { bucket: "2023-03-04T05:00:00Z", accepted: 2, rejected: 3 },
      { bucket: "2023-03-04T06:00:00Z", accepted: 1, rejected: 1 },
    ]);
  });
});
