/**
 * Replay: 10,000 archived webhook events (exact bytes in R2, `processed` rows in D1, as intake and
 * processing leave them) spread over 100 users' items, replayed through the bulk endpoint
 * (`POST /api/admin/webhook-events/replay/`, by their received window, 1,000 per call, following
 * `next_cursor`), timed until every one is processed again — not just queued. Each event is an
 * `item/login_succeeded` about a simulated item its user is known to own (item directory row, item and
 * account in the user's ledger), so processing does its real work (R2 read and sha256 check,
 * `GET /items/{id}`, item upsert into the owner's ledger, status update).
 *
 * Then the single-ledger ceiling, a figure for the capacity model rather than a goal: 2,000 events
 * about one user's item replayed the same way (by item id); every one lands on the same ledger.
 *
 * The archive is written before the app starts (see `seedReplayArchive`), so the phase does not pay
 * for 10,000 deliveries and first processings. Bounded: after MAX_WAIT_MS the rate so far is reported.
 */
import { api, bearer, expectStatus, NotMeasurable, type BenchContext } from "../lib/context.ts";
import { startControl, type Instance, type Secrets } from "../lib/instances.ts";
import type { LedgerOwner } from "../lib/ledger.ts";
import { fixed } from "../lib/report.ts";
import { SimClient } from "../lib/sim.ts";

export const REPLAY_GOALS = [{ name: "replay-events-per-second", op: ">=" as const, target: 300 }];

const CORPUS = Number(process.env.BENCH_REPLAY_EVENTS ?? 10_000);
const USERS = Number(process.env.BENCH_REPLAY_USERS ?? 100);
/** The single-ledger burst: events that all belong to one user's item (the ceiling of one ledger). */
const SINGLE = Number(process.env.BENCH_REPLAY_SINGLE_EVENTS ?? 2_000);
const PER_CALL = 1_000;
const MAX_WAIT_MS = Number(process.env.BENCH_REPLAY_MAX_WAIT_MS ?? 75_000);
const SINGLE_MAX_WAIT_MS = 45_000;
const EVENT = "item/login_succeeded";

export interface ReplayCorpus {
  count: number;
  /** The spread corpus: `count` events over these users' items, received inside [from, to]. */
  owners: LedgerOwner[];
  receivedFrom: string;
  receivedTo: string;
  /** The single-ledger burst: events about one user's item. */
  single: LedgerOwner & { count: number };
}

/**
 * Writes the archive through the control Worker started on the app's own state directory (same D1
 * database id, the app's bucket name), then stops it. The Worker runtime writes R2 and D1 exactly as
 * the app would; only the HTTP deliveries are skipped. Each simulated item's owner goes into the
 * catalog's item directory (a known item, as a registered one is); the caller wakes their ledgers.
 */
