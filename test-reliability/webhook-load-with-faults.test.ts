/**
 * Webhook intake and processing under load with faults, end to end over HTTP:
 * 2,000 deliveries — 1,700 unique valid events, 200 duplicates of them (10%: some racing their
 * original, some later), 100 with bad signatures (5%) — while the simulator fails about 10% of the
 * Pluggy calls processing makes (5xx, and 429s that outlast the client's in-request wait), throughout. Afterwards:
 * - every unique valid event is in D1 once and in R2 once, with the exact bytes sent;
 * - each was processed once (the `processed` counter moved by exactly the number of events), none
 *   failed, none dead, nothing stuck;
 * - each item's transactions in the app are exactly the simulator's;
 * - bad signatures left no row, no object and no queue work.
 * It prints its own accounting (sent, accepted, duplicates, rejected, processed, lost).
 */
import { describe, expect, it } from "vitest";
import { runLoad, type RequestSpec } from "../bench/lib/load.ts";
import { adminHeaders, app, archiveKeys, listAll, metrics, signBody, sim, sleep, stack, uid, userHeaders, webhookQueueDrained } from "./support/stack.ts";

const ITEMS = 10;
const UNIQUE = 1_700;
const DUPLICATES = 200;
const BAD = 100;
const FAULT_SHARE = 0.1;

type Delivery = { eventId: string; body: string; signature: string; kind: "valid" | "duplicate" | "bad"; ip: string };

interface SimItem {
  itemId: string;
  userId: string;
  accountIds: string[];
  createdAt: string;
}

/** Pluggy-shaped payloads for the items, a realistic mix of event kinds. */
function payloadFor(i: number, item: SimItem, transactionIds: string[], deletedIds: string[]): Record<string, unknown> {
  const base = { eventId: crypto.randomUUID(), itemId: item.itemId, clientId: stack().secrets.PLUGGY_CLIENT_ID };
  const pick = i % 20;
  if (pick === 0) return { ...base, event: "item/created", triggeredBy: "CLIENT", clientUserId: item.userId };
  if (pick === 1) return { ...base, event: "item/updated", triggeredBy: "SYNC", clientUserId: item.userId };
  if (pick <= 4) {
    return { ...base, event: "transactions/created", accountId: item.accountIds[0], transactionsCreatedAtFrom: item.createdAt, transactionsCount: 1 };
  }
  if (pick <= 6 && transactionIds.length > 0) {
    return { ...base, event: "transactions/updated", accountId: item.accountIds[0], transactionIds: transactionIds.slice((i * 3) % transactionIds.length).slice(0, 3) };
  }
  if (pick === 7 && deletedIds.length > 0) return { ...base, event: "transactions/deleted", accountId: item.accountIds[0], transactionIds: deletedIds };
  return { ...base, event: "item/login_succeeded", triggeredBy: "USER", clientUserId: item.userId };
}

