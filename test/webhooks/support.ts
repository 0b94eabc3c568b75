import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { createApp } from "../../src/app.ts";
import { createDb } from "../../src/db/client.ts";
import { webhookEvents, type WebhookEventRow } from "../../src/db/schema.ts";
import type { AppBindings } from "../../src/platform/env.ts";

/* Shared helpers for the webhook tests. Signatures are computed here with Web Crypto, independently
 * of src/webhooks/verify-signature.ts, so the tests check the implementation against the scheme. */

export const SECRET_NEW = "test-webhook-secret-new";
export const SECRET_OLD = "test-webhook-secret-old";
export const WEBHOOK_PATH = "/api/banking/pluggy/webhook/";

const encoder = new TextEncoder();

export async function hmacHex(body: string | Uint8Array<ArrayBuffer>, secret: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, typeof body === "string" ? encoder.encode(body) : body);
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function sha256Of(body: string | Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", typeof body === "string" ? encoder.encode(body) : body);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A unique source address per caller, so tests never share a rate-limit bucket. */
export const uniqueIp = (): string => `10.${rand()}.${rand()}.${rand()}`;
const rand = () => Math.floor(Math.random() * 254) + 1;

/** A webhook body with a fresh eventId; `test/noop` is an event the processor records as ignored. */
export function eventPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> & { eventId: string; event: string } {
  return { event: "test/noop", eventId: crypto.randomUUID(), itemId: crypto.randomUUID(), triggeredBy: "SYNC", ...overrides } as Record<string, unknown> & {
    eventId: string;
    event: string;
  };
}

export interface PostOptions {
  /** Default: signed with SECRET_NEW. `null` sends no signature header. */
  signature?: string | null;
  headers?: Record<string, string>;
  /** Defaults to a unique address. */
  ip?: string;
}

/** Builds the request Pluggy would send. */
export async function webhookRequest(body: string, options: PostOptions = {}): Promise<Request> {
  const signature = options.signature === undefined ? await hmacHex(body, SECRET_NEW) : options.signature;
  return new Request(`https://api.test${WEBHOOK_PATH}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "CF-Connecting-IP": options.ip ?? uniqueIp(),
      ...(signature !== null ? { "X-Pluggy-Signature": signature } : {}),
      ...options.headers,
    },
    body,
  });
}

/** Posts a webhook to the deployed-like Worker (`exports.default`). */
export async function postWebhook(body: string, options: PostOptions = {}): Promise<Response> {
  return exports.default.fetch(await webhookRequest(body, options));
}

/**
 * Runs a request through a fresh app with some bindings replaced (e.g. PLUGGY_WEBHOOK_AUTH_TOKEN set,
 * or a queue that fails), waiting for its background work.
 */
export async function fetchWithEnv(request: Request, overrides: Partial<AppBindings>): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await createApp().fetch(request, { ...(env as AppBindings), ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export const db = () => createDb(env.DB);

export async function eventRow(eventId: string): Promise<WebhookEventRow | undefined> {
  const [row] = await db().select().from(webhookEvents).where(eq(webhookEvents.eventId, eventId));
  return row;
}

export async function rowsByRequestId(requestId: string): Promise<WebhookEventRow[]> {
  return db().select().from(webhookEvents).where(eq(webhookEvents.requestId, requestId));
}

/** Every archived key that mentions `fragment` (R2 listing, paged). */
export async function archivedKeysContaining(fragment: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.WEBHOOK_ARCHIVE.list({ cursor, limit: 1000 });
    keys.push(...page.objects.map((object) => object.key).filter((key) => key.includes(fragment)));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys;
}

/** Wraps the real queue, recording what was sent (and optionally failing sends). */
export function recordingQueue(queue: Queue, options: { fail?: boolean } = {}): Queue & { sent: unknown[] } {
  const sent: unknown[] = [];
  return {
    sent,
    async send(body: unknown, sendOptions?: QueueSendOptions) {
      if (options.fail) throw new Error("queue unavailable (injected)");
      sent.push(body);
      return queue.send(body, sendOptions);
    },
    async sendBatch(messages: Iterable<MessageSendRequest>, sendOptions?: QueueSendBatchOptions) {
      if (options.fail) throw new Error("queue unavailable (injected)");
      const list = [...messages];
      sent.push(...list.map((message) => message.body));
      return queue.sendBatch(list, sendOptions);
    },
  } as Queue & { sent: unknown[] };
}

/** Wraps the real bucket; `failPut` makes every put throw (an R2 outage). */
export function faultyBucket(bucket: R2Bucket, options: { failPut?: boolean }): R2Bucket {
  return {
    put: (...args: Parameters<R2Bucket["put"]>) => (options.failPut ? Promise.reject(new Error("R2 unavailable (injected)")) : bucket.put(...args)),
    get: (...args: Parameters<R2Bucket["get"]>) => bucket.get(...args),
    head: (...args: Parameters<R2Bucket["head"]>) => bucket.head(...args),
    delete: (...args: Parameters<R2Bucket["delete"]>) => bucket.delete(...args),
    list: (...args: Parameters<R2Bucket["list"]>) => bucket.list(...args),
  } as R2Bucket;
}

/** Sum of a metric counter over every bucket (this test file's storage only). */
export async function counterTotal(name: string): Promise<number> {
  const row = await env.DB.prepare("select coalesce(sum(count), 0) as n from metric_counters where name = ?").bind(name).first<{ n: number }>();
  return row?.n ?? 0;
}
