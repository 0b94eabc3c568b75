/**
 * Pagination: page 10,000 (limit 50, i.e. after 499,950 rows) of the largest user — 501,000+
 * transactions in their ledger (a UserLedger SQLite Durable Object) — against page 1, through the app's
 * `GET /api/banking/transactions/`. The naive baseline is the same page by `OFFSET`, served by the
 * control Worker's own SQLite Durable Object from a byte copy of that ledger (same engine, schema and
 * indexes, same HTTP → Worker → Durable Object path), measured the same way (sequential, interleaved
 * with the app's requests).
 */
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { api, bearer, expectStatus, NotMeasurable, type BenchContext } from "../lib/context.ts";
import { runInterleaved, type RequestSpec } from "../lib/load.ts";
import { fixed, summarize } from "../lib/report.ts";

export const PAGINATION_GOALS = [{ name: "pagination-page10000-vs-page1", op: "<=" as const, target: 1.5 }];

const LIMIT = 50;
const PAGE = 10_000;
const ROUNDS = 60;

type Page = { data: Array<{ id: string; date: string }>; next_cursor: string | null };

async function craftCursor(ctx: BenchContext, key: { d: string; i: string }): Promise<string> {
  // The app's own encoder, from the tree under test, so a format change (e.g. a checksum) is followed.
  const cursorModule = (await import(pathToFileURL(join(ctx.source.dir, "src", "platform", "cursor.ts")).href)) as {
    encodeCursor: (key: Record<string, string | number>) => string;
  };
  return cursorModule.encodeCursor(key);
}

/** Walks the cursor (limit 200) to the position; only used when a crafted cursor is refused. Bounded. */
async function walkCursor(ctx: BenchContext, headers: Record<string, string>, rowsBefore: number): Promise<string> {
  let cursor: string | undefined;
  let seen = 0;
  const deadline = Date.now() + 240_000;
  while (seen < rowsBefore) {
    if (Date.now() > deadline) throw new Error(`walking the cursor: only ${seen} of ${rowsBefore} rows in 240 s`);
    const limit = Math.min(200, rowsBefore - seen);
    const answer = await api<Page>(ctx.app.url, `/api/banking/transactions/?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, { headers });
    expectStatus(answer, [200], "walking the transaction list");
    if (!answer.body.next_cursor) throw new Error(`list ended after ${seen + answer.body.data.length} rows`);
    cursor = answer.body.next_cursor;
    seen += answer.body.data.length;
  }
  if (!cursor) throw new Error("no cursor");
  return cursor;
}

export async function pagination(ctx: BenchContext): Promise<void> {
  const seeded = ctx.seeded;
  if (!seeded) throw new NotMeasurable("no seeded ledger (this tree has no per-user ledger, src/ledger/user-ledger.ts)");
  const phase = "pagination";
  const userId = seeded.largestUser;
  const rowsBefore = (PAGE - 1) * LIMIT;
  if (seeded.largestRows < rowsBefore + LIMIT) throw new Error(`largest user has ${seeded.largestRows} rows, page ${PAGE} needs ${rowsBefore + LIMIT}`);
  const headers = await bearer(ctx.secrets, userId);

  const position = await api<{ data: { date: string; id: string } }>(ctx.control.url, `/bench/position?user_id=${userId}&offset=${rowsBefore - 1}`);
  expectStatus(position, [200], "control /bench/position");
  const last = position.body.data;
  let cursor = await craftCursor(ctx, { d: last.date, i: last.id });
  let how = "crafted with the app's encodeCursor";

  const offsetPath = `/bench/transactions?user_id=${userId}&limit=${LIMIT}&offset=${rowsBefore}`;
  const expected = await api<{ data: Array<{ id: string }> }>(ctx.control.url, offsetPath);
  expectStatus(expected, [200], "control OFFSET page");
  const appPath = (c?: string) => `/api/banking/transactions/?limit=${LIMIT}${c ? `&cursor=${c}` : ""}`;
  let probe = await api<Page>(ctx.app.url, appPath(cursor), { headers });
  if (probe.status === 400) {
    ctx.log(`  crafted cursor refused (${probe.text.slice(0, 120)}); walking the cursor instead`);
    cursor = await walkCursor(ctx, headers, rowsBefore);
    how = "walked with limit 200";
    probe = await api<Page>(ctx.app.url, appPath(cursor), { headers });
  }
  expectStatus(probe, [200], "app page 10,000");
  const sameRows = probe.body.data.length === LIMIT && probe.body.data.map((r) => r.id).join() === expected.body.data.map((r) => r.id).join();

  const get = (path: string, h: Record<string, string> = {}): RequestSpec => ({ method: "GET", path, headers: h });
  const specs = {
    "app page 1": get(appPath(), headers),
    "app page 10,000": get(appPath(cursor), headers),
    "OFFSET page 1": get(`/bench/transactions?user_id=${userId}&limit=${LIMIT}&offset=0`),
    "OFFSET page 10,000": get(offsetPath),
  };
  const bases = { "app page 1": ctx.app.url, "app page 10,000": ctx.app.url, "OFFSET page 1": ctx.control.url, "OFFSET page 10,000": ctx.control.url };
  await runInterleaved(bases, specs, 5, 60_000); // warm-up
  const measured = await runInterleaved(bases, specs, ROUNDS, 120_000);
  const summaries = Object.fromEntries(Object.entries(measured).map(([name, latencies]) => [name, summarize(latencies)]));
  const s = (name: keyof typeof specs) => summaries[name] ?? summarize([]);

  ctx.report.row(phase, "data", `${userId}'s ledger: ${seeded.largestRows.toLocaleString("en-US")} rows`, "one account, five years of dates; the naive baseline reads a byte copy of this ledger");
  ctx.report.row(phase, "page 10,000 cursor", how, `first row = OFFSET ${rowsBefore.toLocaleString("en-US")} row: ${sameRows ? "yes" : "no"}`);
  for (const name of Object.keys(specs) as Array<keyof typeof specs>) ctx.report.latency(phase, name, s(name));
  const ratio = s("app page 10,000").p50 / s("app page 1").p50;
  const offsetRatio = s("OFFSET page 10,000").p50 / s("OFFSET page 1").p50;
  ctx.report.row(phase, "app keyset: page 10,000 / page 1 (p50)", fixed(ratio), `p99 ratio ${fixed(s("app page 10,000").p99 / s("app page 1").p99)}`);
  ctx.report.row(phase, "naive OFFSET: page 10,000 / page 1 (p50)", fixed(offsetRatio), "baseline (control Worker's Durable Object on a copy of the ledger)");
  const firstPage = await api<Page>(ctx.app.url, appPath(), { headers });
  expectStatus(firstPage, [200], "app page 1");
  ctx.report.goal(phase, "pagination-page10000-vs-page1", ratio, "<=", 1.5, {
    checked: `the app's page 10,000 is the OFFSET query's page (${probe.body.data.length} rows, same ids, same order) and page 1 has ${firstPage.body.data.length} rows; every measured request (${ROUNDS} rounds × 4) answered 200`,
    problem: !sameRows
      ? "the app's page 10,000 is not the OFFSET query's page 10,000 (cursor or ordering differs)"
      : firstPage.body.data.length !== LIMIT
        ? `page 1 has ${firstPage.body.data.length} rows, not ${LIMIT}`
        : undefined,
  });
}
