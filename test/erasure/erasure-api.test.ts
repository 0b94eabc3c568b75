import { describe, expect, it, vi } from "vitest";
import { windowRange } from "../../src/platform/metrics.ts";
import { webhookMetrics } from "../../src/webhooks/webhook-metrics.ts";
import { authHeaders, uniqueUser } from "../helpers/auth.ts";
import { body, call } from "../helpers/http.ts";
import { sim } from "../helpers/simulator.ts";
import { eventRow, postWebhook } from "../webhooks/support.ts";
import { archivedKeys, db, erasureRequest, existsAtPluggy, footprint, ledgerFootprint, NOTHING, populatedUser, storeItem, POPULATED_FOOTPRINT } from "./support.ts";

/*
 * The erasure API end to end: request in, 202 out, the real queue consumer erases, and afterwards every
 * list the user can read is empty while another user's are not.
 */

const LISTS = ["/api/banking/transactions/", "/api/banking/accounts/", "/api/banking/items/"] as const;

async function listsOf(userId: string): Promise<number[]> {
  const headers = await authHeaders(userId);
  return Promise.all(
    LISTS.map(async (path) => {
      const response = await call(path, { headers });
      expect(response.status).toBe(200);
      return (await body<{ data: unknown[] }>(response)).data.length;
    }),
  );
}

const waitUntilDone = (userId: string) => vi.waitUntil(async () => (await erasureRequest(userId))?.status === "done", { timeout: 15_000, interval: 50 });

describe.each([
  ["DELETE /api/banking/me/", "/api/banking/me/"],
  ["DELETE /api/admin/users/{user_id}/", `/api/admin/users/${encodeURIComponent("someone@example.com")}/`],
])("%s — auth", (_name, path) => {
  it("without a token → 401", async () => {
    const response = await call(path, { method: "DELETE" });
    expect(response.status).toBe(401);
    expect((await body(response)).error.code).toBe("unauthorized");
  });

  it("with an invalid token → 401", async () => {
    const response = await call(path, { method: "DELETE", headers: { Authorization: "Bearer x.y.z" } });
    expect(response.status).toBe(401);
  });

});

it("DELETE /api/admin/users/{user_id}/ with a user (not admin) token → 403, and nothing is requested", async () => {
  const target = uniqueUser("target");
  const response = await call(`/api/admin/users/${target}/`, { method: "DELETE", headers: await authHeaders(uniqueUser()) });
  expect(response.status).toBe(403);
  expect((await body(response)).error.code).toBe("forbidden");
  expect(await erasureRequest(target)).toBeUndefined();
});

describe("DELETE /api/banking/me/", () => {
  it("answers 202 queued; afterwards every list is empty for the caller, and another user keeps everything", async () => {
    const userId = uniqueUser("erase-me");
    const otherId = uniqueUser("keep");
    const mine = await populatedUser(userId);
    const theirItems = (await populatedUser(otherId, 1)).itemIds;
    expect(await footprint(userId, mine.itemIds)).toEqual(POPULATED_FOOTPRINT);
    const theirFootprint = await footprint(otherId, theirItems);
    const theirs = await listsOf(otherId);
    const response = await call("/api/banking/me", { method: "DELETE", headers: await authHeaders(userId) });
    expect(response.status).toBe(202);
    expect(await body(response)).toEqual({ data: { status: "queued" } });
    await waitUntilDone(userId);

    expect(await listsOf(userId)).toEqual([0, 0, 0]);
    expect(await listsOf(otherId)).toEqual(theirs);
    expect(await footprint(userId, mine.itemIds)).toEqual(NOTHING);
    expect(await ledgerFootprint(userId)).toEqual({});
    expect(await footprint(otherId, theirItems)).toEqual(theirFootprint);
    const keys = await archivedKeys();
    expect(mine.keys.filter((key) => keys.has(key))).toEqual([]);
    for (const itemId of mine.itemIds) expect(await existsAtPluggy(itemId)).toBe(false);
  });

  it("repeating it is harmless: 202 again, and still nothing", async () => {
    const userId = uniqueUser("erase-me");
    await populatedUser(userId, 1);
    for (let i = 0; i < 2; i++) {
      const response = await call("/api/banking/me/", { method: "DELETE", headers: await authHeaders(userId) });
      expect(response.status).toBe(202);
      await waitUntilDone(userId);
      expect(await listsOf(userId)).toEqual([0, 0, 0]);
    }
  });
});

