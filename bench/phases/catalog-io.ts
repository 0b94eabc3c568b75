/**
 * Catalog statements per webhook, steady state, deliveries for a known item: a user's item registered
 * through the API (`POST /api/banking/items/`) and synced; 20 warm-up deliveries processed (the
 * owner's directory entry is cached from then on); then 200 signed `item/login_succeeded` deliveries
 * (unique event ids, concurrency 8) and their processing, counted by the app's bench-mode catalog
 * wrapper (`BENCH_COUNT_CATALOG=true` in the bench's development variables, which makes every
 * `servicesFor` hand out a counting D1 binding; `GET /api/__bench/catalog-statements` answers the
 * counts). Counts are read before the deliveries and once processing has gone quiet: the simulator
 * has answered the 200 `GET /items/{id}` of the processing, and the counts stopped moving. Waiting
 * asks only the simulator and the counts route, neither of which touches the catalog.
 *
 * Valid when the 200 deliveries were answered `accepted` and each event ended `processed` no later than
 * the second reading (checked after it, through the admin API). Webhook events (received, processed)
 * still live in D1 in this step, so the write figure counts them.
 */
import { randomUUID } from "node:crypto";
import { api, bearer, expectStatus, hmacHex, NotMeasurable, pollUntil, type BenchContext } from "../lib/context.ts";
import { signingKey } from "../lib/instances.ts";
import { runLoad } from "../lib/load.ts";
import { fixed } from "../lib/report.ts";
import { SimClient } from "../lib/sim.ts";

export const CATALOG_IO_GOALS = [
  { name: "catalog-writes-per-webhook", op: "<=" as const, target: 0.05 },
  { name: "catalog-reads-per-webhook", op: "<=" as const, target: 1 },
];

const DELIVERIES = 200;
const WARMUP = 20;
const EVENT = "item/login_succeeded";
const COUNTS_PATH = "/api/__bench/catalog-statements";

type Counts = { reads: number; writes: number; batches: number };

async function counts(ctx: BenchContext): Promise<Counts> {
  const answer = await api<{ data: Counts }>(ctx.app.url, COUNTS_PATH);
  if (answer.status === 404) throw new NotMeasurable("the app has no bench-mode catalog counting (GET /api/__bench/catalog-statements answered 404)");
  expectStatus(answer, [200], "catalog statement counts");
  return answer.body.data;
}

function delivery(ctx: BenchContext, itemId: string, userId: string, i: number) {
  const eventId = randomUUID();
  const body = JSON.stringify({ event: EVENT, eventId, itemId, triggeredBy: "USER", clientUserId: userId, clientId: ctx.secrets.PLUGGY_CLIENT_ID });
  return {
    eventId,
    spec: {
      method: "POST",
      path: "/api/banking/pluggy/webhook/",
      headers: { "Content-Type": "application/json", "X-Pluggy-Signature": hmacHex(signingKey(ctx.secrets), body), "CF-Connecting-IP": `127.2.${(i >> 8) & 255}.${i & 255}` },
      body,
    },
  };
}

async function send(ctx: BenchContext, itemId: string, userId: string, count: number, offset: number): Promise<{ ids: string[]; accepted: number }> {
  const batch = Array.from({ length: count }, (_, i) => delivery(ctx, itemId, userId, offset + i));
  const load = await runLoad({ baseUrl: ctx.app.url, concurrency: 8, count, maxMs: 120_000, request: (i) => batch[i]?.spec ?? { method: "GET", path: "/healthz" } });
  return { ids: batch.map((d) => d.eventId), accepted: load.statuses.get(200) ?? 0 };
}

