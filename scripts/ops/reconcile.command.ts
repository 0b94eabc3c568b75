import { parseArgs } from "node:util";
import { api, CliError, EXIT, progress, resolveTarget, type Target } from "./api.ts";
import type { Command } from "./commands.ts";

const HELP = `usage: npm run ops -- reconcile [--item <item id>] [--wait] [--timeout <seconds>]

Queues a reconciliation with Pluggy (POST /api/admin/reconcile/): of one item with --item, else of every
active item (the least recently reconciled first, up to the API's per-call cap). Each item's local data is
brought back in line with Pluggy without any webhook; what had to change is counted in the metrics.

--wait polls GET /api/admin/metrics/ until as many items as were queued are done (or --timeout, default
120 s, passes), then prints what was healed: rows added, updated and removed. The counts include any other
reconciliation finishing meanwhile (the hourly cron).

common: --url <base> --token <admin jwt> (or FINANCE_HUB_URL / FINANCE_HUB_ADMIN_TOKEN)
exit codes: 0 ok, 1 failed or timed out, 2 usage, 3 unreachable, 4 the API answered an error (404: unknown item)`;

interface Reconciliation {
  runs: number;
  items: number;
  added: number;
  updated: number;
  removed: number;
}
interface Metrics {
  series: Array<{ bucket: string; reconciliation?: Reconciliation }>;
}

const ZERO: Reconciliation = { runs: 0, items: 0, added: 0, updated: 0, removed: 0 };
const KEYS = Object.keys(ZERO) as (keyof Reconciliation)[];

/** "YYYY-MM-DDTHH:00:00Z", the metrics API's hourly bucket label. */
const hourBucket = (at: Date) => `${at.toISOString().slice(0, 13)}:00:00Z`;

/**
 * Reconciliation counts in the hourly buckets from `since` on. Summing buckets (rather than reading the
 * window totals) keeps the difference exact when the 24 h window slides past an hour boundary mid-wait.
 */
async function countsSince(target: Target, since: string): Promise<Reconciliation> {
  const { data } = await api<{ data: Metrics }>(target, "GET", "/api/admin/metrics/?window=24h");
  const sum = { ...ZERO };
  for (const point of data.series) {
    if (point.bucket < since || !point.reconciliation) continue;
    for (const key of KEYS) sum[key] += point.reconciliation[key];
  }
  return sum;
}

const minus = (a: Reconciliation, b: Reconciliation): Reconciliation =>
  Object.fromEntries(KEYS.map((key) => [key, a[key] - b[key]])) as unknown as Reconciliation;

export const reconcileCommand: Command = {
  summary: "queue a reconciliation with Pluggy (--item <id>, --wait to see what was healed)",
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        item: { type: "string" },
        wait: { type: "boolean", default: false },
        timeout: { type: "string", default: "120" },
        url: { type: "string" },
        token: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help) return void console.log(HELP);
    if (positionals.length > 0) throw new CliError(`unexpected argument: ${positionals[0]}`, EXIT.usage);
    const timeoutSeconds = Number(values.timeout);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new CliError("--timeout must be a positive number of seconds", EXIT.usage);
    const target = await resolveTarget({ ...(values.url ? { url: values.url } : {}), ...(values.token ? { token: values.token } : {}) });

    const since = hourBucket(new Date());
    const baseline = values.wait ? await countsSince(target, since) : ZERO;
    const { data } = await api<{ data: { queued: number } }>(target, "POST", "/api/admin/reconcile/", values.item ? { item_id: values.item } : {});
    console.log(`queued ${data.queued} item(s) for reconciliation${values.item ? ` (item ${values.item})` : ""}`);
    if (!values.wait || data.queued === 0) {
      if (!values.wait && data.queued > 0) console.log("see what was healed with: npm run ops -- metrics   (or run this again with --wait)");
      return EXIT.ok;
    }

    const deadline = Date.now() + timeoutSeconds * 1000;
    let healed: Reconciliation;
    for (;;) {
      healed = minus(await countsSince(target, since), baseline);
      progress("reconciling", Math.min(healed.items, data.queued), data.queued);
      if (healed.items >= data.queued || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const done = healed.items >= data.queued;
    console.log(
      `${done ? "done" : `timed out after ${timeoutSeconds} s`}: ${Math.min(healed.items, data.queued)} of ${data.queued} item(s) reconciled; ` +
        `healed ${healed.added + healed.updated + healed.removed} row(s): added ${healed.added}, updated ${healed.updated}, removed ${healed.removed}`,
    );
    if (!done) console.log("items not done yet are still retrying (Pluggy failures back off) or failed permanently: check the Worker logs for item_id");
    return done ? EXIT.ok : EXIT.failed;
  },
};