describe("webhooks under load with faults", () => {
  it("keeps every valid event exactly once, processes each once, loses nothing, and leaves no trace of bad signatures", async () => {
    const simulator = sim();
    const admin = await adminHeaders();
    await webhookQueueDrained(120_000);

    // Ten users' items at the simulator, changed before the load (added, updated, deleted transactions).
    const items: SimItem[] = [];
    const deletedByItem = new Map<string, string[]>();
    const txByItem = new Map<string, string[]>();
    for (let i = 0; i < ITEMS; i++) {
      const userId = uid("rel-load-user");
      const created = await simulator.createItem({ clientUserId: userId, accounts: 2, transactionsPerAccount: 25 });
      const createdAt = (await simulator.itemState(created.item.id)).item.createdAt;
      items.push({ itemId: created.item.id, userId, accountIds: created.accounts.map((a) => a.id), createdAt });
      const ids = created.transactionIds;
      const deleted = ids.slice(0, 2);
      for (const id of deleted) {
        const res = await fetch(`${stack().simUrl}/__sim/transactions/${id}`, { method: "DELETE" });
        expect(res.status).toBe(204);
      }
      const added = await fetch(`${stack().simUrl}/__sim/items/${created.item.id}/transactions`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ count: 5 }),
      });
      expect(added.status).toBe(201);
      deletedByItem.set(created.item.id, deleted);
      txByItem.set(created.item.id, ids.slice(2));
    }

    // The deliveries: unique valid ones, duplicates (every other one right behind its original), bad signatures.
    const valid: Delivery[] = [];
    for (let i = 0; i < UNIQUE; i++) {
      const item = items[i % ITEMS] as SimItem;
      const payload = payloadFor(Math.floor(i / ITEMS), item, txByItem.get(item.itemId) ?? [], deletedByItem.get(item.itemId) ?? []);
      const body = JSON.stringify(payload);
      valid.push({ eventId: String(payload.eventId), body, signature: signBody(body), kind: "valid", ip: `127.2.${(i >> 8) & 255}.${i & 255}` });
    }
    const deliveries: Delivery[] = [...valid];
    for (let d = 0; d < DUPLICATES; d++) {
      const original = valid[(d * 7919) % UNIQUE] as Delivery;
      const copy: Delivery = { ...original, kind: "duplicate" };
      if (d % 2 === 0) deliveries.splice(deliveries.indexOf(original) + 1, 0, copy);
      else deliveries.push(copy);
    }
    const badSignatures = [
      (body: string) => signBody(body, "not-the-webhook-secret"),
      (body: string) => signBody(`${body} `),
      () => "",
      (body: string) => signBody(body).slice(0, 32),
      (body: string) => `sha256=${"0".repeat(64)}`.slice(0, body.length > 0 ? 71 : 0),
    ];
    const bad: Delivery[] = [];
    for (let b = 0; b < BAD; b++) {
      const item = items[b % ITEMS] as SimItem;
      const payload = { event: "item/updated", eventId: crypto.randomUUID(), itemId: item.itemId, clientUserId: item.userId };
      const body = JSON.stringify(payload);
      bad.push({ eventId: payload.eventId, body, signature: (badSignatures[b % badSignatures.length] as (b: string) => string)(body), kind: "bad", ip: `127.3.0.${b % 250}` });
    }
    bad.forEach((delivery, b) => deliveries.splice(Math.floor(((b + 1) * deliveries.length) / (BAD + 1)), 0, delivery));
    expect(deliveries).toHaveLength(UNIQUE + DUPLICATES + BAD);

    const before = await metrics();
    const pluggyPath = "^/(items|accounts|v2/transactions|transactions)";
    const callsBefore = (await simulator.requests({ path: pluggyPath, method: "GET" })).length;

    // Faults, spread over the whole run: single failing Pluggy calls — 503, 500, 502, and 429 with a 6 s
    // RateLimit-Reset (longer than the client waits in-request, so the queue retries those) — added as
    // processing goes, until about FAULT_SHARE of processing's calls have failed.
    let injecting = true;
    let injected = 0;
    const kinds = [{ status: 503 }, { status: 429, rateLimitReset: 6 }, { status: 500 }, { status: 429, rateLimitReset: 6 }, { status: 502 }];
    const faults = (async () => {
      let n = 0;
      while (injecting) {
        const calls = (await simulator.requests({ path: pluggyPath, method: "GET" })).length - callsBefore;
        if (injected < Math.max(20, calls * FAULT_SHARE)) {
          await simulator.fault({ path: pluggyPath, method: "GET", times: 1, ...(kinds[n++ % kinds.length] as { status: number }) });
          injected += 1;
        }
        await sleep(100);
      }
    })();

    const started = Date.now();
    const load = await runLoad({
      baseUrl: stack().appUrl,
      concurrency: 16,
      count: deliveries.length,
      maxMs: 240_000,
      keepBodies: true,
      request: (i): RequestSpec => {
        const d = deliveries[i] as Delivery;
        return {
          method: "POST",
          path: "/api/banking/pluggy/webhook/",
          headers: { "Content-Type": "application/json", "CF-Connecting-IP": d.ip, ...(d.signature ? { "X-Pluggy-Signature": d.signature } : {}) },
          body: d.body,
        };
      },
    });
    const intakeMs = Date.now() - started;
    await webhookQueueDrained(300_000);
    injecting = false;
    await faults;
    const processingMs = Date.now() - started;
    const after = await metrics();

    // Intake answers.
    const answers = load.bodies.map((text, i) => ({ d: deliveries[i] as Delivery, text, status: text ? (JSON.parse(text) as { data?: { status: string }; error?: { code: string } }) : undefined }));
    expect(load.sent).toBe(deliveries.length);
    expect(load.errors).toBe(0);
    const accepted = answers.filter((a) => a.status?.data?.status === "accepted");
    const duplicate = answers.filter((a) => a.status?.data?.status === "duplicate");
    const refused = answers.filter((a) => a.status?.error?.code === "invalid_signature");
    expect(refused.map((a) => a.d.kind)).toEqual(bad.map(() => "bad"));
    expect(accepted.every((a) => a.d.kind !== "bad")).toBe(true);
    expect(new Set(accepted.map((a) => a.d.eventId)).size).toBe(UNIQUE);
    expect(accepted.length).toBe(UNIQUE);
    expect(duplicate.length).toBe(DUPLICATES);

    // D1: each unique event once, processed once, none failed or dead.
    const rows = await listAll<{ event_id: string; status: string; attempts: number; replay_count: number; body_sha256: string }>("/api/admin/webhook-events/", admin);
    const ours = new Map(rows.filter((r) => valid.some((v) => v.eventId === r.event_id)).map((r) => [r.event_id, r]));
    expect(ours.size).toBe(UNIQUE);
    const byStatus = new Map<string, number>();
    for (const row of ours.values()) byStatus.set(row.status, (byStatus.get(row.status) ?? 0) + 1);
    const notProcessed = [...ours.values()].filter((r) => r.status !== "processed");
    expect(notProcessed.map((r) => `${r.event_id} ${r.status}`)).toEqual([]);
    expect([...ours.values()].every((r) => r.replay_count === 0)).toBe(true);
    const processedDelta = (after.webhooks["processed"] ?? 0) - (before.webhooks["processed"] ?? 0);
    expect(processedDelta).toBe(UNIQUE);
    expect((after.webhooks["dead"] ?? 0) - (before.webhooks["dead"] ?? 0)).toBe(0);
    expect((after.webhooks["failed"] ?? 0) - (before.webhooks["failed"] ?? 0)).toBe(0);
    expect((after.webhooks["duplicate"] ?? 0) - (before.webhooks["duplicate"] ?? 0)).toBe(DUPLICATES);

    // R2: each unique event's exact bytes once; nothing for bad signatures.
    const keys = archiveKeys();
    const keyCount = (eventId: string) => keys.filter((k) => k.includes(eventId)).length;
    const rawMismatches: string[] = [];
    for (let i = 0; i < valid.length; i += 8) {
      await Promise.all(
        valid.slice(i, i + 8).map(async (v) => {
          const res = await fetch(`${stack().appUrl}/api/admin/webhook-events/${v.eventId}/raw/`, { headers: admin });
          const text = await res.text();
          if (res.status !== 200 || text !== v.body) rawMismatches.push(`${v.eventId}: ${res.status}`);
        }),
      );
    }
    expect(rawMismatches).toEqual([]);
    expect(valid.filter((v) => keyCount(v.eventId) !== 1).map((v) => `${v.eventId}: ${keyCount(v.eventId)} objects`)).toEqual([]);
    expect(bad.filter((b) => keyCount(b.eventId) > 0).map((b) => b.eventId)).toEqual([]);
    for (const b of bad.slice(0, 20)) {
      expect((await app(`/api/admin/webhook-events/${b.eventId}/`, { headers: admin })).status).toBe(404);
    }
    expect(rows.filter((r) => bad.some((b) => b.eventId === r.event_id))).toEqual([]);
    expect((after.webhooks["rejected"] ?? 0) - (before.webhooks["rejected"] ?? 0)).toBeGreaterThanOrEqual(BAD);

    // Data: each item's transactions equal the simulator's.
    const mismatched: string[] = [];
    for (const item of items) {
      const expected = (await simulator.itemState(item.itemId)).transactions.map((t) => t.id).sort();
      const listed = (await listAll<{ pluggy_id: string }>(`/api/banking/transactions/?item_id=${item.itemId}`, await userHeaders(item.userId))).map((t) => t.pluggy_id).sort();
      if (JSON.stringify(listed) !== JSON.stringify(expected)) mismatched.push(`${item.itemId}: app ${listed.length}, simulator ${expected.length}`);
    }
    expect(mismatched).toEqual([]);

    // Accounting.
    const recent = (await simulator.requests({ path: pluggyPath, method: "GET" })).slice(callsBefore);
    const failedCalls = recent.filter((r) => typeof r.status === "number" && (r.status >= 500 || r.status === 429)).length;
    const lost = UNIQUE - (byStatus.get("processed") ?? 0);
    console.log(
      [
        "webhook load with faults — accounting",
        `  sent        ${deliveries.length} (unique valid ${UNIQUE}, duplicates ${DUPLICATES}, bad signatures ${BAD})`,
        `  accepted    ${accepted.length}`,
        `  duplicates  ${duplicate.length} (answered "duplicate", not processed again)`,
        `  rejected    ${refused.length} (401 invalid_signature; rows 0, R2 objects 0)`,
        `  processed   ${byStatus.get("processed") ?? 0} (counter +${processedDelta}); failed 0, dead 0`,
        `  lost        ${lost}`,
        `  Pluggy      ${failedCalls} of ${recent.length} GET calls failed (${((failedCalls / Math.max(1, recent.length)) * 100).toFixed(1)}%, ${injected} injected)`,
        `  time        intake ${(intakeMs / 1000).toFixed(1)} s, all processed after ${(processingMs / 1000).toFixed(1)} s`,
      ].join("\n"),
    );
    expect(lost).toBe(0);
  });
});
