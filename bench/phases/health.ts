/**
 * Context figures: `GET /healthz` (no storage) on the app and on the control Worker, with the same
 * load generator and concurrency as intake, so the cost of the HTTP path alone is visible.
 */
import type { BenchContext } from "../lib/context.ts";
import { runLoad } from "../lib/load.ts";
import { fixed, summarize } from "../lib/report.ts";

export const CONCURRENCY = 16;
const COUNT = 2_000;

export async function health(ctx: BenchContext): Promise<void> {
  for (const [name, base] of [["app", ctx.app.url], ["control", ctx.control.url]] as const) {
    await runLoad({ baseUrl: base, concurrency: CONCURRENCY, count: 300, maxMs: 30_000, request: () => ({ method: "GET", path: "/healthz" }) });
    const result = await runLoad({ baseUrl: base, concurrency: CONCURRENCY, count: COUNT, maxMs: 60_000, request: () => ({ method: "GET", path: "/healthz" }) });
    const ok = result.statuses.get(200) ?? 0;
    ctx.report.row("healthz", `${name} throughput`, `${fixed((ok / result.wallMs) * 1000, 0)} req/s`, `${ok}/${result.sent} ok, concurrency ${CONCURRENCY}`);
    ctx.report.latency("healthz", name, summarize(result.latencies));
  }
}
