/**
 * Replay: 10,000 archived webhook events (exact bytes in R2, `processed` rows in D1, as intake and
 * processing leave them) replayed through the bulk endpoint (`POST /api/admin/webhook-events/replay/`,
 * 1,000 per call, following `next_cursor`), timed until every one is processed again — not just
 * queued. Each event is an `item/login_succeeded` about a simulated item, so processing does its real
 * work (R2 read and sha256 check, `GET /items/{id}`, item upsert, status update).
 *
 * The archive is written before the app starts (see `seedReplayArchive`), so the phase does not pay
 * for 10,000 deliveries and first processings. Bounded: after MAX_WAIT_MS the rate so far is reported.
 */
import { api, bearer, expectStatus, NotMeasurable, type BenchContext } from "../lib/context.ts";
import { startControl, type Instance, type Secrets } from "../lib/instances.ts";
import { fixed } from "../lib/report.ts";
import { SimClient } from "../lib/sim.ts";

export const REPLAY_GOALS = [{ name: "replay-events-per-second", op: ">=" as const, target: 200 }];

const CORPUS = Number(process.env.BENCH_REPLAY_EVENTS ?? 10_000);
const PER_CALL = 1_000;
const MAX_WAIT_MS = Number(process.env.BENCH_REPLAY_MAX_WAIT_MS ?? 75_000);
const EVENT = "item/login_succeeded";

/**
 * Writes the archive through the control Worker started on the app's own state directory (same D1
 * database id, the app's bucket name), then stops it. The Worker runtime writes R2 and D1 exactly as
 * the app would; only the HTTP deliveries are skipped.
 */
export async function seedReplayArchive(options: { stateRoot: string; appPersist: string; port: number; simulator: Instance | undefined; secrets: Secrets }): Promise<{ itemId: string; count: number }> {
  const clientUserId = "bench-replay-user";
  const itemId = options.simulator
    ? (await new SimClient(options.simulator.url).createItem({ clientUserId, accounts: 1, transactionsPerAccount: 0 })).item.id
    : `bench-replay-item-${crypto.randomUUID()}`;
  const seeder = await startControl(options.stateRoot, options.port, options.appPersist, "archive-seeder");
  try {
    const receivedFrom = Date.now() - 2 * 3_600_000;
    for (let offset = 0; offset < CORPUS; offset += 2_000) {
      const count = Math.min(2_000, CORPUS - offset);
      const answer = await api(seeder.url, "/bench/seed-archive", {
        json: { count, event: EVENT, itemId, clientUserId, clientId: options.secrets.PLUGGY_CLIENT_ID, receivedFrom: new Date(receivedFrom + offset).toISOString() },
        timeoutMs: 300_000,
      });
      expectStatus(answer, [200], "seeding the replay archive");
    }
  } finally {
    await seeder.stop();
  }
  return { itemId, count: CORPUS };
}

type EventRow = { event_id: string; status: string; replay_count: number; processed_at: string | null };