export async function seedReplayArchive(options: { stateRoot: string; appPersist: string; port: number; simulator: Instance | undefined; secrets: Secrets; knownItems: boolean }): Promise<ReplayCorpus> {
  const run = crypto.randomUUID().slice(0, 6);
  const sim = options.simulator ? new SimClient(options.simulator.url) : undefined;
  const owner = async (userId: string): Promise<LedgerOwner> => {
    if (!sim) return { userId, itemId: `bench-replay-item-${crypto.randomUUID()}`, accountPluggyId: `bench-replay-account-${crypto.randomUUID()}` };
    const created = await sim.createItem({ clientUserId: userId, accounts: 1, transactionsPerAccount: 0 });
    return { userId, itemId: created.item.id, accountPluggyId: created.accounts[0]?.id ?? "" };
  };
  const owners: LedgerOwner[] = [];
  for (let u = 0; u < USERS; u++) owners.push(await owner(`bench-replay-user-${run}-${String(u).padStart(3, "0")}`));
  const single = { ...(await owner(`bench-replay-single-${run}`)), count: SINGLE };
  const seeder = await startControl(options.stateRoot, options.port, options.appPersist, "archive-seeder");
  const spreadFrom = Date.now() - 3 * 3_600_000;
  const perUser = Math.ceil(CORPUS / USERS);
  try {
    const seed = async (who: LedgerOwner, count: number, receivedFrom: number) => {
      const answer = await api(seeder.url, "/bench/seed-archive", {
        json: { count, event: EVENT, itemId: who.itemId, clientUserId: who.userId, clientId: options.secrets.PLUGGY_CLIENT_ID, receivedFrom: new Date(receivedFrom).toISOString(), ...(options.knownItems ? { userId: who.userId } : {}) },
        timeoutMs: 300_000,
      });
      expectStatus(answer, [200], "seeding the replay archive");
    };
    // User u's events are received at spreadFrom + u·perUser ms onwards: one window holds them all.
    let seeded = 0;
    for (const [u, who] of owners.entries()) {
      const count = Math.min(perUser, CORPUS - seeded);
      if (count > 0) await seed(who, count, spreadFrom + u * perUser);
      seeded += count;
    }
    for (let offset = 0; offset < SINGLE; offset += 2_000) await seed(single, Math.min(2_000, SINGLE - offset), spreadFrom + 3_600_000 + offset);
  } finally {
    await seeder.stop();
  }
  return { count: CORPUS, owners, receivedFrom: new Date(spreadFrom).toISOString(), receivedTo: new Date(spreadFrom + USERS * perUser).toISOString(), single };
}

type EventRow = { event_id: string; status: string; replay_count: number; processed_at: string | null };

interface ReplayRun {
  queued: number;
  calls: number;
  queuedMs: number;
  elapsedMs: number;
  done: boolean;
  again: number;
  statuses: Map<string, number>;
  rate: number;
}

