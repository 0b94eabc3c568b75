import { describe, expect, it, vi } from "vitest";
import { SESSION_COOKIE } from "../../src/admin/console/console-session.ts";
import type { AppBindings } from "../../src/platform/env.ts";
import { authHeaders, tokenFor, uniqueUser } from "../helpers/auth.ts";
import { body, call } from "../helpers/http.ts";
import { sim } from "../helpers/simulator.ts";
import { eventPayload, eventRow, fetchWithEnv, postWebhook, webhookRequest } from "./support.ts";

/*
 * Pluggy as it really sends webhooks, end to end through intake, the real queue consumer, the admin API
 * and the console: null for absent fields, deletions that Pluggy has to confirm, and every `ignored`
 * event saying why.
 */

const admin = () => authHeaders("ops-fidelity", { admin: true });

/** Posts a signed body and waits until the background consumer has finished with it. */
async function deliver(payload: Record<string, unknown> & { eventId: string }) {
  const response = await postWebhook(JSON.stringify(payload));
  expect(response.status).toBe(200);
  await vi.waitFor(async () => expect(["ignored", "processed", "failed", "dead"]).toContain((await eventRow(payload.eventId))?.status), { timeout: 10_000, interval: 50 });
  return eventRow(payload.eventId);
}

/** A console page as a signed-in operator sees it (optionally with some configuration replaced). */
async function consolePage(path: string, overrides: Partial<AppBindings> = {}): Promise<string> {
  const token = await tokenFor("ops-fidelity", { admin: true });
  const response = await fetchWithEnv(new Request(`https://api.test${path}`, { headers: { Cookie: `${SESSION_COOKIE}=${token}` } }), overrides);
  expect(response.status).toBe(200);
  return response.text();
}

/** An item at the simulator, synced through its item/created webhook. */
async function syncedItem(transactionsPerAccount = 3) {
  const userId = uniqueUser("fidelity");
  const created = await sim.createItem({ clientUserId: userId, accounts: 1, transactionsPerAccount });
  const row = await deliver({ event: "item/created", eventId: crypto.randomUUID(), itemId: created.item.id, triggeredBy: "USER" });
  expect(row?.status).toBe("processed");
  return { userId, ...created };
}

describe("null means absent", () => {
  it("transactions/updated with accountId null is processed, not ignored", async () => {
    const { item, userId, transactionIds } = await syncedItem();
    const [id] = transactionIds;
    if (!id) throw new Error("fixture");
    await sim.updateTransaction(id, { description: "Corrigida (accountId null)" });
    const payload = { event: "transactions/updated", eventId: crypto.randomUUID(), id: item.id, itemId: item.id, accountId: null, clientId: null, transactionIds: [id] };
    expect(await deliver(payload)).toMatchObject({ status: "processed", lastError: null });
    const list = await body(await call(`/api/banking/transactions/?search=${encodeURIComponent("corrigida")}`, { headers: await authHeaders(userId) }));
    expect(list.data.map((t: { description: string }) => t.description)).toContain("Corrigida (accountId null)");
  });
});

describe("every ignored event says why: admin API and console", () => {
  it("an event kind we do not act on", async () => {
    const payload = { event: "payment_intent/created", eventId: crypto.randomUUID(), paymentIntentId: "pi-1", paymentRequestId: "pr-1" };
    expect(await deliver(payload)).toMatchObject({ status: "ignored" });
    const detail = await body(await call(`/api/admin/webhook-events/${payload.eventId}/`, { headers: await admin() }));
    expect(detail.data).toMatchObject({ status: "ignored", last_error: 'event kind "payment_intent/created" is not one we act on' });
    const page = await consolePage(`/admin/webhook-events/${payload.eventId}`);
    expect(page).toContain("<dt>Why ignored</dt>");
    expect(page).toContain("event kind &quot;payment_intent/created&quot; is not one we act on");
  });

  it("a forged or replayed item/deleted of a live item changes nothing and says why", async () => {
    const { item, userId } = await syncedItem(4);
    const payload = { event: "item/deleted", eventId: crypto.randomUUID(), id: item.id, itemId: item.id };
    const row = await deliver(payload);
    expect(row).toMatchObject({ status: "ignored", lastError: `deletion not confirmed: GET /items/{id} still answers the item (status ${item.status}); nothing was removed` });
    const items = await body(await call("/api/banking/items/", { headers: await authHeaders(userId) }));
    expect(items.data.map((i: { id: string }) => i.id)).toContain(item.id);
    expect(await consolePage(`/admin/webhook-events/${payload.eventId}`)).toContain("deletion not confirmed");
  });

  it("a forged transactions/deleted of live transactions changes nothing and says why", async () => {
    const { item, userId, transactionIds } = await syncedItem(4);
    const payload = { event: "transactions/deleted", eventId: crypto.randomUUID(), itemId: item.id, accountId: null, transactionIds: transactionIds.slice(0, 2) };
    expect(await deliver(payload)).toMatchObject({
      status: "ignored",
      lastError: "deletion not confirmed: Pluggy still lists all 2 of the listed transactions held here; nothing was removed",
    });
    const list = await body(await call(`/api/banking/transactions/?item_id=${item.id}&limit=50`, { headers: await authHeaders(userId) }));
    expect(list.data).toHaveLength(4);
  });
});

describe("signature rollout: unsigned deliveries are visible", () => {
  it("an unsigned delivery shows in the metrics API, the console overview and the event's detail (API and console)", async () => {
    const token = `tok-${crypto.randomUUID()}`;
    const headers = await admin();
    const before = await body(await call("/api/admin/metrics/?window=24h", { headers }));
    const payload = eventPayload();
    const response = await fetchWithEnv(await webhookRequest(JSON.stringify(payload), { signature: null, headers: { "X-Webhook-Token": token } }), {
      PLUGGY_WEBHOOK_AUTH_TOKEN: token,
    });
    expect(response.status).toBe(200);

    const after = await body(await call("/api/admin/metrics/?window=24h", { headers }));
    expect(after.data.webhooks.unsigned).toBe(before.data.webhooks.unsigned + 1);
    expect(after.data.series.at(-1).webhooks.unsigned).toBeGreaterThanOrEqual(1);

    const detail = await body(await call(`/api/admin/webhook-events/${payload.eventId}/`, { headers }));
    expect(detail.data.matched_key).toBe("unsigned");

    const overview = await consolePage("/admin");
    expect(overview).toContain("Webhooks unsigned (24h)");
    expect(overview).toContain(`${after.data.webhooks.unsigned} of ${after.data.webhooks.accepted}`);
    const page = await consolePage(`/admin/webhook-events/${payload.eventId}`);
    expect(page).toMatch(/<dt>Signature<\/dt>\s*<dd><span class="badge badge--warn">unsigned<\/span>/);
  });
});

describe("webhook signatures not checked: a warning in the console", () => {
  it.each(["", "  ", " , "])("PLUGGY_WEBHOOK_SECRET=%j → every console page warns", async (secret) => {
    for (const path of ["/admin", "/admin/webhook-events"]) {
      const page = await consolePage(path, { PLUGGY_WEBHOOK_SECRET: secret });
      expect(page).toContain("Webhook signatures are not checked: PLUGGY_WEBHOOK_SECRET is not configured");
    }
  });

  it("no warning when a secret is configured", async () => {
    expect(await consolePage("/admin")).not.toContain("Webhook signatures are not checked");
  });
});
