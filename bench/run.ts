/**
 * `npm run bench`: starts the app (plus the Pluggy simulator) and the bench control Worker on local
 * `wrangler dev`, on their own ports and a fresh state directory, warms up, measures, and prints a
 * table and, last, one line per figure: `RATIO <name> <value> goal <op> <target>` (with `MISS` when the
 * goal is not met or the figure could not be measured).
 *
 * Exit status: 0 when every phase measured (misses included: this is a measurement); 1 when a phase
 * failed for another reason than a missing feature; 2 when the harness itself could not run.
 *
 * Options: --only intake,pagination,initial-sync,category-sync,replay   --source worktree|HEAD|<commit>
 *          --rows 1000000 --users 1000   --keep (leave the state directory)   --port-base 8881
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, freemem, totalmem, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { NotMeasurable, type BenchContext } from "./lib/context.ts";
import { copyLocalD1, freshSecrets, prepareSource, seedLocalD1, startAppStack, startControl, type AppStack, type Instance } from "./lib/instances.ts";
import { HarnessError, WRANGLER_JS } from "./lib/proc.ts";
import { Report, type Goal } from "./lib/report.ts";
import { health } from "./phases/health.ts";
import { INTAKE_GOALS, intake } from "./phases/intake.ts";
import { PAGINATION_GOALS, pagination } from "./phases/pagination.ts";
import { INITIAL_SYNC_GOALS, initialSync } from "./phases/initial-sync.ts";
import { CATEGORY_SYNC_GOALS, categorySync } from "./phases/category-sync.ts";
import { REPLAY_GOALS, replay, seedReplayArchive } from "./phases/replay.ts";

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
  console.log("usage: npm run bench -- [--only intake,pagination,initial-sync,category-sync,replay] [--source worktree|HEAD|<commit>] [--rows N] [--users N] [--keep] [--port-base 8881]");
  process.exit(0);
}

type Phase = { name: string; goals: Array<Pick<Goal, "name" | "op" | "target">>; run: (ctx: BenchContext) => Promise<void>; needsSimulator: boolean };
const PHASES: Phase[] = [
  { name: "health", goals: [], run: health, needsSimulator: false },
  { name: "intake", goals: INTAKE_GOALS, run: intake, needsSimulator: false },
  { name: "pagination", goals: PAGINATION_GOALS, run: pagination, needsSimulator: false },
  { name: "initial-sync", goals: INITIAL_SYNC_GOALS, run: initialSync, needsSimulator: true },
  { name: "category-sync", goals: CATEGORY_SYNC_GOALS, run: categorySync, needsSimulator: true },
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

  const needsSeed = selected.some((p) => p.name === "pagination");
  let seeded: BenchContext["seeded"];
  let replayCorpus: BenchContext["shared"]["replayCorpus"];
  await timed("setup", async () => {
    stack = await startAppStack({
      source,
      stateRoot,
      ports: { app: portBase, simulator: portBase + 1, control: portBase + 2 },
      secrets,
      beforeStart: async (appPersist) => {
        const started = Date.now();
        const summary = await seedLocalD1(source, appPersist, stateRoot, needsSeed ? { rows, users, largest: largestRows } : { rows: 0, users: 0, largest: 0 });
        if (needsSeed) {
          seeded = { largestUser: "bench-user-0000", largestRows, rows, users };
          report.row("setup", "seed D1 (node:sqlite, indexes rebuilt)", `${((Date.now() - started) / 1000).toFixed(1)} s`, summary);
        }
      },
      beforeAppStart: async (simulator, appPersist) => {
        if (selected.some((p) => p.name === "replay")) {
          const started = Date.now();
          replayCorpus = await seedReplayArchive({ stateRoot, appPersist, port: portBase + 2, simulator, secrets });
          report.row("setup", "seed replay archive (R2 + D1, via the control Worker)", `${((Date.now() - started) / 1000).toFixed(1)} s`, `${replayCorpus.count} events`);
        }
        // The control Worker gets an identical copy: same schema, same rows, same indexes.
        copyLocalD1(appPersist, join(stateRoot, "state-control"));
      },
    });
    control = await startControl(stateRoot, portBase + 2, join(stateRoot, "state-control"));
    log(`  app ${stack.app.url}, simulator ${stack.simulator?.url ?? "(none in this tree)"}, control ${control.url}`);
  });
  if (!stack || !control) throw new HarnessError("instances did not start");

  const ctx: BenchContext = { source, secrets, app: stack.app, simulator: stack.simulator, control, report, seeded, shared: { replayCorpus }, log };
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
