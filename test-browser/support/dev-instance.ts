/**
 * A throwaway `npm run dev` for the browser tests: `node scripts/dev.ts` on its own ports with a fresh
 * persistence directory, so the tests see exactly the app a developer runs (migrations, seeded
 * categories, the Pluggy simulator) and never share state with anyone's running instance.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readDevVars } from "../../scripts/lib/dev-vars.ts";
import { devToken } from "../../scripts/lib/jwt.ts";
import { answersOk as isUp } from "../../bench/lib/proc.ts";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface DevInstance {
  baseUrl: string;
  simulatorUrl: string;
  /** The example frontend (examples/web) that `npm run dev` serves. */
  exampleUrl: string;
  logFile: string;
  /** A JWT signed with the instance's AUTH_JWT_SECRET (from .dev.vars). */
  token(sub: string, options?: { admin?: boolean; ttlSeconds?: number }): Promise<string>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Starts the instance and waits until the API's /healthz and the simulator answer. Fails fast (with
 * the log's tail) when a port is taken or the process exits early.
 */
export async function startDevInstance(options: { port: number; simulatorPort: number; examplePort: number; logDir: string; readyTimeoutMs?: number }): Promise<DevInstance> {
  const baseUrl = `http://localhost:${options.port}`;
  const simulatorUrl = `http://localhost:${options.simulatorPort}`;
  const exampleUrl = `http://localhost:${options.examplePort}`;
  if ((await isUp(`${baseUrl}/healthz`)) || (await isUp(`${simulatorUrl}/__sim/config`)) || (await isUp(exampleUrl))) {
    throw new Error(`port ${options.port}, ${options.simulatorPort} or ${options.examplePort} is already serving; stop that instance first`);
  }
  const stateRoot = mkdtempSync(join(tmpdir(), "finance-hub-browser-"));
  mkdirSync(options.logDir, { recursive: true });
  const logFile = join(options.logDir, "dev-instance.log");
  const log = createWriteStream(logFile, { flags: "w" });
  const child = spawn(process.execPath, ["scripts/dev.ts"], {
    cwd: PROJECT_ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PATH: [join(PROJECT_ROOT, "node_modules", ".bin"), process.env.PATH ?? ""].join(delimiter),
      PORT: String(options.port),
      SIMULATOR_PORT: String(options.simulatorPort),
      EXAMPLE_PORT: String(options.examplePort),
      PERSIST_TO: join(stateRoot, "state"),
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_SEND_ERROR_REPORTS: "false",
      WRANGLER_HIDE_BANNER: "true",
      // Other people's `wrangler dev` sessions register in the default registry; this one must not see them.
      WRANGLER_REGISTRY_PATH: join(stateRoot, "dev-registry"),
      WRANGLER_LOG_PATH: join(stateRoot, "wrangler-logs"),
      NO_COLOR: "1",
      FORCE_COLOR: "0",
    },
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exitedWith: string | undefined;
  const exited = new Promise<void>((done) =>
    child.once("exit", (code, signal) => {
      exitedWith = signal ?? String(code);
      done();
    }),
  );
  const cleanup = () => killGroup(child, "SIGKILL");
  process.once("exit", cleanup);

  const stop = async () => {
    if (exitedWith === undefined) {
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    // workerd may outlive wrangler for a moment; make sure the whole group is gone.
    killGroup(child, "SIGKILL");
    process.off("exit", cleanup);
    log.end();
    rmSync(stateRoot, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
  while (!((await isUp(`${baseUrl}/healthz`)) && (await isUp(`${simulatorUrl}/__sim/config`)) && (await isUp(exampleUrl)))) {
    if (exitedWith !== undefined || Date.now() > deadline) {
      await stop();
      const tail = readFileSync(logFile, "utf8").slice(-3000);
      throw new Error(`dev instance did not come up (${exitedWith ? `exited ${exitedWith}` : "timed out"}); log tail:\n${tail}`);
    }
    await sleep(500);
  }

  const secret = readDevVars(join(PROJECT_ROOT, ".dev.vars")).AUTH_JWT_SECRET;
  if (!secret) {
    await stop();
    throw new Error(".dev.vars has no AUTH_JWT_SECRET");
  }
  return {
    baseUrl,
    simulatorUrl,
    exampleUrl,
    logFile,
    token: (sub, tokenOptions = {}) => devToken(secret, sub, tokenOptions),
    stop,
  };
}
