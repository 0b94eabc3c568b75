/**
 * The SDK conformance suite talks to the Pluggy simulator as a new user would: `wrangler dev` of
 * simulator/wrangler.toml started with exactly the arguments `npm run dev` uses (scripts/lib/simulator.ts),
 * on its own port (SDK_TEST_PORT, default 8897) with fresh keys, stopped afterwards. No app runs, so the
 * simulator delivers no webhooks on its own.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { answersOk as answers, PROJECT_ROOT, sleep, startBackground, WRANGLER_JS, wranglerEnv } from "../bench/lib/proc.ts";
import { simulatorDevArgs } from "../scripts/lib/simulator.ts";
import type { SdkSimulator } from "./support.ts";

const PORT = Number(process.env.SDK_TEST_PORT ?? 8897);
const READY_TIMEOUT_MS = 120_000;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = `http://localhost:${PORT}`;
  if (await answers(`${url}/__sim/config`)) throw new Error(`something already serves ${url}; stop it or set SDK_TEST_PORT`);
  const stateRoot = mkdtempSync(join(tmpdir(), "finance-hub-sdk-"));
  const simulator: SdkSimulator = { url, clientId: "sim-client-id", clientSecret: `sdk-suite-${randomBytes(8).toString("hex")}` };
  const args = simulatorDevArgs(PORT, { clientId: simulator.clientId, clientSecret: simulator.clientSecret, webhookSecret: "", webhookAuthToken: "", appWebhookUrl: "" });
  const proc = startBackground("simulator", process.execPath, [WRANGLER_JS, ...args, "--persist-to", join(stateRoot, "state")], {
    cwd: PROJECT_ROOT,
    env: wranglerEnv(stateRoot),
    logFile: join(stateRoot, "simulator.log"),
  });
  let exited: string | undefined;
  void proc.exited.then((code) => (exited = code));
  const stop = async () => {
    await proc.stop();
    rmSync(stateRoot, { recursive: true, force: true });
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await answers(`${url}/__sim/config`))) {
    if (exited !== undefined || Date.now() > deadline) {
      const tail = readFileSync(proc.logFile, "utf8").slice(-3000);
      await stop();
      throw new Error(`the simulator did not come up on ${url} (${exited === undefined ? "timed out" : `exited ${exited}`}); log tail:\n${tail}`);
    }
    await sleep(250);
  }
  project.provide("pluggySimulator", simulator);
  return stop;
}
