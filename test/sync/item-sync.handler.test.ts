import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import { uniqueUser } from "../helpers/auth.ts";
import { exactPath, sim } from "../helpers/simulator.ts";
import { directoryEntry, expectLocalMatchesSimulator, localItem } from "./support.ts";

const EVENTS_QUEUE = "finance-hub-events";
const EVENTS_DLQ = "finance-hub-events-dlq";

/** Runs one `item.sync` message through the Worker's queue entry; also records each retry's delay. */
async function deliver(itemId: string, queue = EVENTS_QUEUE) {
  const id = crypto.randomUUID();
  const batch = createMessageBatch(queue, [{ id, timestamp: new Date(), attempts: 1, body: { kind: "item.sync", itemId, reason: "registered" } }]);
  const retryDelays: Array<number | undefined> = [];
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options?: QueueRetryOptions) => {
      retryDelays.push(options?.delaySeconds);
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return { id, result: await getQueueResult(batch, ctx), retryDelays };
}

describe("item.sync queue handler", () => {
  it("syncs the item and acks", async () => {
    const userId = uniqueUser("queue");
    const { item } = await sim.createItem({ clientUserId: userId, accounts: 2, transactionsPerAccount: 25 });
    const { id, result } = await deliver(item.id);
    expect(result.explicitAcks).toEqual([id]);
    expect(result.retryMessages).toEqual([]);
    await expectLocalMatchesSimulator(item.id, userId);
  });

  it("retries a 429 no sooner than Pluggy's RateLimit-Reset", async () => {
    const userId = uniqueUser("queue");
    const { item } = await sim.createItem({ clientUserId: userId, accounts: 1, transactionsPerAccount: 2 });
    const faultId = await sim.fault({ path: exactPath(`/items/${item.id}`), method: "GET", status: 429, rateLimitReset: 120 });
    try {
      const { id, result, retryDelays } = await deliver(item.id);
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryMessages.map((m) => m.msgId)).toEqual([id]);
      expect(retryDelays[0]).toBeGreaterThanOrEqual(120);
    } finally {
      await sim.clearFault(faultId);
    }
    expect(await localItem(userId, item.id)).toBeUndefined();
    expect(await directoryEntry(item.id)).toBeUndefined();
  });

  it("retries when Pluggy keeps answering 503", async () => {
    const { item } = await sim.createItem({ clientUserId: uniqueUser("queue"), accounts: 1, transactionsPerAccount: 2 });
    // More failures than the client's in-request read attempts, so the failure reaches the handler.
    const faultId = await sim.fault({ path: exactPath(`/items/${item.id}`), method: "GET", status: 503, times: 10 });
    try {
      const { id, result, retryDelays } = await deliver(item.id);
      expect(result.retryMessages.map((m) => m.msgId)).toEqual([id]);
      expect(retryDelays[0]).toBeGreaterThanOrEqual(1);
    } finally {
      await sim.clearFault(faultId);
    }
  });

  it("acks when the item is gone (404): retrying cannot help", async () => {
    const { item } = await sim.createItem({ clientUserId: uniqueUser("queue"), accounts: 1, transactionsPerAccount: 2 });
    await sim.deleteItem(item.id);
    const { id, result } = await deliver(item.id);
    expect(result.explicitAcks).toEqual([id]);
    expect(result.retryMessages).toEqual([]);
  });

  it("acks a permanent Pluggy refusal (403) after logging it", async () => {
    const { item } = await sim.createItem({ clientUserId: uniqueUser("queue"), accounts: 1, transactionsPerAccount: 2 });
    const faultId = await sim.fault({ path: `^/accounts\\?.*itemId=${item.id}`, method: "GET", status: 403, codeDescription: "FORBIDDEN" });
    try {
      const { id, result } = await deliver(item.id);
      expect(result.explicitAcks).toEqual([id]);
      expect(result.retryMessages).toEqual([]);
    } finally {
      await sim.clearFault(faultId);
    }
  });

  it("on the dead-letter queue, logs the failure and acks", async () => {
    const { id, result } = await deliver(crypto.randomUUID(), EVENTS_DLQ);
    expect(result.explicitAcks).toEqual([id]);
    expect(result.retryMessages).toEqual([]);
  });
});
