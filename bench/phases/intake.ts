/**
 * Webhook intake: signed deliveries with unique event ids against the app's
 * `POST /api/banking/pluggy/webhook/`, and the same bodies against the control Worker's `POST /webhook`
 * (only the three storage writes). Same load generator, concurrency and counts; rounds alternate
 * control → app. The app's processing of its events is held while its round is measured (see below)
 * and drained, unmeasured, before the next control round, so neither side carries the app's
 * processing: in production consumers run in their own invocations, not on the intake's CPU.
 *
 * Each delivery carries its own `CF-Connecting-IP` (127.1.x.y): intake rate-limits per source address
 * (600/min), and this measures capacity, not the per-sender limit.
 */
import { randomUUID } from "node:crypto";
import { api, bearer, expectStatus, hmacHex, pollUntil, type BenchContext } from "../lib/context.ts";
import { signingKey } from "../lib/instances.ts";
import { runLoad, type LoadResult } from "../lib/load.ts";
import { fixed, summarize } from "../lib/report.ts";
import { SimClient } from "../lib/sim.ts";

export const INTAKE_GOALS = [
  { name: "intake-throughput", op: ">=" as const, target: 0.8 },
  { name: "intake-p99", op: "<=" as const, target: 1.5 },
];

export const INTAKE_CONCURRENCY = 16;
const ROUNDS = Number(process.env.BENCH_INTAKE_ROUNDS ?? 4);
const PER_ROUND = Number(process.env.BENCH_INTAKE_PER_ROUND ?? 500);
const WARMUP = 300;
export const INTAKE_EVENT = "item/login_succeeded";

interface Delivery {
  body: string;
  headers: Record<string, string>;
}

function deliveries(ctx: BenchContext, count: number, itemId: string, clientUserId: string): Delivery[] {
  const key = signingKey(ctx.secrets);
  return Array.from({ length: count }, (_, i) => {
    const body = JSON.stringify({ event: INTAKE_EVENT, eventId: randomUUID(), itemId, triggeredBy: "USER", clientUserId, clientId: ctx.secrets.PLUGGY_CLIENT_ID });
    return {
      body,
      headers: {
        "Content-Type": "application/json",
        "X-Pluggy-Signature": hmacHex(key, body),
        "CF-Connecting-IP": `127.1.${(i >> 8) & 3}.${i & 255}`,
      },
    };
  });
}

function fire(base: string, path: string, batch: Delivery[]): Promise<LoadResult> {
  return runLoad({
    baseUrl: base,
    concurrency: INTAKE_CONCURRENCY,
    count: batch.length,
    maxMs: 300_000,
    keepBodies: true,
    request: (i) => ({ method: "POST", path, headers: batch[i]?.headers ?? {}, body: batch[i]?.body ?? "" }),
  });
}

/** Waits until no webhook event is `received` or `processing` (the app's queue has drained). */
export async function drainWebhookEvents(ctx: BenchContext, admin: Record<string, string>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  await pollUntil(
    async () => {
      for (const status of ["received", "processing"]) {
        const answer = await api<{ data: unknown[] }>(ctx.app.url, `/api/admin/webhook-events/?status=${status}&limit=1`, { headers: admin });
        expectStatus(answer, [200], "admin webhook-events list");
        if (answer.body.data.length > 0) return undefined;
      }
      return true;
    },
    timeoutMs,
    250,
    "webhook events drained",
  );
  return Date.now() - started;
}

