import { parseArgs } from "node:util";
import { api, CliError, EXIT, resolveTarget, table } from "./api.ts";
import type { Command } from "./commands.ts";

const HELP = `usage: npm run ops -- metrics [--window 24h|7d|30d] [--json]

Category sync, webhook and reconciliation counts over the window (default 24h), then the hourly (24h) or
daily (7d, 30d) series. --json prints the API's answer as is.

common: --url <base> --token <admin jwt> (or FINANCE_HUB_URL / FINANCE_HUB_ADMIN_TOKEN)
exit codes: 0 ok, 1 failed, 2 usage, 3 unreachable, 4 the API answered an error`;

type Counts = Record<string, number>;
interface Metrics {
  window: string;
  category_sync: Counts & { success_rate: number | null };
  webhooks: Counts;
  reconciliation?: Counts;
  series: Array<{ bucket: string; category_sync: Counts; webhooks: Counts; reconciliation?: Counts }>;
}

const percent = (rate: number | null) => (rate === null ? "-" : `${(rate * 100).toFixed(1)}%`);

export const metricsCommand: Command = {
  summary: "category sync / webhook / reconciliation counts (--window 24h|7d|30d)",
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        window: { type: "string", default: "24h" },
        json: { type: "boolean", default: false },
        url: { type: "string" },
        token: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help) return void console.log(HELP);
    if (positionals.length > 0) throw new CliError(`unexpected argument: ${positionals[0]}`, EXIT.usage);
    if (!["24h", "7d", "30d"].includes(values.window)) throw new CliError("--window must be 24h, 7d or 30d", EXIT.usage);
    const target = await resolveTarget({ ...(values.url ? { url: values.url } : {}), ...(values.token ? { token: values.token } : {}) });
    const { data } = await api<{ data: Metrics }>(target, "GET", `/api/admin/metrics/?window=${values.window}`);
    if (values.json) {
      console.log(JSON.stringify(data, null, 2));
      return EXIT.ok;
    }
    const cs = data.category_sync;
    const wh = data.webhooks;
    const rc = data.reconciliation;
    console.log(`window: ${data.window}\n`);
    console.log(
      table([
        { area: "category sync", counts: `succeeded ${cs.succeeded}  failed ${cs.failed}  dead ${cs.dead}  skipped ${cs.skipped}  pending now ${cs.pending}  success ${percent(cs.success_rate)}` },
        {
          area: "webhooks",
          counts: `accepted ${wh.accepted}  unsigned ${wh.unsigned ?? 0}  duplicate ${wh.duplicate}  rejected ${wh.rejected}  processed ${wh.processed}  failed ${wh.failed}  dead ${wh.dead}`,
        },
        ...(rc ? [{ area: "reconciliation", counts: `runs ${rc.runs}  items ${rc.items}  added ${rc.added}  updated ${rc.updated}  removed ${rc.removed}` }] : []),
      ]),
    );
    console.log("");
    console.log(
      table(
        data.series.map((point) => ({
          bucket: data.window === "24h" ? point.bucket.slice(0, 16).replace("T", " ") : point.bucket.slice(0, 10),
          "sync ok": point.category_sync.succeeded,
          "sync failed": point.category_sync.failed,
          "sync dead": point.category_sync.dead,
          skipped: point.category_sync.skipped,
          "wh accepted": point.webhooks.accepted,
          "wh processed": point.webhooks.processed,
          "wh failed": point.webhooks.failed,
          "wh dead": point.webhooks.dead,
        })),
      ),
    );
    return EXIT.ok;
  },
};
