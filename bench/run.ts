/**
 * `npm run bench`: starts the app (plus the Pluggy simulator) and the bench control Worker on local
 * `wrangler dev`, on their own ports and a fresh state directory, warms up, measures, and prints a
 * table and, last, one line per figure: `RATIO <name> <value> goal <op> <target>` (with `MISS` when the
 * goal is not met or the figure could not be measured).
 *
 * Exit status: 0 when every phase measured (misses included: this is a measurement); 1 when a phase
 * failed for another reason than a missing feature; 2 when the harness itself could not run.
 *
 * Options: --only intake,pagination,storage,initial-sync,category-sync,catalog-io,replay   --source worktree|HEAD|<commit>
 *          --rows 1000000 --users 1000   --keep (leave the state directory)   --port-base 8881
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, freemem, totalmem, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { api, expectStatus, NotMeasurable, type BenchContext } from "./lib/context.ts";
import { copyLocalD1, freshSecrets, hasLedger, measureCatalogBytes, placeLedgerCopy, prepareSource, seedLocalD1, startAppStack, startControl, type AppStack, type Instance } from "./lib/instances.ts";
import { setUpLedgers } from "./lib/ledger.ts";
import { HarnessError, WRANGLER_JS } from "./lib/proc.ts";
import { Report, type Goal } from "./lib/report.ts";
import { health } from "./phases/health.ts";
import { INTAKE_GOALS, intake } from "./phases/intake.ts";
import { PAGINATION_GOALS, pagination } from "./phases/pagination.ts";
import { INITIAL_SYNC_GOALS, initialSync } from "./phases/initial-sync.ts";
import { CATEGORY_SYNC_GOALS, categorySync } from "./phases/category-sync.ts";
import { REPLAY_GOALS, replay, seedReplayArchive } from "./phases/replay.ts";
import { CATALOG_ITEMS_PER_USER, CATALOG_USERS, LEDGER_BYTES_ROWS, STORAGE_GOALS, storage } from "./phases/storage.ts";
import { CATALOG_IO_GOALS, catalogIo } from "./phases/catalog-io.ts";

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    source: { type: "string", default: "worktree" },
    rows: { type: "string", default: "1000000" },
    users: { type: "string", default: "1000" },
    keep: { type: "boolean", default: false },
    "port-base": { type: "string", default: "8881" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log("usage: npm run bench -- [--only intake,pagination,storage,initial-sync,category-sync,catalog-io,replay] [--source worktree|HEAD|<commit>] [--rows N] [--users N] [--keep] [--port-base 8881]");
  process.exit(0);
}

type Phase = { name: string; goals: Array<Pick<Goal, "name" | "op" | "target">>; run: (ctx: BenchContext) => Promise<void>; needsSimulator: boolean };
const PHASES: Phase[] = [
  { name: "health", goals: [], run: health, needsSimulator: false },
  { name: "intake", goals: INTAKE_GOALS, run: intake, needsSimulator: false },
  { name: "pagination", goals: PAGINATION_GOALS, run: pagination, needsSimulator: false },
  { name: "storage", goals: STORAGE_GOALS, run: storage, needsSimulator: false },
  { name: "initial-sync", goals: INITIAL_SYNC_GOALS, run: initialSync, needsSimulator: true },
  { name: "category-sync", goals: CATEGORY_SYNC_GOALS, run: categorySync, needsSimulator: true },
  { name: "catalog-io", goals: CATALOG_IO_GOALS, run: catalogIo, needsSimulator: true },
  { name: "replay", goals: REPLAY_GOALS, run: replay, needsSimulator: false },
];
const only = values.only ? new Set(values.only.split(",").map((s) => s.trim())) : undefined;
const selected = PHASES.filter((p) => p.name === "health" || !only || only.has(p.name));
const rows = Number(values.rows);
const users = Number(values.users);
const portBase = Number(values["port-base"]);
const largestRows = Math.min(rows, Math.max(500_000 + 1_000, Math.floor(rows / 2) + 1_000));

const log = (line: string) => console.log(line);
const report = new Report();
const stateRoot = mkdtempSync(join(tmpdir(), "finance-hub-bench-"));
const runStarted = Date.now();
let exitCode = 0;
let stack: AppStack | undefined;
let control: Instance | undefined;

function machine(): string {
  const cpu = cpus()[0]?.model ?? "unknown cpu";
  return `${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} free at start), ${process.platform} ${process.arch}`;
}

function wranglerVersion(): string {
  const result = spawnSync(process.execPath, [WRANGLER_JS, "--version"], { encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  return result.stdout.trim().split("\n").pop() ?? "unknown";
}

async function timed(phase: string, run: () => Promise<void>): Promise<void> {
  const started = Date.now();
  log(`▶ ${phase}`);
  let outcome = "ok";
  try {
    await run();
  } catch (error) {
    if (error instanceof HarnessError) {
      outcome = `HARNESS FAILED: ${error.message.split("\n")[0] ?? ""}`;
      throw error;
    }
    outcome = error instanceof NotMeasurable ? `not measured: ${error.message}` : `FAILED: ${error instanceof Error ? error.message : String(error)}`;
    if (!(error instanceof NotMeasurable)) {
      exitCode = 1;
      if (error instanceof Error && error.stack) log(error.stack);
    }
    log(`  ${outcome}`);
    const goals = PHASES.find((p) => p.name === phase)?.goals ?? [];
    report.notMeasured(goals, outcome);
  } finally {
    const seconds = (Date.now() - started) / 1000;
    report.timings.push({ phase, seconds, outcome });
    log(`  ${phase}: ${seconds.toFixed(1)} s`);
  }
}

try {
  const source = prepareSource(values.source ?? "worktree", stateRoot);
  const secrets = freshSecrets();
  report.context.push(
    ["date", new Date().toISOString()],
    ["measured", source.label],
    ["machine", machine()],
    ["node", process.version],
    ["wrangler", wranglerVersion()],
    ["state", `${stateRoot}${values.keep ? " (kept)" : " (removed after)"}`],
  );
  log(`bench: ${source.label}; state in ${stateRoot}`);

  const wants = (name: string) => selected.some((p) => p.name === name);
  const ledgers = hasLedger(source);
  const directory = existsSync(join(source.dir, "src", "catalog", "directory.repo.ts"));
  const needsSeed = wants("pagination") && ledgers;
  let seeded: BenchContext["seeded"];
  const shared: BenchContext["shared"] = {};
  await timed("setup", async () => {
    stack = await startAppStack({
      source,
      stateRoot,
      ports: { app: portBase, simulator: portBase + 1, control: portBase + 2 },
      secrets,
      // Bench mode: the app counts its catalog statements (catalog-io). Never set outside the bench.
      // A `--var`, not the env file: wrangler binds from the env file only what wrangler.toml declares.
      ...(wants("catalog-io") ? { appVars: { BENCH_COUNT_CATALOG: "true" } } : {}),
      beforeStart: async (appPersist) => {
        if (wants("storage") && directory) {
          const started = Date.now();
          const m = measureCatalogBytes(appPersist, stateRoot, CATALOG_USERS, CATALOG_ITEMS_PER_USER);
          shared.catalogBytes = { users: CATALOG_USERS, itemsPerUser: CATALOG_ITEMS_PER_USER, growth: m.growth, rows: m.rows, distinctUsers: m.users, tablesWithUserId: m.tablesWithUserId };
          report.row("setup", "catalog bytes (scratch copy, node:sqlite)", `${((Date.now() - started) / 1000).toFixed(1)} s`, `${m.rows} directory rows, ${m.growth} bytes of page growth`);
        }
        const summary = await seedLocalD1(source, appPersist, stateRoot, { users: needsSeed ? users : 0 });
        report.row("setup", "seed D1 catalog (categories, item directory)", summary);
      },
      beforeAppStart: async (simulator, appPersist) => {
        if (wants("replay")) {
          const started = Date.now();
          shared.replayCorpus = await seedReplayArchive({ stateRoot, appPersist, port: portBase + 2, simulator, secrets, knownItems: directory });
          report.row("setup", "seed replay archive (R2 + D1, via the control Worker)", `${((Date.now() - started) / 1000).toFixed(1)} s`, `${shared.replayCorpus.count} events over ${shared.replayCorpus.owners.length} users + ${shared.replayCorpus.single.count} of one user`);
        }
        if (ledgers && (needsSeed || wants("storage") || wants("replay"))) {
          const started = Date.now();
          const owners = shared.replayCorpus ? [...shared.replayCorpus.owners, shared.replayCorpus.single] : [];
          shared.ledgers = await setUpLedgers({
            source,
            stateRoot,
            appPersist,
            port: portBase + 2,
            ...(needsSeed ? { largest: { userId: "bench-user-0000", rows: largestRows } } : {}),
            ...(wants("storage") ? { bytesRows: LEDGER_BYTES_ROWS } : {}),
            owners,
          });
          report.row("setup", "ledgers (bench ledger tool, then node:sqlite)", `${((Date.now() - started) / 1000).toFixed(1)} s`, `${shared.ledgers.prepared} owners' ledgers woken${shared.ledgers.largest ? `; largest: ${shared.ledgers.largest.summary}` : ""}`);
          if (shared.ledgers.largest) seeded = { largestUser: shared.ledgers.largest.userId, largestRows, rows: largestRows, users };
        }
        // The control Worker gets an identical copy of the catalog: same schema, same rows, same indexes.
        copyLocalD1(appPersist, join(stateRoot, "state-control"));
      },
    });
    control = await startControl(stateRoot, portBase + 2, join(stateRoot, "state-control"));
    const largest = shared.ledgers?.largest;
    if (largest) {
      // The naive baseline's ledger: a byte copy of the largest user's, placed before its first call.
      const id = await api<{ data: { id: string } }>(control.url, `/bench/ledger-copy-id?user_id=${encodeURIComponent(largest.userId)}`);
      expectStatus(id, [200], "control /bench/ledger-copy-id");
      placeLedgerCopy(largest.file, join(stateRoot, "state-control"), id.body.data.id);
    }
    log(`  app ${stack.app.url}, simulator ${stack.simulator?.url ?? "(none in this tree)"}, control ${control.url}`);
  });
  if (!stack || !control) throw new HarnessError("instances did not start");

  const ctx: BenchContext = { source, secrets, app: stack.app, simulator: stack.simulator, control, report, seeded, shared, log };
  for (const phase of selected) {
    if (phase.needsSimulator && !ctx.simulator) {
      report.notMeasured(phase.goals, "this tree has no simulator/wrangler.toml");
      report.timings.push({ phase: phase.name, seconds: 0, outcome: "not measured: no simulator" });
      continue;
    }
    await timed(phase.name, () => phase.run(ctx));
  }
} catch (error) {
  exitCode = 2;
  console.error(`\nbench harness failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await Promise.all([stack?.stop(), control?.stop()]);
  if (!values.keep) rmSync(stateRoot, { recursive: true, force: true });
}

report.timings.push({ phase: "total", seconds: (Date.now() - runStarted) / 1000, outcome: "" });
for (const phase of PHASES) report.notMeasured(phase.goals, selected.includes(phase) ? "the harness failed before this phase" : "phase not selected (--only)");
report.print(log);
process.exit(exitCode);
