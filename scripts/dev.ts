/**
 * `npm run dev`: everything a new machine needs, with no Cloudflare or Pluggy account.
 *  1. creates .dev.vars from .dev.vars.example when missing (development-only values), and adds to an
 *     older .dev.vars the keys a newer version needs (see ensureDevVars), so no manual step is needed;
 *  2. applies D1 migrations to the local database and seeds the default category tree;
 *  3. starts the Pluggy simulator on :8788 when PLUGGY_API_URL points at it (the default);
 *  4. starts `wrangler dev` on :8787 (local D1, R2, Queues) and fires the sweeper cron every minute,
 *     since local dev has no cron scheduler of its own;
 *  5. serves the example frontend (examples/web) on :8789, whose origin the API allows (CORS).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { ensureDevVars, readDevVars } from "./lib/dev-vars.ts";
import { startExampleServer } from "./lib/example-server.ts";
import { simulatorDevArgs } from "./lib/simulator.ts";
import { defaultCategoriesSql } from "../src/banking/default-categories.ts";

// PORT / SIMULATOR_PORT / EXAMPLE_PORT / PERSIST_TO let several local instances run side by side (benchmarks, browser tests).
const APP_PORT = Number(process.env.PORT ?? 8787);
const SIMULATOR_PORT = Number(process.env.SIMULATOR_PORT ?? 8788);
const EXAMPLE_PORT = Number(process.env.EXAMPLE_PORT ?? 8789);
// wrangler's inspector ports (default: the port + 1000); set them to keep every port of an instance in a range.
const APP_INSPECTOR_PORT = Number(process.env.APP_INSPECTOR_PORT ?? APP_PORT + 1000);
const SIMULATOR_INSPECTOR_PORT = Number(process.env.SIMULATOR_INSPECTOR_PORT ?? SIMULATOR_PORT + 1000);
const PERSIST_TO = process.env.PERSIST_TO ?? ".wrangler/state";

/** Runs a setup step; `quiet` keeps its stdout (e.g. wrangler's per-statement JSON) unless it fails. */
function run(command: string, args: string[], options: { quiet?: boolean } = {}): void {
  const result = spawnSync(command, args, { stdio: options.quiet ? ["ignore", "pipe", "inherit"] : "inherit", encoding: "utf8" });
  if (result.status !== 0 && options.quiet && result.stdout) process.stdout.write(result.stdout);
  if (result.status !== 0) {
    const why = result.error ? result.error.message : `exit ${result.status ?? "signal"}`;
    console.error(`\n✗ ${command} ${args.join(" ")} failed (${why}); run it through \`npm run dev\` so the project's tools are on PATH`);
    process.exit(result.status ?? 1);
  }
}

const created = ensureDevVars();
if (created.created) console.log("• created .dev.vars from .dev.vars.example (development-only values)");
if (created.added.length > 0) console.log(`• added ${created.added.join(", ")} to .dev.vars (from .dev.vars.example)`);
const vars = readDevVars();

console.log("• applying D1 migrations to the local database");
run("wrangler", ["d1", "migrations", "apply", "DB", "--local", "--persist-to", PERSIST_TO]);

mkdirSync(".wrangler/tmp", { recursive: true });
writeFileSync(".wrangler/tmp/seed-categories.sql", defaultCategoriesSql(new Date().toISOString()));
console.log("• seeding the default category tree (idempotent)");
run("wrangler", ["d1", "execute", "DB", "--local", "--persist-to", PERSIST_TO, "--file", ".wrangler/tmp/seed-categories.sql"], { quiet: true });

const children: ChildProcess[] = [];
const pluggyUrl = vars.PLUGGY_API_URL ?? "";
const useSimulator = pluggyUrl === "" || /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?(\/|$)/.test(pluggyUrl);
const webhookSecret = (vars.PLUGGY_WEBHOOK_SECRET ?? "").split(",")[0]?.trim() ?? "";

if (useSimulator && existsSync("simulator/wrangler.toml")) {
  console.log(`• starting the Pluggy simulator on http://localhost:${SIMULATOR_PORT}`);
  children.push(
    spawn(
      "wrangler",
      simulatorDevArgs(SIMULATOR_PORT, {
        clientId: vars.PLUGGY_CLIENT_ID ?? "sim-client-id",
        clientSecret: vars.PLUGGY_CLIENT_SECRET ?? "sim-client-secret",
        webhookSecret,
        webhookAuthToken: vars.PLUGGY_WEBHOOK_AUTH_TOKEN ?? "",
        appWebhookUrl: `http://localhost:${APP_PORT}/api/banking/pluggy/webhook/`,
      }, SIMULATOR_INSPECTOR_PORT),
      { stdio: ["ignore", "inherit", "inherit"] },
    ),
  );
}

console.log(`• starting the API on http://localhost:${APP_PORT} (docs: /docs, console: /admin)`);
// With the simulator, Pluggy Connect is the simulator's page too: connect_url points at its /connect.
const extraArgs = useSimulator
  ? ["--var", `PLUGGY_API_URL:http://localhost:${SIMULATOR_PORT}`, "--var", `PLUGGY_CONNECT_URL:http://localhost:${SIMULATOR_PORT}/connect`]
  : [];
// Browser origins allowed locally (CORS, oauth_redirect_uri): .dev.vars' ALLOWED_ORIGINS (else a Vite dev
// server's :5173 and the API itself) plus the example frontend. wrangler.toml keeps production's.
const EXAMPLE_ORIGIN = `http://localhost:${EXAMPLE_PORT}`;
const localOrigins = new Set([...(vars.ALLOWED_ORIGINS ?? `http://localhost:5173,http://localhost:${APP_PORT}`).split(","), EXAMPLE_ORIGIN].map((o) => o.trim()).filter(Boolean));
extraArgs.push("--var", `ALLOWED_ORIGINS:${[...localOrigins].join(",")}`);
children.push(
  spawn(
    "wrangler",
    ["dev", "--port", String(APP_PORT), "--inspector-port", String(APP_INSPECTOR_PORT), "--persist-to", PERSIST_TO, "--test-scheduled", ...extraArgs],
    { stdio: "inherit" },
  ),
);

const example = await startExampleServer({ port: EXAMPLE_PORT, apiUrl: `http://localhost:${APP_PORT}`, jwtSecret: vars.AUTH_JWT_SECRET ?? "" }).catch((error: unknown) => {
  console.error(`\n✗ the example frontend could not start on :${EXAMPLE_PORT} (${error instanceof Error ? error.message : String(error)}); set EXAMPLE_PORT`);
  return undefined;
});
if (example) console.log(`• example frontend on ${EXAMPLE_ORIGIN} (sign in, connect a sandbox bank, recategorize)`);

// Local dev has no cron scheduler: fire the frequent (sweeper) cron every minute once the API is up.
const cronTimer = setInterval(() => {
  fetch(`http://localhost:${APP_PORT}/__scheduled?cron=${encodeURIComponent("*/5 * * * *")}`).catch(() => undefined);
}, 60_000);

const stop = (code: number) => {
  clearInterval(cronTimer);
  void example?.close();
  for (const child of children) child.kill("SIGINT");
  process.exit(code);
};
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
for (const child of children) child.on("exit", (code) => stop(code ?? 0));
