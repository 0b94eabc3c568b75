/**
 * Webhook intake and processing under load with faults, end to end over HTTP, accounted from sources
 * independent of the app's own books: what the sender (this test, playing Pluggy) recorded, and what
 * Pluggy (the simulator) holds and was asked.
 *
 * Setup: ten users' items at the simulator, first synced through one signed `item/created` each (the
 * baseline: the app holds exactly the simulator's transactions). Then every `transactions/*` event of
 * the load gets a change of its own at the simulator, recorded by the sender:
 * - `transactions/created`: one new transaction, with the event's `transactionsCreatedAtFrom` = its
 *   `createdAt` (unique per account);
 * - `transactions/updated`: two transactions of its own re-described (a marker naming the event);
 * - `transactions/deleted`: two transactions of its own deleted at the simulator (rows the baseline
 *   showed in the app).
 * The load: 2,000 deliveries — 1,700 unique valid events, 200 duplicates of them (10%: some racing their
 * original, some later), 100 with bad signatures (5%) — while the simulator fails about 10% of the Pluggy
 * reads processing makes (5xx, and 429s that outlast the client's in-request wait), throughout; the faults
 * match only this test's items and accounts and carry a tag, so the simulator counts what it injected.
 *
 * Afterwards, for every accepted delivery:
 * - intake answered what the sender expects (one `accepted` per event id, `duplicate` for the rest,
 *   `invalid_signature` for bad signatures), its row has the sender's event, item and sha256, R2 holds
 *   the sender's bytes once, and it was processed once;
 * - its effect is present exactly once, as the simulator holds it — each `transactions/created`'s new row
 *   listed once with Pluggy's fields, each `transactions/updated`'s rows with Pluggy's new description,
 *   each `transactions/deleted`'s rows gone — and the simulator's request log shows that event's own read
 *   (its `createdAtFrom`, its `ids`) answered 200: a lost `transactions/*` event is caught even when an
 *   `item/*` event's sync papers over its data;
 * - the faults the simulator applied are counted there, cross-checked against its request log, and a run
 *   in which it applied none (or too few) fails.
 * Bad signatures leave no row, no object and no queue work. It prints its accounting.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { runLoad, type RequestSpec } from "../bench/lib/load.ts";
import type { SimRequestRecord } from "../bench/lib/sim.ts";
import { adminHeaders, app, archiveKeys, listAll, metrics, signBody, sim, sleep, stack, uid, userHeaders, webhookQueueDrained } from "./support/stack.ts";

const ITEMS = 10;
const UNIQUE = 1_700;
const DUPLICATES = 200;
const BAD = 100;
const FAULT_SHARE = 0.1;
/** The injector aims for at least this many faults; fewer applied means the run did not test faults. */
const MIN_FAULTS = 20;

type Kind = "valid" | "duplicate" | "bad";
type Delivery = { eventId: string; body: string; signature: string; kind: Kind; ip: string };

/** What the sender recorded about one unique event: what it sent and the change it made at Pluggy first. */
type Sent = {
  eventId: string;
  event: string;
  itemId: string;
  body: string;
  effect:
    | { kind: "created"; accountId: string; createdAtFrom: string; transactionId: string }
    | { kind: "updated"; accountId: string; transactionIds: string[]; description: string }
    | { kind: "deleted"; accountId: string; transactionIds: string[] }
    | { kind: "item" };
};

interface LoadItem {
  itemId: string;
  userId: string;
  accountIds: string[];
}

type SimTx = { id: string; accountId: string; description: string; amount: number; date: string; createdAt: string };
type AppTx = { id: string; pluggy_id: string | null; description: string; amount: string; date: string };

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

