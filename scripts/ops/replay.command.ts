import { parseArgs } from "node:util";
import { api, CliError, EXIT, progress, resolveTarget, type Target } from "./api.ts";
import type { Command } from "./commands.ts";

const HELP = `usage: npm run ops -- replay <event_id>
       npm run ops -- replay [--event <type>] [--from <time>] [--to <time>] [--status <status>] [--item <id>]
                             [--limit n] [--dry-run] [--json]

Re-processes stored Pluggy webhook events from their archived bytes (checked against body_sha256).

  replay <event_id>
      Replay one event. 404 unknown, 409 rejected / being processed / corrupt copy, 410 body purged.
  replay --event transactions/created --from 2026-11-28T00:00:00Z --to 2026-11-29 --status failed
      Replay every matching event, oldest first, in calls of up to 1000 with progress. At least one
      filter is required. --limit caps the total (default: everything that matches).
      --dry-run only counts and lists what would be replayed; nothing is queued.

filters:
  --event <type>     Pluggy event, e.g. item/updated, transactions/created
  --status <status>  received | processing | processed | failed | dead | ignored
  --item <id>        Pluggy item id
  --from <time>      received at or after: RFC 3339, YYYY-MM-DD (UTC midnight) or a relative age (30m, 6h, 7d)
  --to <time>        received before (same formats)

common: --url <base> --token <admin jwt> (or FINANCE_HUB_URL / FINANCE_HUB_ADMIN_TOKEN)
exit codes: 0 ok, 1 failed, 2 usage, 3 unreachable, 4 the API answered an error`;

const STATUSES = ["received", "processing", "processed", "failed", "dead", "ignored"] as const;
const PAGE = 1000;

interface BulkReplayResult {
  matched: number;
  queued: number;
  dry_run: boolean;
  event_ids: string[];
  next_cursor: string | null;
}

/** RFC 3339, a date, or a relative age ("30m", "6h", "7d") → an RFC 3339 UTC instant. */
export function parseTime(value: string, flag: string, now: Date = new Date()): string {
  const relative = /^(\d+)\s*([mhd])$/i.exec(value.trim());
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[(relative[2] ?? "h").toLowerCase() as "m" | "h" | "d"];
    return new Date(now.getTime() - Number(relative[1]) * unit).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${value}T00:00:00.000Z`;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(value) && Number.isFinite(Date.parse(value))) {
    return new Date(value).toISOString();
  }
  throw new CliError(`${flag}: expected an RFC 3339 instant (2026-11-29T12:00:00Z), a date (2026-11-29) or an age (30m, 6h, 7d), got "${value}"`, EXIT.usage);
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag} must be a whole number ≥ 1`, EXIT.usage);
  return n;
}

interface BulkOptions {
  event?: string | undefined;
  status?: string | undefined;
  item?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  limit?: string | undefined;
  "dry-run"?: boolean | undefined;
  json?: boolean | undefined;
}

async function replayOne(target: Target, eventId: string, json: boolean): Promise<number> {
  const answer = await api<{ data: { event_id: string; status: string } }>(target, "POST", `/api/admin/webhook-events/${encodeURIComponent(eventId)}/replay/`);
  console.log(json ? JSON.stringify(answer) : `queued ${answer.data.event_id}`);
  return EXIT.ok;
}

async function replayMany(target: Target, options: BulkOptions): Promise<number> {
  if (options.status !== undefined && !(STATUSES as readonly string[]).includes(options.status)) {
    throw new CliError(`--status must be one of ${STATUSES.join(", ")}`, EXIT.usage);
  }
  const filter = {
    ...(options.event ? { event: options.event } : {}),
    ...(options.status ? { status: options.status } : {}),
    ...(options.item ? { item_id: options.item } : {}),
    ...(options.from ? { received_from: parseTime(options.from, "--from") } : {}),
    ...(options.to ? { received_to: parseTime(options.to, "--to") } : {}),
  };
  if (Object.keys(filter).length === 0) throw new CliError(`give at least one filter (--event, --status, --item, --from, --to) or an event id\n\n${HELP}`, EXIT.usage);
  const cap = positiveInt(options.limit, "--limit") ?? Number.POSITIVE_INFINITY;
  const dryRun = options["dry-run"] === true;
  const call = (limit: number, cursor: string | null) =>
    api<{ data: BulkReplayResult }>(target, "POST", "/api/admin/webhook-events/replay/", { ...filter, limit, dry_run: dryRun, ...(cursor ? { cursor } : {}) });

  const eventIds: string[] = [];
  let total = 0;
  let queued = 0;
  let cursor: string | null = null;
  let first = true;
  do {
    const remaining = first ? Math.min(PAGE, cap) : Math.min(PAGE, total - eventIds.length);
    if (remaining <= 0) break;
    const { data }: { data: BulkReplayResult } = await call(remaining, cursor);
    if (first) {
      // `matched` counts every replayable match from the start: the total of this run (capped by --limit).
      total = Math.min(data.matched, cap);
      first = false;
      if (!dryRun) progress("replaying", 0, total);
    }
    eventIds.push(...data.event_ids);
    queued += data.queued;
    if (!dryRun) progress("replaying", Math.min(queued, total), total);
    else if (!options.json && process.stderr.isTTY) process.stderr.write(`\rcounted ${eventIds.length}/${total}`);
    cursor = data.next_cursor;
    if (data.event_ids.length === 0) break;
  } while (cursor && eventIds.length < total);
  if (dryRun && !options.json && process.stderr.isTTY) process.stderr.write("\n");

  if (options.json) {
    console.log(JSON.stringify({ data: { matched: total, queued, dry_run: dryRun, event_ids: eventIds } }, null, 2));
    return EXIT.ok;
  }
  if (dryRun) {
    console.log(`dry run: ${total} event(s) would be replayed${total > 0 ? ":" : ""}`);
    for (const id of eventIds) console.log(`  ${id}`);
    return EXIT.ok;
  }
  console.log(`queued ${queued} of ${total} matching event(s) for replay${queued < total ? " (the rest changed state meanwhile or are being processed)" : ""}`);
  return EXIT.ok;
}

export const replayCommand: Command = {
  summary: "replay webhook events: one by id, or by filter (--event, --from, --to, --status, --dry-run)",
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        event: { type: "string" },
        status: { type: "string" },
        item: { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        limit: { type: "string" },
        "dry-run": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        url: { type: "string" },
        token: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help) return void console.log(HELP);
    const [eventId, extra] = positionals;
    if (extra) throw new CliError(`unexpected argument: ${extra}\n\n${HELP}`, EXIT.usage);
    const filtered = [values.event, values.status, values.item, values.from, values.to, values.limit].some((v) => v !== undefined) || values["dry-run"];
    if (eventId && filtered) throw new CliError("give either an event id or filters, not both", EXIT.usage);
    if (!eventId) {
      // Validate everything before touching the network.
      if (values.from) parseTime(values.from, "--from");
      if (values.to) parseTime(values.to, "--to");
      positiveInt(values.limit, "--limit");
    }
    const target = await resolveTarget({ ...(values.url ? { url: values.url } : {}), ...(values.token ? { token: values.token } : {}) });
    return eventId ? replayOne(target, eventId, values.json) : replayMany(target, values);
  },
};
