/**
 * Child processes for the bench and the reliability suite: wrangler runs on the same Node as this
 * process (the project's pinned Node 22, whatever `node` the machine has), each child in its own
 * process group so that stopping it also stops the workerd it spawned, and every child is stopped
 * when this process exits, however it exits.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root (two levels above bench/lib). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const WRANGLER_JS = join(PROJECT_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

/** Raised when the harness itself cannot do its job (an instance does not start, a build fails). */
export class HarnessError extends Error {
  override name = "HarnessError";
}

/** Environment for every wrangler child: no telemetry, no prompts, no config watching, an isolated dev registry. */
export function wranglerEnv(stateRoot: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CI: "1",
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    WRANGLER_NO_SKILLS_UPDATE_PROMPTS: "true",
    WRANGLER_HIDE_BANNER: "true",
    WRANGLER_CI_DISABLE_CONFIG_WATCHING: "true",
    // Other engineers' `wrangler dev` sessions register in the default registry; ours must not see them.
    WRANGLER_REGISTRY_PATH: join(stateRoot, "dev-registry"),
    WRANGLER_LOG_PATH: join(stateRoot, "wrangler-logs"),
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    ...extra,
  };
}

/** Runs wrangler to completion; throws HarnessError with its output tail on failure. */
export function runWrangler(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): string {
  const result = spawnSync(process.execPath, [WRANGLER_JS, ...args], {
    cwd: options.cwd,
    env: options.env,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: options.timeoutMs ?? 180_000,
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  if (result.status !== 0) {
    throw new HarnessError(`wrangler ${args.slice(0, 3).join(" ")} failed (exit ${result.status ?? result.signal}):\n${output.slice(-3000)}`);
  }
  return output;
}

const live = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

process.on("exit", () => {
  for (const child of live) killGroup(child, "SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    for (const child of live) killGroup(child, "SIGKILL");
    process.exit(130);
  });
}

export interface Background {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Resolves when the child has exited (with its code or signal). */
  exited: Promise<string>;
  stop(): Promise<void>;
}

/** Starts a long-running child (own process group), its output appended to `logFile`. */
export function startBackground(name: string, command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string }): Background {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: "a" });
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  live.add(child);
  const exited = new Promise<string>((resolveExit) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolveExit(signal ?? String(code));
    });
  });
  return {
    name,
    child,
    logFile: options.logFile,
    exited,
    async stop() {
      if (!live.has(child)) return;
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
      // workerd may outlive wrangler for a moment; make sure the whole group is gone.
      killGroup(child, "SIGKILL");
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether `url` answers 2xx within two seconds (a local server is up). */
export async function answersOk(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
