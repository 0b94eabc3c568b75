import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { vi } from "vitest";
import { accounts } from "../../src/ledger/ledger.schema.ts";
import type { AppBindings } from "../../src/platform/env.ts";
import type { EventsQueueMessage } from "../../src/queues/messages.ts";
import { uniqueUser } from "./auth.ts";
import { makeItem } from "./factories.ts";
import { inLedger } from "./ledger.ts";
import { sim } from "./simulator.ts";

/*
 * A positive signal before a negative check. "Pluggy got no second call" or "the duplicate queued no
 * work" must not follow a fixed sleep: on a slow machine the sleep ends before the work it waits for,
 * and the check passes whatever the product did. Instead a sentinel message goes onto the real queue
 * now, held longer than any send delay or retry backoff the tests configure (vitest.config.ts), and the
 * check runs once the sentinel's effect is seen: whatever was queued before it — or retried with a
 * shorter delay — has been delivered by then.
 */

/** Longer than every send delay and retry backoff vitest.config.ts sets (all 1 s). */
export function sentinelDelaySeconds(): number {
  const vars = env as AppBindings;
  const configured = [vars.CATEGORY_SYNC_SEND_DELAY_SECONDS, vars.CATEGORY_SYNC_RETRY_CAP_SECONDS, vars.EVENTS_QUEUE_RETRY_CAP_SECONDS].map((value) => Number(value ?? 0));
  return Math.max(...configured) + 1;
}

/**
 * Returns once a message sent to the processing queue (`EVENTS_QUEUE`) now, delayed past every retry,
 * has been handled: an `item.sync` of an item of its own, whose accounts then appear in its owner's ledger.
 */
export async function eventsQueueSettled(): Promise<void> {
  const userId = uniqueUser("sentinel");
  const { item } = await sim.createItem({ clientUserId: userId, accounts: 1, transactionsPerAccount: 0 });
  await makeItem(userId, { id: item.id });
  const message: EventsQueueMessage = { kind: "item.sync", itemId: item.id, reason: "registered" };
  await env.EVENTS_QUEUE.send(message, { delaySeconds: sentinelDelaySeconds() });
  const synced = () => inLedger(userId, (ledger) => ledger.select({ id: accounts.id }).from(accounts).where(eq(accounts.itemId, item.id)).all());
  await vi.waitUntil(async () => (await synced()).length === 1, { timeout: 20_000, interval: 100 });
}
