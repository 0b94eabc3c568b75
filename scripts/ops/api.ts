import { readDevVars } from "../lib/dev-vars.ts";
import { devToken } from "../lib/jwt.ts";

/** Exit codes scripts can trust. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, apiError: 4 } as const;

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.failed) {
    super(message);
    this.exitCode = exitCode;
  }
}

export interface Target {
  url: string;
  token: string;
}

/**
 * Where the CLI points: `--url`/`--token`, else FINANCE_HUB_URL / FINANCE_HUB_ADMIN_TOKEN, else the
 * local `npm run dev` instance with an admin token minted from .dev.vars.
 */
export async function resolveTarget(flags: { url?: string; token?: string }): Promise<Target> {
  const url = (flags.url ?? process.env.FINANCE_HUB_URL ?? "http://localhost:8787").replace(/\/+$/, "");
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new CliError(`not an http(s) URL: ${url} (use --url https://host or FINANCE_HUB_URL)`, EXIT.usage);
  }
  let token = flags.token ?? process.env.FINANCE_HUB_ADMIN_TOKEN;
  if (!token) {
    const secret = process.env.AUTH_JWT_SECRET ?? readDevVars().AUTH_JWT_SECRET;
    if (!secret) {
      throw new CliError("no admin token: pass --token, set FINANCE_HUB_ADMIN_TOKEN, or run locally with .dev.vars", EXIT.usage);
    }
    token = await devToken(secret, "ops-cli", { admin: true, ttlSeconds: 3600 });
  }
  return { url, token };
}

/** Calls the admin API; non-2xx answers become a CliError quoting the contract's error envelope. */
export async function api<T = unknown>(target: Target, method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${target.token}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    throw new CliError(`cannot reach ${target.url} (${error instanceof Error ? error.message : String(error)}). Is it running? (npm run dev)`, EXIT.unreachable);
  }
  const text = await response.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: reported below
  }
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string; request_id?: string } } | undefined)?.error;
    const detail = error ? `${error.code}: ${error.message} (request ${error.request_id})` : text.slice(0, 200);
    throw new CliError(`${method} ${path} → ${response.status} ${detail}`, EXIT.apiError);
  }
  return json as T;
}

/** A one-line progress indicator on stderr (a TTY gets an updating line; a pipe gets none). */
export function progress(label: string, done: number, total: number): void {
  if (!process.stderr.isTTY) return;
  const width = 24;
  const filled = total > 0 ? Math.round((done / total) * width) : width;
  process.stderr.write(`\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total}`);
  if (done >= total) process.stderr.write("\n");
}

/** Prints rows as an aligned table. */
export function table(rows: Array<Record<string, string | number | null | undefined>>): string {
  if (rows.length === 0) return "(none)";
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => String(row[column] ?? "").length)));
  const line = (values: string[]) => values.map((value, i) => value.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map((row) => line(columns.map((c) => String(row[c] ?? ""))))].join("\n");
}
