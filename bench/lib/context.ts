/**
 * What every bench phase gets: the running instances, tokens, the report, and small HTTP helpers.
 */
import { createHmac } from "node:crypto";
import { devToken } from "../../scripts/lib/jwt.ts";
import type { Instance, Secrets, SourceTree } from "./instances.ts";
import type { Report } from "./report.ts";
import type { LedgerSetup } from "./ledger.ts";
import type { ReplayCorpus } from "../phases/replay.ts";

export interface BenchContext {
  source: SourceTree;
  secrets: Secrets;
  app: Instance;
  simulator: Instance | undefined;
  control: Instance;
  report: Report;
  /** Largest seeded user and how many rows its ledger has (pagination). */
  seeded: { largestUser: string; largestRows: number; rows: number; users: number } | undefined;
  /** Filled by phases for later ones. */
  shared: {
    /** Setup: the archived events the replay phase replays (spread over users, and one user's burst). */
    replayCorpus?: ReplayCorpus;
    /** Setup: ledgers written before the app started (largest user, ledger bytes). */
    ledgers?: LedgerSetup;
    /** Setup: the catalog's page growth for users with two items each (scratch copy of the catalog). */
    catalogBytes?: { users: number; itemsPerUser: number; growth: number; rows: number; distinctUsers: number; tablesWithUserId: string[] };
    /** Initial sync: the user and item with 10,000 transactions (category sync uses them). */
    syncedItem?: { userId: string; itemId: string };
  };
  log(line: string): void;
}

/** Raised when something the phase needs is not in the app yet (a route answering 404, no simulator). */
export class NotMeasurable extends Error {
  override name = "NotMeasurable";
}

export const bearer = async (secrets: Secrets, sub: string, admin = false): Promise<Record<string, string>> => ({
  Authorization: `Bearer ${await devToken(secrets.AUTH_JWT_SECRET, sub, { admin, ttlSeconds: 3600 })}`,
});

export const hmacHex = (key: string, body: string | Buffer): string => createHmac("sha256", key).update(body).digest("hex");

export interface JsonAnswer<T = unknown> {
  status: number;
  body: T;
  text: string;
}

/** fetch + JSON, bounded by a timeout; never used for measured requests (those go through load.ts). */
export async function api<T = Record<string, unknown>>(base: string, path: string, init: { method?: string; headers?: Record<string, string>; json?: unknown; timeoutMs?: number } = {}): Promise<JsonAnswer<T>> {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? (init.json === undefined ? "GET" : "POST"),
    headers: { ...(init.json !== undefined ? { "Content-Type": "application/json" } : {}), ...init.headers },
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
    signal: AbortSignal.timeout(init.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: callers look at `text`
  }
  return { status: response.status, body: body as T, text };
}

/** Throws NotMeasurable on a 404 "route not found" (the feature is not there), Error on anything else unexpected. */
export function expectStatus(answer: JsonAnswer, expected: number[], what: string): void {
  if (expected.includes(answer.status)) return;
  if (answer.status === 404 && /route not found|Not Found/i.test(answer.text)) throw new NotMeasurable(`${what}: route missing (404)`);
  throw new Error(`${what}: HTTP ${answer.status} ${answer.text.slice(0, 300)}`);
}

/** Polls `check` every `intervalMs` until it returns a value, or throws after `timeoutMs`. */
export async function pollUntil<T>(check: () => Promise<T | undefined>, timeoutMs: number, intervalMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
