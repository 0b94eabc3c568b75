/**
 * Local instances for measurements: the app, the Pluggy simulator and the bench control Worker, each
 * a `wrangler dev` on its own port and its own fresh persistence directory.
 *
 * Workers are bundled once, before they start, and run with `--no-bundle`: other people edit src/ while
 * a bench runs, and a reload in the middle of a measurement would restart the runtime.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { HarnessError, PROJECT_ROOT, runWrangler, sleep, startBackground, WRANGLER_JS, wranglerEnv, type Background } from "./proc.ts";

export interface SourceTree {
  /** Directory holding the sources to build (the working tree, or an export of a commit). */
  dir: string;
  /** What was measured: commit hash, plus "+dirty" when the working tree differs from it. */
  label: string;
}

function git(args: string[]): string {
  const result = spawnSync("git", args, { cwd: PROJECT_ROOT, encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : "";
}

/**
 * The sources to measure. `worktree` (default) builds what is on disk; a commit-ish (`HEAD`) exports
 * that commit with `git archive` (read-only for the repository) so edits in progress are not measured;
 * a directory holding a wrangler.toml (an experiment's copy of the tree) is built as it is.
 */
export function prepareSource(source: string, stateRoot: string): SourceTree {
  const head = git(["rev-parse", "--short=12", "HEAD"]) || "unknown";
  if (source === "worktree") {
    const dirty = git(["status", "--porcelain", "--untracked-files=no", "--", "src", "simulator", "migrations", "wrangler.toml"]) !== "";
    return { dir: PROJECT_ROOT, label: `${head}${dirty ? "+dirty" : ""} (working tree)` };
  }
  if (existsSync(join(source, "wrangler.toml"))) return { dir: resolve(source), label: `${resolve(source)} (directory)` };
  const commit = git(["rev-parse", "--short=12", source]);
  if (!commit) throw new HarnessError(`--source ${source}: not a commit`);
  const dir = join(stateRoot, "source");
  mkdirSync(dir, { recursive: true });
  const archive = spawnSync("sh", ["-c", `git archive ${commit} | tar -x -C "${dir}"`], { cwd: PROJECT_ROOT, encoding: "utf8" });
  if (archive.status !== 0) throw new HarnessError(`git archive ${commit} failed: ${archive.stderr}`);
  symlinkSync(join(PROJECT_ROOT, "node_modules"), join(dir, "node_modules"));
  return { dir, label: `${commit} (${source})` };
}

/** Bundles a Worker once (`wrangler deploy --dry-run`, which needs no account) and returns the bundle's path. */
export function buildWorker(cwd: string, configPath: string, outDir: string, stateRoot: string): string {
  runWrangler(["deploy", "--dry-run", "-c", configPath, "--outdir", outDir, "--env", ""], { cwd, env: wranglerEnv(stateRoot) });
  const entry = join(outDir, "index.js");
  if (!existsSync(entry)) throw new HarnessError(`build of ${configPath} produced no ${entry}`);
  return entry;
}

export interface Instance {
  name: string;
  url: string;
  port: number;
  persistTo: string;
  process: Background;
  stop(): Promise<void>;
}

export interface WorkerOptions {
  name: string;
  cwd: string;
  configPath: string;
  /** A prebuilt bundle (run with --no-bundle); omit to let wrangler bundle `main`. */
  script?: string;
  /** An entry module wrangler bundles instead of `main` (a bench tool run with another Worker's config). */
  entry?: string;
  port: number;
  inspectorPort: number;
  persistTo: string;
  envFile?: string;
  vars?: Record<string, string>;
  stateRoot: string;
  /** Path that answers 2xx once the Worker is up. */
  readyPath: string;
  extraArgs?: string[];
  readyTimeoutMs?: number;
}

/** Starts `wrangler dev` for one Worker on 127.0.0.1 and waits until `readyPath` answers 2xx. */
export async function startWorker(options: WorkerOptions): Promise<Instance> {
  const args = [WRANGLER_JS, "dev"];
  if (options.script) args.push(options.script, "--no-bundle");
  else if (options.entry) args.push(options.entry);
  args.push(
    "-c",
    options.configPath,
    "--ip",
    "127.0.0.1",
    "--port",
    String(options.port),
    "--inspector-port",
    String(options.inspectorPort),
    "--persist-to",
    options.persistTo,
    "--log-level",
    "warn",
    "--show-interactive-dev-session=false",
  );
  if (options.envFile) args.push("--env-file", options.envFile);
  for (const [key, value] of Object.entries(options.vars ?? {})) args.push("--var", `${key}:${value}`);
  args.push(...(options.extraArgs ?? []));
  const logFile = join(options.stateRoot, "logs", `${options.name}.log`);
  const proc = startBackground(options.name, process.execPath, args, { cwd: options.cwd, env: wranglerEnv(options.stateRoot), logFile });
  const url = `http://127.0.0.1:${options.port}`;
  const instance: Instance = { name: options.name, url, port: options.port, persistTo: options.persistTo, process: proc, stop: () => proc.stop() };
  try {
    await waitReady(instance, options.readyPath, options.readyTimeoutMs ?? 120_000);
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return instance;
}

async function waitReady(instance: Instance, path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  void instance.process.exited.then((code) => (exited = code));
  let last = "no answer";
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new HarnessError(`${instance.name} exited (${exited}) before it was ready; see ${instance.process.logFile}`);
    try {
      const response = await fetch(`${instance.url}${path}`, { signal: AbortSignal.timeout(5_000) });
      await response.body?.cancel();
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(250);
  }
  throw new HarnessError(`${instance.name} not ready at ${instance.url}${path} after ${timeoutMs} ms (${last}); see ${instance.process.logFile}`);
}

/** Development-only secrets, fresh for every run (never the developer's .dev.vars). */
export interface Secrets {
  AUTH_JWT_SECRET: string;
  /** The operator console's own key (its CSRF tokens); never the JWT secret. */
  CONSOLE_SESSION_SECRET: string;
  PLUGGY_CLIENT_ID: string;
  PLUGGY_CLIENT_SECRET: string;
  /** Comma-separated: the first key signs, the second exercises rotation. */
  PLUGGY_WEBHOOK_SECRET: string;
  PLUGGY_WEBHOOK_AUTH_TOKEN: string;
}

export function freshSecrets(): Secrets {
  const hex = (n: number) => randomBytes(n).toString("hex");
  return {
    AUTH_JWT_SECRET: `bench-jwt-${hex(24)}`,
    CONSOLE_SESSION_SECRET: `bench-console-${hex(24)}`,
    PLUGGY_CLIENT_ID: "sim-client-id",
    PLUGGY_CLIENT_SECRET: `sim-secret-${hex(8)}`,
    PLUGGY_WEBHOOK_SECRET: `bench-webhook-${hex(16)},bench-webhook-old-${hex(16)}`,
    PLUGGY_WEBHOOK_AUTH_TOKEN: "",
  };
}

export const signingKey = (secrets: Secrets): string => secrets.PLUGGY_WEBHOOK_SECRET.split(",")[0] ?? "";

export function writeEnvFile(path: string, values: Record<string, string>): string {
  writeFileSync(path, Object.entries(values).map(([k, v]) => `${k}=${v}`).join("\n") + "\n", { mode: 0o600 });
  return path;
}

/** Applies the app's D1 migrations to a persistence directory (before the app starts). */
export function migrateLocalD1(cwd: string, configPath: string, persistTo: string, stateRoot: string): void {
  runWrangler(["d1", "migrations", "apply", "DB", "--local", "-c", configPath, "--persist-to", persistTo], { cwd, env: wranglerEnv(stateRoot) });
}

/** The SQLite file behind the local D1 database in a persistence directory (there is one D1 database). */
export function localD1File(persistTo: string): string {
  const dir = join(persistTo, "v3", "d1", "miniflare-D1DatabaseObject");
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite") : [];
  if (files.length !== 1) throw new HarnessError(`expected one D1 database file in ${dir}, found ${files.length}`);
  return join(dir, files[0] ?? "");
}

/**
 * Seeds a persistence directory's D1 (before any Worker opens it): the default category tree of the
 * tree under test and, with `users` > 0, one item-directory row per bench user (see seed-catalog.ts).
 * Users' banking rows live in their ledgers (ledger.ts). Returns the seeder's JSON summary.
 */
export async function seedLocalD1(source: SourceTree, persistTo: string, stateRoot: string, sizes: { users: number; rows?: number; largest?: number }): Promise<string> {
  const { defaultCategoriesSql } = (await import(join(source.dir, "src", "banking", "default-categories.ts"))) as { defaultCategoriesSql: (now: string) => string };
  const categoriesSql = join(stateRoot, "categories.sql");
  writeFileSync(categoriesSql, defaultCategoriesSql(new Date().toISOString()));
  const hasDirectory = existsSync(join(source.dir, "src", "catalog", "directory.repo.ts"));
  return runSeeder("seed-catalog.ts", ["seed", localD1File(persistTo), String(hasDirectory ? sizes.users : 0), categoriesSql], "seeding D1");
}

/** Runs one of bench/lib's node:sqlite seeders to completion and returns its last output line. */
export function runSeeder(script: string, args: string[], what: string): string {
  const result = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", join(PROJECT_ROOT, "bench", "lib", script), ...args], { encoding: "utf8", timeout: 300_000 });
  if (result.status !== 0) throw new HarnessError(`${what} failed: ${result.stderr}`);
  return result.stdout.trim().split("\n").pop() ?? "";
}

/**
 * The catalog's bytes per user: a scratch copy of the migrated (still empty) catalog gets `users` users
 * with `itemsPerUser` items each in its item directory; the figure is the file's page growth ÷ users.
 */
export function measureCatalogBytes(persistTo: string, stateRoot: string, users: number, itemsPerUser: number): { before: number; after: number; growth: number; rows: number; users: number; tablesWithUserId: string[]; totalMs: number } {
  const scratch = join(stateRoot, "catalog-bytes.sqlite");
  // The file and its write-ahead log (the migrations may still sit in the log).
  const source = localD1File(persistTo);
  copyFileSync(source, scratch);
  if (existsSync(`${source}-wal`)) copyFileSync(`${source}-wal`, `${scratch}-wal`);
  try {
    return JSON.parse(runSeeder("seed-catalog.ts", ["bytes", scratch, String(users), String(itemsPerUser)], "measuring catalog bytes")) as ReturnType<typeof measureCatalogBytes>;
  } finally {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${scratch}${suffix}`, { force: true });
  }
}

/** Copies the local D1 state (every database file) of one persistence directory into another. */
export function copyLocalD1(fromPersist: string, toPersist: string): void {
  cpSync(join(fromPersist, "v3", "d1"), join(toPersist, "v3", "d1"), { recursive: true });
}

export interface StackPorts {
  app: number;
  simulator: number;
  control: number;
}

export interface AppStackOptions {
  source: SourceTree;
  stateRoot: string;
  ports: StackPorts;
  secrets: Secrets;
  /** Extra `--var`s for the app (e.g. shorter retry timings in the reliability suite). */
  appVars?: Record<string, string>;
  /** Extra development variables for the app's env file (its `.dev.vars`), e.g. the bench's BENCH_COUNT_CATALOG. */
  appDevVars?: Record<string, string>;
  /** Called after migrations, before anything starts (seed data straight into D1). */
  beforeStart?: (appPersist: string) => Promise<void> | void;
  /** Called once the simulator is up, before the app starts. */
  beforeAppStart?: (simulator: Instance | undefined, appPersist: string) => Promise<void> | void;
}

export interface AppStack {
  app: Instance;
  simulator: Instance | undefined;
  appPersist: string;
  stop(): Promise<void>;
}

export const hasSimulator = (source: SourceTree): boolean => existsSync(join(source.dir, "simulator", "wrangler.toml"));

/** Builds and starts the simulator (when the tree has one) and the app pointed at it, on fresh state. */
export async function startAppStack(options: AppStackOptions): Promise<AppStack> {
  const { source, stateRoot, ports, secrets } = options;
  const buildRoot = join(stateRoot, "build");
  const appBundle = buildWorker(source.dir, join(source.dir, "wrangler.toml"), join(buildRoot, "app"), stateRoot);
  const withSim = hasSimulator(source);
  const simBundle = withSim ? buildWorker(source.dir, join(source.dir, "simulator", "wrangler.toml"), join(buildRoot, "simulator"), stateRoot) : undefined;

  const appPersist = join(stateRoot, "state-app");
  migrateLocalD1(source.dir, join(source.dir, "wrangler.toml"), appPersist, stateRoot);
  await options.beforeStart?.(appPersist);

  const appEnv = writeEnvFile(join(stateRoot, "app.env"), { ...secrets, ...options.appDevVars });
  const simUrl = `http://127.0.0.1:${ports.simulator}`;
  const appUrl = `http://127.0.0.1:${ports.app}`;
  const simulator = simBundle
    ? await startWorker({
        name: "simulator",
        cwd: join(source.dir, "simulator"),
        configPath: join(source.dir, "simulator", "wrangler.toml"),
        script: simBundle,
        port: ports.simulator,
        inspectorPort: ports.simulator + 10,
        persistTo: join(stateRoot, "state-simulator"),
        stateRoot,
        readyPath: "/__sim/requests?path=%5E%24",
        vars: {
          SIM_CLIENT_ID: secrets.PLUGGY_CLIENT_ID,
          SIM_CLIENT_SECRET: secrets.PLUGGY_CLIENT_SECRET,
          SIM_WEBHOOK_SECRET: signingKey(secrets),
          SIM_WEBHOOK_AUTH_TOKEN: secrets.PLUGGY_WEBHOOK_AUTH_TOKEN,
          SIM_APP_WEBHOOK_URL: `${appUrl}/api/banking/pluggy/webhook/`,
          // The bench and the reliability suite drive thousands of Pluggy calls a minute from one address:
          // far past Pluggy's per-IP limits, which would measure the simulator's throttle, not the app.
          SIM_RATE_LIMITS: "off",
        },
      })
    : undefined;
  let app: Instance;
  try {
    await options.beforeAppStart?.(simulator, appPersist);
    app = await startWorker({
      name: "app",
      cwd: source.dir,
      configPath: join(source.dir, "wrangler.toml"),
      script: appBundle,
      port: ports.app,
      inspectorPort: ports.app + 10,
      persistTo: appPersist,
      envFile: appEnv,
      stateRoot,
      readyPath: "/healthz",
      // Production's wrangler.toml lists no localhost origin; a local stack allows what `npm run dev` does.
      vars: { PLUGGY_API_URL: simUrl, ALLOWED_ORIGINS: `http://localhost:5173,${appUrl}`, ...options.appVars },
      extraArgs: ["--test-scheduled"],
    });
  } catch (error) {
    await simulator?.stop();
    throw error;
  }
  return {
    app,
    simulator,
    appPersist,
    async stop() {
      await Promise.all([app.stop(), simulator?.stop()]);
    },
  };
}

/** Starts the bench control Worker (bench/control-worker) on a persistence directory. */
export async function startControl(stateRoot: string, port: number, persistTo: string, name = "control"): Promise<Instance> {
  const dir = join(PROJECT_ROOT, "bench", "control-worker");
  return startWorker({
    name,
    cwd: dir,
    configPath: join(dir, "wrangler.toml"),
    port,
    inspectorPort: port + 10,
    persistTo,
    stateRoot,
    readyPath: "/healthz",
  });
}

/** Whether the tree under test keeps users' banking data in per-user ledgers (src/ledger/user-ledger.ts). */
export const hasLedger = (source: SourceTree): boolean => existsSync(join(source.dir, "src", "ledger", "user-ledger.ts"));

/**
 * Starts the bench ledger tool (bench/ledger-tool: the app's own UserLedger class behind a few bench
 * routes) with the app's wrangler.toml on a persistence directory, so it opens the app's ledger files.
 * Never while the app runs on the same directory. For a tree other than the working tree, the tool's
 * entry is copied into that tree so it imports that tree's ledger.
 */
export async function startLedgerTool(source: SourceTree, stateRoot: string, port: number, persistTo: string): Promise<Instance> {
  const ownEntry = join(PROJECT_ROOT, "bench", "ledger-tool", "src", "index.ts");
  const entry = join(source.dir, "bench", "ledger-tool", "src", "index.ts");
  if (source.dir !== PROJECT_ROOT) {
    mkdirSync(join(source.dir, "bench", "ledger-tool", "src"), { recursive: true });
    copyFileSync(ownEntry, entry);
  }
  return startWorker({
    name: "ledger-tool",
    cwd: source.dir,
    configPath: join(source.dir, "wrangler.toml"),
    entry,
    port,
    inspectorPort: port + 10,
    persistTo,
    stateRoot,
    readyPath: "/healthz",
  });
}

/** The SQLite file of one UserLedger (its id from the tool or `idFromName`) in a persistence directory. */
export function ledgerFile(persistTo: string, ledgerId: string): string {
  const root = join(persistTo, "v3", "do");
  const dirs = existsSync(root) ? readdirSync(root).filter((d) => d.endsWith("-UserLedger")) : [];
  if (dirs.length !== 1) throw new HarnessError(`expected one UserLedger directory in ${root}, found ${dirs.length}`);
  const file = join(root, dirs[0] ?? "", `${ledgerId}.sqlite`);
  if (!existsSync(file)) throw new HarnessError(`no ledger file ${file}`);
  return file;
}

/**
 * Places a byte copy of a ledger file as the control Worker's `LedgerCopy` of the same user (its id
 * from `GET /bench/ledger-copy-id`), before that object's first call. The source must be checkpointed
 * (seed-ledger.ts does), so the file alone is the whole database.
 */
export function placeLedgerCopy(fromFile: string, controlPersist: string, copyId: string): string {
  const dir = join(controlPersist, "v3", "do", "finance-hub-bench-control-LedgerCopy");
  mkdirSync(dir, { recursive: true });
  const target = join(dir, `${copyId}.sqlite`);
  for (const suffix of ["-wal", "-shm"]) rmSync(`${target}${suffix}`, { force: true });
  copyFileSync(fromFile, target);
  return target;
}