export async function catalogIo(ctx: BenchContext): Promise<void> {
  const phase = "catalog-io";
  await counts(ctx); // NotMeasurable first, before any setup work
  const sim = new SimClient(ctx.simulator?.url);
  const userId = `bench-catalog-user-${randomUUID().slice(0, 8)}`;
  const headers = await bearer(ctx.secrets, userId);
  const admin = await bearer(ctx.secrets, "bench-admin", true);
  await sim.config({ latencyMs: 0 });
  const created = await sim.createItem({ clientUserId: userId, accounts: 1, transactionsPerAccount: 10 });
  const itemId = created.item.id;
  const registered = await api(ctx.app.url, "/api/banking/items/", { method: "POST", headers, json: { item_id: itemId } });
  expectStatus(registered, [200, 201], "item registration");
  await pollUntil(
    async () => {
      const answer = await api<{ data: unknown[] }>(ctx.app.url, `/api/banking/transactions/?item_id=${encodeURIComponent(itemId)}&limit=20`, { headers });
      expectStatus(answer, [200], "transaction list");
      return answer.body.data.length === 10 ? true : undefined;
    },
    120_000,
    250,
    "the item synced",
  );

  const processed = async (ids: string[], notAfter?: number): Promise<number> => {
    let n = 0;
    for (const id of ids) {
      const answer = await api<{ data: { status: string; processed_at: string | null } }>(ctx.app.url, `/api/admin/webhook-events/${id}/`, { headers: admin });
      expectStatus(answer, [200, 404], "webhook event");
      const row = answer.status === 200 ? answer.body.data : undefined;
      if (row?.status === "processed" && (notAfter === undefined || (row.processed_at !== null && Date.parse(row.processed_at) <= notAfter))) n++;
    }
    return n;
  };
  const warm = await send(ctx, itemId, userId, WARMUP, 0);
  await pollUntil(async () => ((await processed(warm.ids)) === WARMUP ? true : undefined), 120_000, 250, "warm-up deliveries processed");

  const itemReads = async () => (await sim.requests({ path: `^/items/${itemId}$`, method: "GET" })).filter((r) => r.status === 200).length;
  const readsBefore = await itemReads();
  const before = await counts(ctx);
  const started = Date.now();
  const measured = await send(ctx, itemId, userId, DELIVERIES, WARMUP);
  await pollUntil(async () => ((await itemReads()) - readsBefore >= DELIVERIES ? true : undefined), 120_000, 250, "the deliveries' Pluggy reads");
  // Quiet: the counts unchanged over two readings 500 ms apart.
  let after = await counts(ctx);
  await pollUntil(
    async () => {
      await new Promise((r) => setTimeout(r, 500));
      const next = await counts(ctx);
      const quiet = next.reads === after.reads && next.writes === after.writes;
      after = next;
      return quiet ? true : undefined;
    },
    60_000,
    0,
    "catalog statements quiet",
  );
  const readAt = Date.now();
  const processedInTime = await processed(measured.ids, readAt);
  const reads = (after.reads - before.reads) / DELIVERIES;
  const writes = (after.writes - before.writes) / DELIVERIES;

  ctx.report.row(phase, "deliveries", `${measured.accepted} of ${DELIVERIES} accepted`, `${EVENT} for a registered, synced item; ${WARMUP} warm-up deliveries before; ${((readAt - started) / 1000).toFixed(1)} s until quiet`);
  ctx.report.row(phase, "catalog statements", `${after.reads - before.reads} reads, ${after.writes - before.writes} writes`, `${after.batches - before.batches} batches (each statement counted); webhook_events still in D1`);
  const validity = {
    checked: `${measured.accepted} of ${DELIVERIES} deliveries accepted; ${processedInTime} of ${DELIVERIES} events processed before the counts were read (processed_at ≤ reading)`,
    problem: measured.accepted !== DELIVERIES ? `${measured.accepted} of ${DELIVERIES} deliveries accepted` : processedInTime !== DELIVERIES ? `${processedInTime} of ${DELIVERIES} events processed before the counts were read` : undefined,
  };
  ctx.report.goal(phase, "catalog-writes-per-webhook", writes, "<=", 0.05, validity, `${fixed(writes)} writes per delivery`);
  ctx.report.goal(phase, "catalog-reads-per-webhook", reads, "<=", 1, validity, `${fixed(reads)} reads per delivery`);
}
