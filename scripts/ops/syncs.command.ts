import { parseArgs } from "node:util";
import { api, CliError, EXIT, progress, resolveTarget, table, type Target } from "./api.ts";
import type { Command } from "./commands.ts";

const HELP = `usage: npm run ops -- syncs <list|retry|redrive> [options]

Category sync jobs (the outbox that pushes users' category changes to Pluggy).

  syncs list [--user <user-id>] [--status pending|synced|failed|dead] [--limit n] [--cursor c] [--all] [--json]
      Without --user: the jobs that need an operator, across users (failed, dead, pending for over 10
      minutes). With --user: that user's jobs in any status (each user's jobs live in their own ledger).
      Most recently changed first. --all follows the cursor to the end.
  syncs retry <job-id> [--user <user-id>]
      Put one job back to pending and queue it now (--user for a job not in the operator list, e.g. synced).
  syncs redrive [--status dead|failed] [--limit n] [--json]
      Re-queue up to n jobs (default 100) in that status (default dead), oldest first, with progress.

common: --url <base> --token <admin jwt> (or FINANCE_HUB_URL / FINANCE_HUB_ADMIN_TOKEN)
exit codes: 0 ok, 1 failed, 2 usage, 3 unreachable, 4 the API answered an error`;

const STATUSES = ["pending", "synced", "failed", "dead"] as const;
const REDRIVE_CHUNK = 100;

interface SyncRow {
  id: string;
  transaction_id: string;
  pluggy_transaction_id: string;
  pluggy_category_id: string | null;
  status: string;
  user_id?: string;
  attempts: number;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}
interface SyncPage {
  data: SyncRow[];
  next_cursor: string | null;
}

function positiveInt(value: string | undefined, flag: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new CliError(`${flag} must be a whole number from 1 to ${max}`, EXIT.usage);
  return n;
}

const clip = (text: string | null, width: number) => (text === null ? "" : text.length > width ? `${text.slice(0, width - 1)}…` : text);

async function list(target: Target, values: { user?: string; status?: string; limit?: string; cursor?: string; all?: boolean; json?: boolean }): Promise<number> {
  if (values.status !== undefined && !(STATUSES as readonly string[]).includes(values.status)) {
    throw new CliError(`--status must be one of ${STATUSES.join(", ")}`, EXIT.usage);
  }
  const limit = positiveInt(values.limit, "--limit", 200) ?? 50;
  const rows: SyncRow[] = [];
  let cursor = values.cursor ?? null;
  let next: string | null;
  do {
    const query = new URLSearchParams({
      limit: String(limit),
      ...(values.user ? { user_id: values.user } : {}),
      ...(values.status ? { status: values.status } : {}),
      ...(cursor ? { cursor } : {}),
    });
    const page = await api<SyncPage>(target, "GET", `/api/admin/category-syncs/?${query.toString()}`);
    rows.push(...page.data);
    next = page.next_cursor;
    cursor = next;
  } while (values.all && cursor);
  if (values.json) {
    console.log(JSON.stringify({ data: rows, next_cursor: next }, null, 2));
    return EXIT.ok;
  }
  console.log(
    table(
      rows.map((row) => ({
        id: row.id,
        user: row.user_id ?? values.user ?? "",
        status: row.status,
        attempts: row.attempts,
        transaction: row.transaction_id,
        pluggy_category: row.pluggy_category_id,
        updated_at: row.updated_at,
        last_error: clip(row.last_error, 60),
      })),
    ),
  );
  if (next) console.log(`\nmore: npm run ops -- syncs list${values.user ? ` --user ${values.user}` : ""}${values.status ? ` --status ${values.status}` : ""} --cursor ${next}   (or --all)`);
  return EXIT.ok;
}

async function redrive(target: Target, values: { status?: string; limit?: string; json?: boolean }): Promise<number> {
  const status = values.status ?? "dead";
  if (status !== "dead" && status !== "failed") throw new CliError("--status must be dead or failed", EXIT.usage);
  const limit = positiveInt(values.limit, "--limit", 100_000) ?? 100;
  // Count what there is to do (up to the limit) so progress has a total.
  let total = 0;
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ status, limit: "200", ...(cursor ? { cursor } : {}) });
    const page: SyncPage = await api<SyncPage>(target, "GET", `/api/admin/category-syncs/?${query.toString()}`);
    total += page.data.length;
    cursor = page.next_cursor;
  } while (cursor && total < limit);
  total = Math.min(total, limit);
  let queued = 0;
  progress(`redriving ${status}`, 0, total);
  while (queued < total) {
    const chunk = Math.min(REDRIVE_CHUNK, total - queued);
    const answer = await api<{ data: { queued: number } }>(target, "POST", "/api/admin/category-syncs/redrive/", { status, limit: chunk });
    if (answer.data.queued === 0) break;
    queued += answer.data.queued;
    progress(`redriving ${status}`, Math.min(queued, total), total);
  }
  if (values.json) console.log(JSON.stringify({ data: { status, queued } }));
  else console.log(`queued ${queued} ${status} job(s)${queued === 0 ? " (nothing to redrive)" : ""}`);
  return EXIT.ok;
}

export const syncsCommand: Command = {
  summary: "category sync jobs: list, retry <id>, redrive",
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        user: { type: "string" },
        status: { type: "string" },
        limit: { type: "string" },
        cursor: { type: "string" },
        all: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        url: { type: "string" },
        token: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    const [action, ...rest] = positionals;
    if (values.help) return void console.log(HELP);
    if (!action) throw new CliError(`missing subcommand\n\n${HELP}`, EXIT.usage);
    const target = await resolveTarget({ ...(values.url ? { url: values.url } : {}), ...(values.token ? { token: values.token } : {}) });
    if (action === "list") {
      if (rest.length > 0) throw new CliError(`unexpected argument: ${rest[0]}`, EXIT.usage);
      return list(target, values);
    }
    if (action === "retry") {
      const [id, extra] = rest;
      if (!id || extra) throw new CliError("usage: npm run ops -- syncs retry <job-id>", EXIT.usage);
      const query = values.user ? `?${new URLSearchParams({ user_id: values.user }).toString()}` : "";
      const answer = await api<{ data: { queued: number } }>(target, "POST", `/api/admin/category-syncs/${encodeURIComponent(id)}/retry/${query}`).catch((error: unknown) => {
        // Without --user only jobs in the operator list (failed, dead, long pending) are found.
        if (!values.user && error instanceof CliError && / → 404 /.test(error.message)) {
          throw new CliError(`${error.message}\nnot in the operator list; for another job name its owner: npm run ops -- syncs retry ${id} --user <user-id>`, error.exitCode);
        }
        throw error;
      });
      console.log(values.json ? JSON.stringify(answer) : `queued ${answer.data.queued} job (${id})`);
      return EXIT.ok;
    }
    if (action === "redrive") {
      if (rest.length > 0) throw new CliError(`unexpected argument: ${rest[0]}`, EXIT.usage);
      return redrive(target, values);
    }
    throw new CliError(`unknown subcommand: ${action}\n\n${HELP}`, EXIT.usage);
  },
};