describe("DELETE /api/admin/users/{user_id}/", () => {
  it("erases the given user exactly like /me", async () => {
    const userId = uniqueUser("erase-admin");
    const { itemIds } = await populatedUser(userId, 1);
    const response = await call(`/api/admin/users/${encodeURIComponent(userId)}`, { method: "DELETE", headers: await authHeaders("ops-admin", { admin: true }) });
    expect(response.status).toBe(202);
    expect(await body(response)).toEqual({ data: { status: "queued" } });
    await waitUntilDone(userId);
    expect(await listsOf(userId)).toEqual([0, 0, 0]);
    expect(await footprint(userId, itemIds)).toEqual(NOTHING);
  });

  it("an unknown user id is accepted (there is nothing to erase)", async () => {
    const userId = uniqueUser("never-seen");
    const response = await call(`/api/admin/users/${userId}/`, { method: "DELETE", headers: await authHeaders("ops-admin", { admin: true }) });
    expect(response.status).toBe(202);
    await waitUntilDone(userId);
  });
});

describe("webhook metrics and erasure", () => {
  it("metrics count what happened: erasing the user deletes their webhook rows but not a single count", async () => {
    const userId = uniqueUser("erase-metrics");
    const { item } = await sim.createItem({ clientUserId: userId, accounts: 1, transactionsPerAccount: 2 });
    await storeItem(userId, item.id);
    // Through the real intake: two accepted events about the item, a duplicate, and a signed but invalid one naming it.
    const events = [
      { event: "item/updated", eventId: crypto.randomUUID(), itemId: item.id, clientUserId: userId },
      { event: "test/noop", eventId: crypto.randomUUID(), itemId: item.id },
    ];
    for (const payload of events) expect((await postWebhook(JSON.stringify(payload))).status).toBe(200);
    expect((await postWebhook(JSON.stringify(events[1]))).status).toBe(200);
    expect((await postWebhook(JSON.stringify({ event: "item/updated", itemId: item.id }))).status).toBe(400);
    for (const { eventId } of events) {
      await vi.waitUntil(async () => ["processed", "ignored"].includes((await eventRow(eventId))?.status ?? ""), { timeout: 10_000, interval: 50 });
    }
    const range = windowRange("24h");
    const metrics = () => webhookMetrics({ catalog: db }, range.from, range.to, range.granularity);
    // The duplicate is counted after its answer: wait for it.
    const before = await vi.waitFor(async () => {
      const current = await metrics();
      expect(current.totals).toMatchObject({ accepted: 2, duplicate: 1, rejected: 1, processed: 1, ignored: 1 });
      return current;
    });
    // Present first: the item's rows, the three stored deliveries (the invalid one names the item) and their bytes.
    expect(await footprint(userId, [item.id])).toEqual({
      item_directory: 1,
      webhook_events: 3,
      r2_objects: 3,
      "ledger.items": 1,
      "ledger.accounts": 1,
      "ledger.transactions": 2,
      "ledger.ledger_meta": 1,
    });

    const response = await call("/api/banking/me/", { method: "DELETE", headers: await authHeaders(userId) });
    expect(response.status).toBe(202);
    await waitUntilDone(userId);
    expect(await footprint(userId, [item.id])).toEqual(NOTHING);
    for (const { eventId } of events) expect(await eventRow(eventId)).toBeUndefined();

    expect(await metrics()).toEqual(before);
  });
});