async function simJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${stack().simUrl}/__sim${path}`, {
    method,
    ...(body !== undefined ? { headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`simulator ${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

const simTransactions = async (itemId: string) => (await simJson<{ transactions: SimTx[] }>("GET", `/items/${itemId}`)).transactions;

async function appTransactions(item: LoadItem): Promise<AppTx[]> {
  return listAll<AppTx>(`/api/banking/transactions/?item_id=${item.itemId}`, await userHeaders(item.userId));
}

async function deliver(body: string, ip: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${stack().appUrl}/api/banking/pluggy/webhook/`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip, "X-Pluggy-Signature": signBody(body) },
    body,
  });
  return { status: res.status, text: await res.text() };
}

describe("webhooks under load with faults", () => {
  it("keeps every valid event exactly once, applies each one's own change exactly once, loses nothing, and leaves no trace of bad signatures", async () => {
    const simulator = sim();
    const admin = await adminHeaders();
    const clientId = stack().secrets.PLUGGY_CLIENT_ID;
    await webhookQueueDrained(120_000);

    // Ten users' items at the simulator.
    const items: LoadItem[] = [];
    for (let i = 0; i < ITEMS; i++) {
      const userId = uid("rel-load-user");
      const created = await simulator.createItem({ clientUserId: userId, accounts: 2, transactionsPerAccount: 60 });
      items.push({ itemId: created.item.id, userId, accountIds: created.accounts.map((a) => a.id) });
    }

    // Baseline: one item/created each, processed; the app then holds exactly the simulator's rows.
    for (const [n, item] of items.entries()) {
      const body = JSON.stringify({ event: "item/created", eventId: crypto.randomUUID(), itemId: item.itemId, triggeredBy: "CLIENT", clientUserId: item.userId, clientId });
      const answer = await deliver(body, `127.4.0.${n + 1}`);
      expect(answer.status, answer.text).toBe(200);
    }
    await webhookQueueDrained(120_000);
    const baseline = new Map<string, Set<string>>();
    for (const item of items) {
      const listed = (await appTransactions(item)).map((t) => t.pluggy_id ?? "").sort();
      expect(listed).toEqual((await simTransactions(item.itemId)).map((t) => t.id).sort());
      baseline.set(item.itemId, new Set(listed));
    }

    // The unique events, each with its own change at the simulator, recorded by the sender.
    const pools = new Map<string, string[]>();
    for (const item of items) pools.set(item.itemId, (await simTransactions(item.itemId)).filter((t) => t.accountId === item.accountIds[0]).map((t) => t.id));
    const take = (itemId: string, n: number): string[] => {
      const pool = pools.get(itemId) ?? [];
      if (pool.length < n) throw new Error(`fixture: item ${itemId} has no transactions left for its events`);
      return pool.splice(0, n);
    };
    const lastCreatedAt = new Map<string, string>();
    const sent: Sent[] = [];
    for (let i = 0; i < UNIQUE; i++) {
      const item = items[i % ITEMS] as LoadItem;
      const pick = Math.floor(i / ITEMS) % 20;
      const eventId = crypto.randomUUID();
      const base = { eventId, itemId: item.itemId, clientId };
      let payload: Record<string, unknown>;
      let effect: Sent["effect"];
      if (pick <= 1) {
        const event = pick === 0 ? "item/created" : "item/updated";
        payload = { ...base, event, triggeredBy: pick === 0 ? "CLIENT" : "SYNC", clientUserId: item.userId };
        effect = { kind: "item" };
      } else if (pick <= 4) {
        // A new transaction whose createdAt no other event of this account shares.
        const accountId = item.accountIds[Math.floor(i / ITEMS) % 2] as string;
        let added: SimTx | undefined;
        for (;;) {
          await sleep(2);
          [added] = (await simJson<{ transactions: SimTx[] }>("POST", `/items/${item.itemId}/transactions`, { accountId, count: 1 })).transactions;
          if (!added || added.createdAt !== lastCreatedAt.get(accountId)) break;
          await simJson("DELETE", `/transactions/${added.id}`); // the same millisecond as the last one: again
        }
        if (!added) throw new Error("fixture: the simulator added no transaction");
        lastCreatedAt.set(accountId, added.createdAt);
        payload = { ...base, event: "transactions/created", accountId, transactionsCreatedAtFrom: added.createdAt, transactionsCount: 1 };
        effect = { kind: "created", accountId, createdAtFrom: added.createdAt, transactionId: added.id };
      } else if (pick <= 6) {
        const accountId = item.accountIds[0] as string;
        const transactionIds = take(item.itemId, 2);
        const description = `UPDATED BY ${eventId}`;
        for (const id of transactionIds) await simJson("PATCH", `/transactions/${id}`, { description });
        payload = { ...base, event: "transactions/updated", accountId, transactionIds };
        effect = { kind: "updated", accountId, transactionIds, description };
      } else if (pick === 7) {
        const accountId = item.accountIds[0] as string;
        const transactionIds = take(item.itemId, 2);
        for (const id of transactionIds) await simJson("DELETE", `/transactions/${id}`);
        payload = { ...base, event: "transactions/deleted", accountId, transactionIds };
        effect = { kind: "deleted", accountId, transactionIds };
      } else {
        payload = { ...base, event: "item/login_succeeded", triggeredBy: "USER", clientUserId: item.userId };
        effect = { kind: "item" };
      }
      sent.push({ eventId, event: String(payload.event), itemId: item.itemId, body: JSON.stringify(payload), effect });
    }
    const sentById = new Map(sent.map((s) => [s.eventId, s]));

    // The deliveries: unique valid ones, duplicates (every other one right behind its original), bad signatures.
    const valid: Delivery[] = sent.map((s, i) => ({ eventId: s.eventId, body: s.body, signature: signBody(s.body), kind: "valid", ip: `127.2.${(i >> 8) & 255}.${i & 255}` }));
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
      const item = items[b % ITEMS] as LoadItem;
      const payload = { event: "item/updated", eventId: crypto.randomUUID(), itemId: item.itemId, clientUserId: item.userId };
      const body = JSON.stringify(payload);
      bad.push({ eventId: payload.eventId, body, signature: (badSignatures[b % badSignatures.length] as (b: string) => string)(body), kind: "bad", ip: `127.3.0.${b % 250}` });
    }
    bad.forEach((delivery, b) => deliveries.splice(Math.floor(((b + 1) * deliveries.length) / (BAD + 1)), 0, delivery));
    expect(deliveries).toHaveLength(UNIQUE + DUPLICATES + BAD);

    const before = await metrics();
    // Only this test's Pluggy reads: its items, their accounts, their transactions.
    const itemIds = items.map((i) => i.itemId).join("|");
    const accountIds = items.flatMap((i) => i.accountIds).join("|");
    const ourReads = `^/(items/(${itemIds})$|accounts\\?(.*&)?itemId=(${itemIds})(&|$)|v2/transactions\\?(.*&)?accountId=(${accountIds})(&|$))`;
    const callsBefore = (await simulator.requests({ path: ourReads, method: "GET" })).length;
    const loadStartedAt = new Date().toISOString();

    // Faults, spread over the whole run: single failing Pluggy reads — 503, 500, 502, and 429 with a 6 s
    // RateLimit-Reset (longer than the client waits in-request, so the queue retries those) — added as
    // processing goes, until about FAULT_SHARE of processing's reads have failed. Tagged, so the simulator
    // counts each one it applied.
    const tag = uid("rel-load-faults");
    let injecting = true;
    let injected = 0;
    const kinds = [{ status: 503 }, { status: 429, rateLimitReset: 6 }, { status: 500 }, { status: 429, rateLimitReset: 6 }, { status: 502 }];
    const faults = (async () => {
      let n = 0;
      while (injecting) {
        const calls = (await simulator.requests({ path: ourReads, method: "GET" })).length - callsBefore;
        if (injected < Math.max(MIN_FAULTS, calls * FAULT_SHARE)) {
          await simulator.fault({ path: ourReads, method: "GET", times: 1, tag, ...(kinds[n++ % kinds.length] as { status: number }) });
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
    const applied = await simulator.faults(tag);
    for (const fault of applied.data.filter((f) => f.active)) await simulator.clearFault(fault.id);

    // Intake answers, against what the sender sent: one `accepted` per event id, `duplicate` for every
    // other delivery of it, `invalid_signature` for every bad signature.
    expect(load.sent).toBe(deliveries.length);
    expect(load.errors).toBe(0);
    const answers = load.bodies.map((text, i) => ({ d: deliveries[i] as Delivery, answer: text ? (JSON.parse(text) as { data?: { status: string; event_id: string }; error?: { code: string } }) : undefined }));
    const perEvent = new Map<string, string[]>();
    const wrongAnswers: string[] = [];
    for (const { d, answer } of answers) {
      if (d.kind === "bad") {
        if (answer?.error?.code !== "invalid_signature") wrongAnswers.push(`bad ${d.eventId}: ${JSON.stringify(answer)}`);
        continue;
      }
      if (answer?.data?.event_id !== d.eventId) wrongAnswers.push(`${d.kind} ${d.eventId}: ${JSON.stringify(answer)}`);
      perEvent.set(d.eventId, [...(perEvent.get(d.eventId) ?? []), answer?.data?.status ?? "?"]);
    }
    expect(wrongAnswers).toEqual([]);
    expect(perEvent.size).toBe(UNIQUE);
    const notOnce = [...perEvent].filter(([, statuses]) => statuses.filter((s) => s === "accepted").length !== 1 || statuses.some((s) => s !== "accepted" && s !== "duplicate"));
    expect(notOnce.map(([id, statuses]) => `${id}: ${statuses.join(",")}`)).toEqual([]);
    const accepted = answers.filter((a) => a.answer?.data?.status === "accepted").length;
    const duplicate = answers.filter((a) => a.answer?.data?.status === "duplicate").length;
    expect(accepted).toBe(UNIQUE);
    expect(duplicate).toBe(DUPLICATES);

    // D1: each accepted event's row carries what the sender sent (event, item, sha256 of its bytes),
    // processed once; none failed, dead or replayed.
    const rows = await listAll<{ event_id: string; event: string; item_id: string | null; status: string; replay_count: number; body_sha256: string }>("/api/admin/webhook-events/", admin);
    const ours = new Map(rows.filter((r) => sentById.has(r.event_id)).map((r) => [r.event_id, r]));
    expect(ours.size).toBe(UNIQUE);
    const rowMismatches = sent
      .map((s) => ({ s, row: ours.get(s.eventId) }))
      .filter(({ s, row }) => !row || row.event !== s.event || row.item_id !== s.itemId || row.body_sha256 !== sha256(s.body) || row.status !== "processed" || row.replay_count !== 0)
      .map(({ s, row }) => `${s.eventId} ${s.event}: ${JSON.stringify(row)}`);
    expect(rowMismatches).toEqual([]);
    const processedDelta = (after.webhooks["processed"] ?? 0) - (before.webhooks["processed"] ?? 0);
    expect(processedDelta).toBe(UNIQUE);
    expect((after.webhooks["dead"] ?? 0) - (before.webhooks["dead"] ?? 0)).toBe(0);
    expect((after.webhooks["failed"] ?? 0) - (before.webhooks["failed"] ?? 0)).toBe(0);
    expect((after.webhooks["duplicate"] ?? 0) - (before.webhooks["duplicate"] ?? 0)).toBe(DUPLICATES);

    // R2: each unique event's exact bytes once; nothing for bad signatures.
    const keys = archiveKeys();
    const keyCount = (eventId: string) => keys.filter((k) => k.includes(eventId)).length;
    const rawMismatches: string[] = [];
    for (let i = 0; i < sent.length; i += 8) {
      await Promise.all(
        sent.slice(i, i + 8).map(async (s) => {
          const res = await fetch(`${stack().appUrl}/api/admin/webhook-events/${s.eventId}/raw/`, { headers: admin });
          const text = await res.text();
          if (res.status !== 200 || text !== s.body) rawMismatches.push(`${s.eventId}: ${res.status}`);
        }),
      );
    }
    expect(rawMismatches).toEqual([]);
    expect(sent.filter((s) => keyCount(s.eventId) !== 1).map((s) => `${s.eventId}: ${keyCount(s.eventId)} objects`)).toEqual([]);
    expect(bad.filter((b) => keyCount(b.eventId) > 0).map((b) => b.eventId)).toEqual([]);
    for (const b of bad.slice(0, 20)) {
      expect((await app(`/api/admin/webhook-events/${b.eventId}/`, { headers: admin })).status).toBe(404);
    }
    expect(rows.filter((r) => bad.some((b) => b.eventId === r.event_id))).toEqual([]);
    expect((after.webhooks["rejected"] ?? 0) - (before.webhooks["rejected"] ?? 0)).toBeGreaterThanOrEqual(BAD);

    // Effects, event by event, against the simulator: what it holds, and the read each event made of it.
    const log = (await simulator.requests({ path: "^/v2/transactions", method: "GET" })).filter((r) => r.status === 200);
    const readWith = (accountId: string, match: (query: Record<string, string>) => boolean) =>
      log.some((r: SimRequestRecord) => r.query?.["accountId"] === accountId && match(r.query ?? {}));
    const simRows = new Map<string, Map<string, SimTx>>();
    const appRows = new Map<string, AppTx[]>();
    for (const item of items) {
      simRows.set(item.itemId, new Map((await simTransactions(item.itemId)).map((t) => [t.id, t])));
      appRows.set(item.itemId, await appTransactions(item));
    }
    const lost: string[] = [];
    const wrongEffect: string[] = [];
    for (const s of sent) {
      const atPluggy = simRows.get(s.itemId) ?? new Map<string, SimTx>();
      const listed = appRows.get(s.itemId) ?? [];
      const inApp = (pluggyId: string) => listed.filter((t) => t.pluggy_id === pluggyId);
      const { effect } = s;
      if (effect.kind === "created") {
        if (!readWith(effect.accountId, (q) => q["createdAtFrom"] === effect.createdAtFrom)) lost.push(`${s.event} ${s.eventId}: no read from its createdAtFrom ${effect.createdAtFrom}`);
        const pluggy = atPluggy.get(effect.transactionId);
        const rowsForIt = inApp(effect.transactionId);
        if (!pluggy || rowsForIt.length !== 1 || rowsForIt[0]?.description !== pluggy.description || Number(rowsForIt[0]?.amount) !== Number(pluggy.amount.toFixed(2))) {
          wrongEffect.push(`${s.event} ${s.eventId}: ${effect.transactionId} at Pluggy ${JSON.stringify(pluggy ?? null)}, in the app ${JSON.stringify(rowsForIt)}`);
        }
      } else if (effect.kind === "updated") {
        if (!readWith(effect.accountId, (q) => q["ids"] === effect.transactionIds.join(","))) lost.push(`${s.event} ${s.eventId}: no read of its ids`);
        for (const id of effect.transactionIds) {
          const rowsForIt = inApp(id);
          if (atPluggy.get(id)?.description !== effect.description || rowsForIt.length !== 1 || rowsForIt[0]?.description !== effect.description) {
            wrongEffect.push(`${s.event} ${s.eventId}: ${id} in the app ${JSON.stringify(rowsForIt)}`);
          }
        }
      } else if (effect.kind === "deleted") {
        for (const id of effect.transactionIds) {
          // Present before (the baseline), gone at Pluggy, gone here: nothing but this event removes a row.
          if (!baseline.get(s.itemId)?.has(id) || atPluggy.has(id) || inApp(id).length !== 0) lost.push(`${s.event} ${s.eventId}: ${id} still listed (${inApp(id).length})`);
        }
      }
    }
    expect(lost).toEqual([]);
    expect(wrongEffect).toEqual([]);

    // And each item as a whole: exactly the simulator's rows, each once, and its status.
    const mismatched: string[] = [];
    for (const item of items) {
      const expected = [...(simRows.get(item.itemId)?.keys() ?? [])].sort();
      const listed = (appRows.get(item.itemId) ?? []).map((t) => t.pluggy_id ?? "").sort();
      if (JSON.stringify(listed) !== JSON.stringify(expected)) mismatched.push(`${item.itemId}: app ${listed.length}, simulator ${expected.length}`);
      const pluggyItem = (await simJson<{ item: { status: string } }>("GET", `/items/${item.itemId}`)).item;
      const appItem = (await listAll<{ id: string; status: string }>("/api/banking/items/", await userHeaders(item.userId))).find((i) => i.id === item.itemId);
      if (appItem?.status !== pluggyItem.status) mismatched.push(`${item.itemId}: status app ${appItem?.status}, simulator ${pluggyItem.status}`);
    }
    expect(mismatched).toEqual([]);

    // Faults, as the simulator counted them: enough applied, each one in its request log, answered with the fault's status.
    const scoped = (await simulator.requests({ path: ourReads, method: "GET" })).filter((r) => (r.at ?? "") >= loadStartedAt);
    const statusOf = new Map(applied.data.map((f) => [f.id, f.status]));
    const faulted = scoped.filter((r) => r.fault !== undefined && statusOf.has(r.fault));
    expect(faulted.length).toBe(applied.hits); // every fault applied met one of this test's own reads
    expect(faulted.filter((r) => r.status !== statusOf.get(r.fault ?? "")).map((r) => `${r.path} ${r.status}`)).toEqual([]);
    expect(applied.hits).toBeGreaterThanOrEqual(MIN_FAULTS);
    expect(applied.hits).toBeGreaterThanOrEqual(Math.floor(scoped.length * FAULT_SHARE * 0.5));

    // Accounting.
    const byEvent = new Map<string, number>();
    for (const s of sent) byEvent.set(s.event, (byEvent.get(s.event) ?? 0) + 1);
    console.log(
      [
        "webhook load with faults — accounting (sender's log and the simulator, not the app's counters)",
        `  sent        ${deliveries.length} (unique valid ${UNIQUE}, duplicates ${DUPLICATES}, bad signatures ${BAD})`,
        `  events      ${[...byEvent].map(([event, n]) => `${event} ${n}`).join(", ")}`,
        `  accepted    ${accepted}, each event id once (sender's bytes, sha256, event and item on its row)`,
        `  duplicates  ${duplicate} (answered "duplicate", not processed again)`,
        `  rejected    ${bad.length} (401 invalid_signature; rows 0, R2 objects 0)`,
        `  processed   ${ours.size} (counter +${processedDelta}); failed 0, dead 0`,
        `  effects     each transactions/* event's own change present once, and its own read answered 200`,
        `  lost        ${lost.length}`,
        `  Pluggy      ${applied.hits} faults applied (simulator's count, ${faulted.length} in its request log) of ${scoped.length} reads (${((applied.hits / Math.max(1, scoped.length)) * 100).toFixed(1)}%); ${injected} injected`,
        `  time        intake ${(intakeMs / 1000).toFixed(1)} s, all processed after ${(processingMs / 1000).toFixed(1)} s`,
      ].join("\n"),
    );
  });
});