export async function intake(ctx: BenchContext): Promise<void> {
  const phase = "intake";
  const admin = await bearer(ctx.secrets, "bench-admin", true);
  const path = "/api/banking/pluggy/webhook/";
  const clientUserId = "bench-intake-user";

  // Events about a real (simulated) item, so processing does what it does for real: GET /items/{id}, upsert.
  let itemId = `bench-intake-item-${randomUUID()}`;
  let warmItemId = `bench-warmup-item-${randomUUID()}`;
  const sim = ctx.simulator ? new SimClient(ctx.simulator.url) : undefined;
  if (sim) {
    itemId = (await sim.createItem({ clientUserId, accounts: 1, transactionsPerAccount: 0 })).item.id;
    warmItemId = (await sim.createItem({ clientUserId, accounts: 1, transactionsPerAccount: 0 })).item.id;
  }

  const probe = deliveries(ctx, 1, warmItemId, clientUserId)[0];
  if (probe) expectStatus(await api(ctx.app.url, path, { method: "POST", headers: probe.headers, json: JSON.parse(probe.body) as unknown }), [200, 401], "webhook intake");

  ctx.log(`  warm-up: ${WARMUP} deliveries to each`);
  await fire(ctx.control.url, "/webhook", deliveries(ctx, WARMUP, warmItemId, clientUserId));
  const warm = await fire(ctx.app.url, path, deliveries(ctx, WARMUP, warmItemId, clientUserId));
  if ((warm.statuses.get(200) ?? 0) !== WARMUP) throw new Error(`warm-up: ${JSON.stringify([...warm.statuses])} (expected ${WARMUP} × 200)`);
  ctx.log(`  warm-up processed after ${((await drainWebhookEvents(ctx, admin, 180_000)) / 1000).toFixed(1)} s`);

  const app: LoadResult[] = [];
  const control: LoadResult[] = [];
  let drainMs = 0;
  for (let round = 0; round < ROUNDS; round++) {
    control.push(await fire(ctx.control.url, "/webhook", deliveries(ctx, PER_ROUND, itemId, clientUserId)));
    // Hold the app's processing of these events while intake is measured: each of its Pluggy calls waits
    // 5 s for a correct simulator answer (under the client's timeout), so processing uses next to no CPU.
    const hold = sim ? await sim.fault({ path: `^/items/${itemId}$`, method: "GET", delayMs: 5_000, times: 100_000 }) : undefined;
    const result = await fire(ctx.app.url, path, deliveries(ctx, PER_ROUND, itemId, clientUserId));
    if (sim && hold) await sim.clearFault(hold);
    app.push(result);
    const waited = await drainWebhookEvents(ctx, admin, 300_000);
    drainMs += waited;
    ctx.log(`  round ${round + 1}/${ROUNDS}: control ${fixed((PER_ROUND / (control.at(-1)?.wallMs ?? 1)) * 1000, 0)} req/s, app ${fixed((PER_ROUND / result.wallMs) * 1000, 0)} req/s, processing drained ${(waited / 1000).toFixed(1)} s later`);
  }

  const total = (results: LoadResult[]) => {
    const latencies = results.flatMap((r) => r.latencies);
    const ok = results.reduce((sum, r) => sum + (r.statuses.get(200) ?? 0), 0);
    const sent = results.reduce((sum, r) => sum + r.sent, 0);
    const wallMs = results.reduce((sum, r) => sum + r.wallMs, 0);
    const statuses = new Map<number, number>();
    for (const r of results) for (const [s, n] of r.statuses) statuses.set(s, (statuses.get(s) ?? 0) + n);
    return { latencies, ok, sent, wallMs, rps: (ok / wallMs) * 1000, summary: summarize(latencies), statuses };
  };
  const a = total(app);
  const c = total(control);
  const accepted = app.flatMap((r) => r.bodies).filter((b) => b.includes('"accepted"')).length;
  const statusText = (m: Map<number, number>) => [...m].map(([s, n]) => `${s}×${n}`).join(" ");

  ctx.report.row(phase, "load", `${ROUNDS} rounds × ${PER_ROUND} per target`, `concurrency ${INTAKE_CONCURRENCY}; control first; app processing held during its round, drained after`);
  ctx.report.row(phase, "app throughput", `${fixed(a.rps, 0)} req/s`, `${accepted} accepted of ${a.sent} (${statusText(a.statuses)})`);
  ctx.report.latency(phase, "app", a.summary);
  ctx.report.row(phase, "control throughput", `${fixed(c.rps, 0)} req/s`, `${c.ok} of ${c.sent} (${statusText(c.statuses)})`);
  ctx.report.latency(phase, "control", c.summary);
  ctx.report.row(phase, "wait for processing after app rounds", `${(drainMs / 1000).toFixed(1)} s`, "not part of the figures");
  if (accepted !== a.sent) throw new Error(`only ${accepted} of ${a.sent} deliveries were accepted`);
  ctx.report.goal("intake-throughput", a.rps / c.rps, ">=", 0.8, "app req/s ÷ control req/s");
  ctx.report.goal("intake-p99", a.summary.p99 / c.summary.p99, "<=", 1.5, "app p99 ÷ control p99");
}