/** Replays every event matching `filter` (bulk endpoint, following next_cursor) and counts what was processed again. */
async function replayAndCount(ctx: BenchContext, admin: Record<string, string>, filter: Record<string, string>, expected: number, maxWaitMs: number): Promise<ReplayRun> {
  const replayPath = "/api/admin/webhook-events/replay/";
  const query = new URLSearchParams(filter).toString();
  const dry = await api<{ data: { matched: number } }>(ctx.app.url, replayPath, { headers: admin, json: { ...filter, limit: 1, dry_run: true } });
  expectStatus(dry, [202], "bulk replay (dry run)");
  if (dry.body.data.matched !== expected) throw new Error(`dry run matched ${dry.body.data.matched}, expected ${expected} (${query})`);

  const started = Date.now();
  let queued = 0;
  let calls = 0;
  let cursor: string | undefined;
  do {
    const answer = await api<{ data: { queued: number; next_cursor: string | null } }>(ctx.app.url, replayPath, {
      headers: admin,
      json: { ...filter, limit: PER_CALL, ...(cursor ? { cursor } : {}) },
      timeoutMs: 120_000,
    });
    expectStatus(answer, [202], "bulk replay");
    queued += answer.body.data.queued;
    cursor = answer.body.data.next_cursor ?? undefined;
    calls++;
  } while (cursor && calls < 2 * (expected / PER_CALL) + 2);
  const queuedMs = Date.now() - started;

  // Done when none of the matching events is waiting or being processed.
  let doneMs: number | undefined;
  const deadline = started + maxWaitMs;
  while (Date.now() < deadline) {
    let busy = false;
    for (const status of ["received", "processing"]) {
      const answer = await api<{ data: unknown[] }>(ctx.app.url, `/api/admin/webhook-events/?${query}&status=${status}&limit=1`, { headers: admin });
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

  // Count what was processed again (walk the matching events).
  const statuses = new Map<string, number>();
  let again = 0;
  let pageCursor: string | undefined;
  let pages = 0;
  do {
    const answer = await api<{ data: EventRow[]; next_cursor: string | null }>(ctx.app.url, `/api/admin/webhook-events/?${query}&limit=200${pageCursor ? `&cursor=${pageCursor}` : ""}`, { headers: admin });
    expectStatus(answer, [200], "webhook-events list");
    for (const row of answer.body.data) {
      statuses.set(row.status, (statuses.get(row.status) ?? 0) + 1);
      if (row.status === "processed" && row.replay_count >= 1 && row.processed_at !== null && Date.parse(row.processed_at) >= started) again++;
    }
    pageCursor = answer.body.next_cursor ?? undefined;
    pages++;
  } while (pageCursor && pages < 2 * (expected / 200) + 10);
  return { queued, calls, queuedMs, elapsedMs, done: doneMs !== undefined, again, statuses, rate: (again / elapsedMs) * 1000 };
}

const statusList = (statuses: Map<string, number>) => [...statuses].map(([s, n]) => `${s} ${n}`).join(", ");

function problemOf(run: ReplayRun, expected: number, maxWaitMs: number): string | undefined {
  const unfinished = [...run.statuses].filter(([status]) => status !== "processed").map(([status, n]) => `${status} ${n}`);
  return run.queued !== expected
    ? `${run.queued} queued, not ${expected}`
    : unfinished.length > 0
      ? `not every event ended processed (${unfinished.join(", ")})`
      : run.again !== expected
        ? `${run.again} of ${expected} processed again${run.done ? "" : ` (stopped waiting after ${maxWaitMs / 1000} s)`}`
        : undefined;
}

export async function replay(ctx: BenchContext): Promise<void> {
  const corpus = ctx.shared.replayCorpus;
  if (!corpus) throw new NotMeasurable("no replay archive was seeded");
  const phase = "replay";
  const admin = await bearer(ctx.secrets, "bench-admin", true);

  // The figure: CORPUS events spread over USERS users (their ledgers work side by side).
  const spread = await replayAndCount(ctx, admin, { received_from: corpus.receivedFrom, received_to: corpus.receivedTo }, corpus.count, MAX_WAIT_MS);
  ctx.log(`  spread: ${spread.again} processed again in ${(spread.elapsedMs / 1000).toFixed(1)} s`);
  ctx.report.row(phase, "archive", `${corpus.count} events over ${corpus.owners.length} users`, `${EVENT}, bodies in R2, rows processed; items known (item directory + each user's ledger)`);
  ctx.report.row(phase, "bulk replay calls", `${spread.calls} calls, ${spread.queued} queued`, `${(spread.queuedMs / 1000).toFixed(1)} s until the last call answered`);
  ctx.report.row(
    phase,
    "processed again",
    `${spread.again} in ${(spread.elapsedMs / 1000).toFixed(1)} s`,
    spread.done ? `statuses: ${statusList(spread.statuses)}` : `stopped waiting after ${MAX_WAIT_MS / 1000} s`,
  );
  ctx.report.row(phase, "replay throughput", `${fixed(spread.rate, 1)} events/s`, "processed again ÷ time from the first replay call");
  ctx.report.goal(phase, "replay-events-per-second", spread.rate, ">=", 300, {
    checked: `${spread.queued} of ${corpus.count} events (${corpus.owners.length} users) queued; ${spread.again} processed again after the first replay call; statuses ${statusList(spread.statuses)}`,
    problem: problemOf(spread, corpus.count, MAX_WAIT_MS),
  });

  // The single-ledger ceiling (a figure for the capacity model, not a goal): one user's burst.
  const single = await replayAndCount(ctx, admin, { item_id: corpus.single.itemId }, corpus.single.count, SINGLE_MAX_WAIT_MS);
  const singleProblem = problemOf(single, corpus.single.count, SINGLE_MAX_WAIT_MS);
  ctx.report.row(
    phase,
    "single-ledger ceiling",
    `${fixed(single.rate, 1)} events/s`,
    `${single.again} of ${corpus.single.count} events of one user's item processed again in ${(single.elapsedMs / 1000).toFixed(1)} s; ${singleProblem ? `NOT VALID: ${singleProblem}` : `valid: all processed again (${statusList(single.statuses)})`}`,
  );
}