export async function replay(ctx: BenchContext): Promise<void> {
  const corpus = ctx.shared.replayCorpus;
  if (!corpus) throw new NotMeasurable("no replay archive was seeded");
  const phase = "replay";
  const admin = await bearer(ctx.secrets, "bench-admin", true);
  const replayPath = "/api/admin/webhook-events/replay/";

  const dry = await api<{ data: { matched: number } }>(ctx.app.url, replayPath, { headers: admin, json: { item_id: corpus.itemId, limit: 1, dry_run: true } });
  expectStatus(dry, [202], "bulk replay (dry run)");
  if (dry.body.data.matched !== corpus.count) throw new Error(`dry run matched ${dry.body.data.matched}, expected ${corpus.count}`);

  const started = Date.now();
  let queued = 0;
  let calls = 0;
  let cursor: string | undefined;
  do {
    const answer = await api<{ data: { queued: number; next_cursor: string | null } }>(ctx.app.url, replayPath, {
      headers: admin,
      json: { item_id: corpus.itemId, limit: PER_CALL, ...(cursor ? { cursor } : {}) },
      timeoutMs: 120_000,
    });
    expectStatus(answer, [202], "bulk replay");
    queued += answer.body.data.queued;
    cursor = answer.body.data.next_cursor ?? undefined;
    calls++;
  } while (cursor && calls < 2 * (corpus.count / PER_CALL) + 2);
  const queuedMs = Date.now() - started;
  ctx.log(`  ${queued} queued in ${calls} calls, ${(queuedMs / 1000).toFixed(1)} s`);

  // Done when none of the item's events is waiting or being processed.
  let doneMs: number | undefined;
  const deadline = started + MAX_WAIT_MS;
  while (Date.now() < deadline) {
    let busy = false;
    for (const status of ["received", "processing"]) {
      const answer = await api<{ data: unknown[] }>(ctx.app.url, `/api/admin/webhook-events/?item_id=${encodeURIComponent(corpus.itemId)}&status=${status}&limit=1`, { headers: admin });
      expectStatus(answer, [200], "webhook-events list");
      if (answer.body.data.length > 0) busy = true;
    }
    if (!busy) {
      doneMs = Date.now() - started;
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const elapsedMs = doneMs ?? Date.now() - started;

  // Count what was processed again (walk the item's events).
  const statuses = new Map<string, number>();
  let again = 0;
  let pageCursor: string | undefined;
  let pages = 0;
  do {
    const answer = await api<{ data: EventRow[]; next_cursor: string | null }>(
      ctx.app.url,
      `/api/admin/webhook-events/?item_id=${encodeURIComponent(corpus.itemId)}&limit=200${pageCursor ? `&cursor=${pageCursor}` : ""}`,
      { headers: admin },
    );
    expectStatus(answer, [200], "webhook-events list");
    for (const row of answer.body.data) {
      statuses.set(row.status, (statuses.get(row.status) ?? 0) + 1);
      if (row.status === "processed" && row.replay_count >= 1 && row.processed_at !== null && Date.parse(row.processed_at) >= started) again++;
    }
    pageCursor = answer.body.next_cursor ?? undefined;
    pages++;
  } while (pageCursor && pages < 200);

  const rate = (again / elapsedMs) * 1000;
  ctx.report.row(phase, "archive", `${corpus.count} events`, `${EVENT}, bodies in R2, rows processed`);
  ctx.report.row(phase, "bulk replay calls", `${calls} calls, ${queued} queued`, `${(queuedMs / 1000).toFixed(1)} s until the last call answered`);
  ctx.report.row(
    phase,
    "processed again",
    `${again} in ${(elapsedMs / 1000).toFixed(1)} s`,
    doneMs === undefined ? `stopped waiting after ${MAX_WAIT_MS / 1000} s` : `statuses: ${[...statuses].map(([s, n]) => `${s} ${n}`).join(", ")}`,
  );
  ctx.report.row(phase, "replay throughput", `${fixed(rate, 1)} events/s`, "processed again ÷ time from the first replay call");
  const unfinished = [...statuses].filter(([status]) => status !== "processed").map(([status, n]) => `${status} ${n}`);
  ctx.report.goal(phase, "replay-events-per-second", rate, ">=", 200, {
    checked: `${queued} of ${corpus.count} events queued; ${again} processed again after the first replay call; item statuses ${[...statuses].map(([st, n]) => `${st} ${n}`).join(", ")}`,
    problem:
      queued !== corpus.count
        ? `${queued} queued, not ${corpus.count}`
        : unfinished.length > 0
          ? `not every event ended processed (${unfinished.join(", ")})`
          : again !== corpus.count
            ? `${again} of ${corpus.count} processed again${doneMs === undefined ? ` (stopped waiting after ${MAX_WAIT_MS / 1000} s)` : ""}`
            : undefined,
  });
}
