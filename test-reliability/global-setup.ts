/**
 * The reliability suite runs against the real thing: the app and the Pluggy simulator on local
 * `wrangler dev` (real HTTP, real local D1/R2/Queues with their batching, retries, delays and
 * dead-letter queues), on their own ports and a fresh state directory, stopped afterwards.
 *
 * Production settings except three timing vars, so retries and the dead-letter path fit in minutes:
 * the category-sync send delay (5 s → 1 s) and its retry backoff (base 5 s → 1 s, cap 300 s → 2 s).
 * The queues' max_retries, batch sizes and everything else come from wrangler.toml as they are.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { freshSecrets, prepareSource, seedLocalD1, startAppStack, type AppStack } from "../bench/lib/instances.ts";
import type { StackInfo } from "./support/stack.ts";

const APP_PORT = Number(process.env.RELIABILITY_PORT ?? 8884);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stateRoot = mkdtempSync(join(tmpdir(), "finance-hub-reliability-"));
  const source = prepareSource(process.env.RELIABILITY_SOURCE ?? "worktree", stateRoot);
  const secrets = freshSecrets();
  let stack: AppStack | undefined;
  try {
    stack = await startAppStack({
      source,
      stateRoot,
      ports: { app: APP_PORT, simulator: APP_PORT + 1, control: APP_PORT + 2 },
      secrets,
      appVars: { CATEGORY_SYNC_SEND_DELAY_SECONDS: "1", CATEGORY_SYNC_RETRY_BASE_SECONDS: "1", CATEGORY_SYNC_RETRY_CAP_SECONDS: "2" },
      beforeStart: async (appPersist) => {
        await seedLocalD1(source, appPersist, stateRoot, { rows: 0, users: 0, largest: 0 });
      },
    });
  } catch (error) {
    rmSync(stateRoot, { recursive: true, force: true });
    throw error;
  }
  if (!stack.simulator) throw new Error("the reliability suite needs the Pluggy simulator (simulator/wrangler.toml)");
  const info: StackInfo = { appUrl: stack.app.url, simUrl: stack.simulator.url, appPersist: stack.appPersist, secrets, source: source.label };
  project.provide("stack", info);
  console.log(`reliability: ${source.label}; app ${info.appUrl}, simulator ${info.simUrl}, state ${stateRoot}`);
  const running = stack;
  return async () => {
    await running.stop();
    if (!process.env.RELIABILITY_KEEP_STATE) rmSync(stateRoot, { recursive: true, force: true });
  };
}
