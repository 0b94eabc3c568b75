/**
 * What the reliability tests share: the running stack (from global-setup.ts), tokens, signing, the
 * contract's envelope check, waiting for the queues, and a read-only look at the local stores.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { inject } from "vitest";
import { api, bearer, hmacHex, type JsonAnswer } from "../../bench/lib/context.ts";
import type { Secrets } from "../../bench/lib/instances.ts";
import { SimClient } from "../../bench/lib/sim.ts";

export interface StackInfo {
  appUrl: string;
  simUrl: string;
  appPersist: string;
  secrets: Secrets;
  source: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

export const stack = (): StackInfo => inject("stack");
export const sim = (): SimClient => new SimClient(stack().simUrl);
export const app = <T = Record<string, unknown>>(path: string, init: Parameters<typeof api>[2] = {}): Promise<JsonAnswer<T>> => api<T>(stack().appUrl, path, init);
export const userHeaders = (sub: string): Promise<Record<string, string>> => bearer(stack().secrets, sub);
export const adminHeaders = (sub = "reliability-admin"): Promise<Record<string, string>> => bearer(stack().secrets, sub, true);

/** The key the simulator signs with (the first of PLUGGY_WEBHOOK_SECRET). */
export const webhookKey = (): string => stack().secrets.PLUGGY_WEBHOOK_SECRET.split(",")[0] ?? "";
export const signBody = (body: string, key = webhookKey()): string => hmacHex(key, body);

export const uid = (prefix: string): string => `${prefix}-${crypto.randomUUID()}`;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns a value; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Waits until no webhook event anywhere is `received` or `processing`. */
export async function webhookQueueDrained(timeoutMs: number): Promise<void> {
  const admin = await adminHeaders();
  await waitFor(
    "the webhook queue to drain",
    async () => {
      for (const status of ["received", "processing"]) {
        const answer = await app<{ data: unknown[] }>(`/api/admin/webhook-events/?status=${status}&limit=1`, { headers: admin });
        if (answer.status !== 200) throw new Error(`webhook-events list: ${answer.status} ${answer.text}`);
        if (answer.body.data.length > 0) return undefined;
      }
      return true;
    },
    timeoutMs,
    500,
  );
}

/** Every page of an admin or user list (`limit=200`, following `next_cursor`). */
export async function listAll<T>(path: string, headers: Record<string, string>, maxPages = 500): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const sep = path.includes("?") ? "&" : "?";
    const answer = await app<{ data: T[]; next_cursor: string | null }>(`${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { headers });
    if (answer.status !== 200) throw new Error(`${path}: ${answer.status} ${answer.text.slice(0, 300)}`);
    out.push(...answer.body.data);
    cursor = answer.body.next_cursor ?? undefined;
    if (!cursor) return out;
  }
  throw new Error(`${path}: more than ${maxPages} pages`);
}

export async function metrics(): Promise<{ webhooks: Record<string, number>; category_sync: Record<string, number> }> {
  const answer = await app<{ data: { webhooks: Record<string, number>; category_sync: Record<string, number> } }>("/api/admin/metrics/?window=24h", { headers: await adminHeaders() });
  if (answer.status !== 200) throw new Error(`metrics: ${answer.status} ${answer.text}`);
  return answer.body.data;
}

/**
 * The API's envelope (docs/http-api.md, "Conventions"): success → `{"data": …}` (lists add `next_cursor`), error →
 * `{"error": {code, message, request_id}}` with a snake_case code; 204 and HTML pages have their own shape.
 * Returns a description of what is wrong, or undefined.
 */
export function envelopeProblem(status: number, contentType: string, text: string, requestId: string | null): string | undefined {
  if (!requestId) return "no X-Request-Id header";
  if (status === 204) return text === "" ? undefined : "204 with a body";
  if (!/application\/json/i.test(contentType)) {
    // The operator console and the docs page answer HTML; redirects have no JSON body.
    return status < 400 || /text\/html/i.test(contentType) ? undefined : `error answered as ${contentType || "no content type"}`;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return "JSON content type but the body does not parse";
  }
  if (body === null || typeof body !== "object") return "body is not an object";
  const record = body as Record<string, unknown>;
  if (status >= 400) {
    const error = record["error"] as Record<string, unknown> | undefined;
    if (!error || typeof error !== "object") return "error answer without an `error` object";
    if (typeof error["code"] !== "string" || !/^[a-z][a-z0-9_]*$/.test(error["code"])) return `error code ${JSON.stringify(error["code"])} is not snake_case`;
    if (typeof error["message"] !== "string") return "error without a message";
    if (typeof error["request_id"] !== "string") return "error without request_id";
    if (/\bat\s+\S+\s+\(|SQLITE|D1_ERROR|stack/i.test(text) && status >= 500) return "a 5xx leaks internals";
    return undefined;
  }
  if (!("data" in record)) return "success answer without `data`";
  if (Array.isArray(record["data"]) && !("next_cursor" in record)) return "list without next_cursor";
  return undefined;
}

/**
 * Keys of the local R2 bucket (read-only, straight from Miniflare's store in the app's state directory).
 * Used only to prove "exactly once" and "no trace": the API can show an object, not the absence of copies.
 */
export function archiveKeys(): string[] {
  const script = `
    const { DatabaseSync } = require("node:sqlite");
    const { readdirSync } = require("node:fs");
    const dir = process.argv[1];
    const keys = [];
    for (const f of readdirSync(dir)) {
      if (!f.endsWith(".sqlite") || f === "metadata.sqlite") continue;
      const db = new DatabaseSync(dir + "/" + f, { readOnly: true });
      for (const row of db.prepare("SELECT key FROM _mf_objects").all()) keys.push(row.key);
      db.close();
    }
    process.stdout.write(JSON.stringify(keys));`;
  const result = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", "-e", script, join(stack().appPersist, "v3", "r2", "miniflare-R2BucketObject")], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`reading the local R2 store failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as string[];
}
