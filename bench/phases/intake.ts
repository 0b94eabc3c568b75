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
 *
 * Both targets' answers are checked the same way — each delivery answered 200 `accepted` with the event
 * id it carried — and either side falling short makes both ratios invalid (a MISS): a control Worker
 * answering errors fast, or an app refusing deliveries, would otherwise bend the ratio.
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
  eventId: string;
  body: string;
  headers: Record<string, string>;
}

/** One measured round: what was sent and how the target answered. */
interface Round {
  batch: Delivery[];
  result: LoadResult;
}

function deliveries(ctx: BenchContext, count: number, itemId: string, clientUserId: string): Delivery[] {
  const key = signingKey(ctx.secrets);
  return Array.from({ length: count }, (_, i) => {
    const eventId = randomUUID();
    const body = JSON.stringify({ event: INTAKE_EVENT, eventId, itemId, triggeredBy: "USER", clientUserId, clientId: ctx.secrets.PLUGGY_CLIENT_ID });
    return {
      eventId,
      body,
      headers: {
        "Content-Type": "application/json",
        "X-Pluggy-Signature": hmacHex(key, body),
        "CF-Connecting-IP": `127.1.${(i >> 8) & 3}.${i & 255}`,
      },
    };
  });
}

/**
 * How many answers of a round are not what intake must answer: 200 `{"data":{"event_id": <the id
 * sent>, "status":"accepted"}}` for each delivery (each one a new event id). Applied to the control
 * Worker and the app alike: a target that answers fast because it failed does not count.
 */
function wrongAnswers(rounds: Round[]): { wrong: number; sent: number; example: string | undefined } {
  let wrong = 0;
  let sent = 0;
  let example: string | undefined;
  for (const { batch, result } of rounds) {
    sent += result.sent;
    if (result.sent !== batch.length) wrong += batch.length - result.sent;
    for (let i = 0; i < result.sent; i++) {
      const text = result.bodies[i] ?? "";
      let ok: boolean;
      try {
        const answer = JSON.parse(text) as { data?: { event_id?: unknown; status?: unknown } };
        ok = answer.data?.event_id === batch[i]?.eventId && answer.data?.status === "accepted";
      } catch {
        ok = false;
      }
      if (!ok) {
        wrong++;
        example ??= text.slice(0, 160) || "(no answer)";
      }
    }
  }
  return { wrong, sent, example };
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

  const appRounds: Round[] = [];
  const controlRounds: Round[] = [];
  let drainMs = 0;
  let held = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const controlBatch = deliveries(ctx, PER_ROUND, itemId, clientUserId);
    controlRounds.push({ batch: controlBatch, result: await fire(ctx.control.url, "/webhook", controlBatch) });
    // Hold the app's processing of these events while intake is measured: each of its Pluggy calls waits
    // 5 s for a correct simulator answer (under the client's timeout), so processing uses next to no CPU.
    const hold = sim ? await sim.fault({ path: `^/items/${itemId}$`, method: "GET", delayMs: 5_000, times: 100_000 }) : undefined;
    const appBatch = deliveries(ctx, PER_ROUND, itemId, clientUserId);
    const result = await fire(ctx.app.url, path, appBatch);
    if (sim && hold) {
      held += (await sim.faultState(hold)).hits;
      await sim.clearFault(hold);
    }
    appRounds.push({ batch: appBatch, result });
    const waited = await drainWebhookEvents(ctx, admin, 300_000);
    drainMs += waited;
    ctx.log(`  round ${round + 1}/${ROUNDS}: control ${fixed((PER_ROUND / (controlRounds.at(-1)?.result.wallMs ?? 1)) * 1000, 0)} req/s, app ${fixed((PER_ROUND / result.wallMs) * 1000, 0)} req/s, processing drained ${(waited / 1000).toFixed(1)} s later`);
  }
  const app = appRounds.map((r) => r.result);
  const control = controlRounds.map((r) => r.result);

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
  const appWrong = wrongAnswers(appRounds);
  const controlWrong = wrongAnswers(controlRounds);
  const statusText = (m: Map<number, number>) => [...m].map(([s, n]) => `${s}×${n}`).join(" ");

  ctx.report.row(phase, "load", `${ROUNDS} rounds × ${PER_ROUND} per target`, `concurrency ${INTAKE_CONCURRENCY}; control first; app processing held during its round, drained after`);
  ctx.report.row(phase, "app throughput", `${fixed(a.rps, 0)} req/s`, `${appWrong.sent - appWrong.wrong} accepted of ${ROUNDS * PER_ROUND} (${statusText(a.statuses)})`);
  ctx.report.latency(phase, "app", a.summary);
  ctx.report.row(phase, "control throughput", `${fixed(c.rps, 0)} req/s`, `${controlWrong.sent - controlWrong.wrong} accepted of ${ROUNDS * PER_ROUND} (${statusText(c.statuses)})`);
  ctx.report.latency(phase, "control", c.summary);
  ctx.report.row(phase, "wait for processing after app rounds", `${(drainMs / 1000).toFixed(1)} s`, "not part of the figures");

  // Both sides are held to the same answer: every delivery sent, and each answered 200 accepted with its own event id.
  const expected = ROUNDS * PER_ROUND;
  const problems = [
    appWrong.wrong > 0 ? `app: ${appWrong.wrong} of ${expected} deliveries not answered "accepted" with their event id (e.g. ${appWrong.example})` : undefined,
    controlWrong.wrong > 0 ? `control: ${controlWrong.wrong} of ${expected} deliveries not answered "accepted" with their event id (e.g. ${controlWrong.example})` : undefined,
  ].filter((p): p is string => p !== undefined);
  const validity = {
    checked: `app ${expected - appWrong.wrong} and control ${expected - controlWrong.wrong} of ${expected} deliveries each answered 200 {event_id: <the id sent>, status: "accepted"}; app processing held during its rounds (${held} reads delayed at the simulator)`,
    problem: problems.length > 0 ? problems.join("; ") : undefined,
  };
  ctx.report.goal(phase, "intake-throughput", a.rps / c.rps, ">=", 0.8, validity, "app req/s ÷ control req/s");
  ctx.report.goal(phase, "intake-p99", a.summary.p99 / c.summary.p99, "<=", 1.5, validity, "app p99 ÷ control p99");
}
