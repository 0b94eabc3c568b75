/**
 * The bench control Worker (local only, never deployed).
 *
 * - `POST /webhook`: the three storage writes of webhook intake and nothing else — the exact bytes to
 *   R2 (create-only, with their sha256, as the app writes them), the event row to D1 (insert-or-ignore
 *   into the same `webhook_events` table), one queue message — in parallel. No signature check, no
 *   validation, no rate limit: the floor the app's intake is compared with.
 * - `GET /bench/transactions`: one page of a user's transactions by the naive `OFFSET` query, or by a
 *   row-value keyset (`after_date`, `after_id`), answered as JSON like the app's list. Served by this
 *   Worker's own SQLite Durable Object, `LedgerCopy`, whose file is a byte copy of that user's ledger
 *   (the app's `UserLedger` file, placed by the bench): same engine, same schema and indexes, same path
 *   (HTTP → Worker → Durable Object → SQLite) as the app's list.
 * - `GET /bench/position`: the (date, id) at an offset of a user's list (for crafting a cursor).
 * - `GET /bench/ledger-copy-id`: the id (file name) of a user's `LedgerCopy`, without waking it, so the
 *   bench can place the copy before its first call.
 * - `POST /bench/seed-archive`: writes N archived webhook events (R2 body + `processed` D1 row, exactly
 *   as intake and processing leave them) into the app's bucket, and optionally the item's owner into
 *   the catalog's item directory; run on the app's own state before the
 *   app starts, so the replay figure has an archive without N deliveries and N first processings.
 * - `GET /healthz`: `{"data":{"status":"ok"}}`, no storage.
 */

import { DurableObject } from "cloudflare:workers";

/** Bindings from wrangler.toml (`wrangler types` → worker-configuration.d.ts). */
type ControlEnv = ControlBindings;

type LedgerRow = Record<string, SqlStorageValue>;

/**
 * A copy of one user's ledger (the bench copies the app's ledger file to this object's file before its
 * first call). No schema of its own: it reads the copy's tables exactly as they are.
 */
export class LedgerCopy extends DurableObject<ControlEnv> {
  /** The naive page: `ORDER BY date DESC, id DESC LIMIT ? OFFSET ?` over the ledger's transactions. */
  offsetPage(limit: number, offset: number): LedgerRow[] {
    return this.ctx.storage.sql.exec("SELECT * FROM transactions ORDER BY date DESC, id DESC LIMIT ? OFFSET ?", limit, offset).toArray();
  }

  /** The same page by row-value keyset. */
  keysetPage(limit: number, afterDate: string, afterId: string): LedgerRow[] {
    return this.ctx.storage.sql.exec("SELECT * FROM transactions WHERE (date, id) < (?, ?) ORDER BY date DESC, id DESC LIMIT ?", afterDate, afterId, limit).toArray();
  }

  /** The (date, id) at `offset`, or null. */
  position(offset: number): { date: string; id: string } | null {
    const row = this.ctx.storage.sql.exec<{ date: string; id: string }>("SELECT date, id FROM transactions ORDER BY date DESC, id DESC LIMIT 1 OFFSET ?", offset).toArray()[0];
    return row ?? null;
  }
}

const ledgerCopy = (env: ControlEnv, userId: string) => env.LEDGER_COPY.get(env.LEDGER_COPY.idFromName(userId));

const json = (body: unknown, status = 200): Response =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json; charset=utf-8" } });

async function sha256Hex(bytes: ArrayBuffer | Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let hex = "";
  for (const byte of digest) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

async function intake(request: Request, env: ControlEnv): Promise<Response> {
  const bytes = await request.arrayBuffer();
  const payload = JSON.parse(new TextDecoder().decode(bytes)) as { eventId?: unknown; event?: unknown; itemId?: unknown };
  const eventId = String(payload.eventId);
  const receivedAt = new Date().toISOString();
  const sha256 = await sha256Hex(bytes);
  const key = `events/${receivedAt.slice(0, 10).replaceAll("-", "/")}/${encodeURIComponent(eventId)}.json`;
  const [, inserted] = await Promise.all([
    env.ARCHIVE.put(key, bytes, {
      httpMetadata: { contentType: "application/json" },
      customMetadata: { sha256, received_at: receivedAt },
      sha256,
      onlyIf: { etagDoesNotMatch: "*" },
    }),
    env.DB.prepare(
      `INSERT INTO webhook_events (event_id, event, item_id, status, attempts, replay_count, received_at, body_sha256, r2_key, content_type, matched_key, request_id, updated_at)
       VALUES (?1, ?2, ?3, 'received', 0, 0, ?4, ?5, ?6, 'application/json', 'key:0', ?7, ?4)
       ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
    )
      .bind(eventId, String(payload.event), typeof payload.itemId === "string" ? payload.itemId : null, receivedAt, sha256, key, crypto.randomUUID())
      .all(),
    env.QUEUE.send({ kind: "webhook.process", eventId }),
  ]);
  return json({ data: { event_id: eventId, status: inserted.results.length > 0 ? "accepted" : "duplicate" } });
}

async function transactionsPage(url: URL, env: ControlEnv): Promise<Response> {
  const ledger = ledgerCopy(env, url.searchParams.get("user_id") ?? "");
  const limit = Math.min(200, Math.max(1, Number(url.searchParams.get("limit") ?? 50)));
  const afterDate = url.searchParams.get("after_date");
  const afterId = url.searchParams.get("after_id");
  const results = afterDate && afterId ? await ledger.keysetPage(limit, afterDate, afterId) : await ledger.offsetPage(limit, Number(url.searchParams.get("offset") ?? 0));
  return json({ data: results });
}

async function position(url: URL, env: ControlEnv): Promise<Response> {
  const row = await ledgerCopy(env, url.searchParams.get("user_id") ?? "").position(Number(url.searchParams.get("offset") ?? 0));
  return row ? json({ data: row }) : json({ error: { code: "not_found", message: "no row at that offset" } }, 404);
}

interface SeedRequest {
  count: number;
  event: string;
  itemId: string;
  clientUserId: string;
  clientId: string;
  /** received_at of the first event; each next one is 1 ms later. */
  receivedFrom: string;
  /** When set, the item's owner is written to the catalog's item directory too (a known item). */
  userId?: string;
}

async function seedArchive(request: Request, env: ControlEnv): Promise<Response> {
  const seed = (await request.json()) as SeedRequest;
  const start = Date.parse(seed.receivedFrom);
  const eventIds: string[] = [];
  const statements: D1PreparedStatement[] = [];
  const flush = async () => {
    if (statements.length > 0) await env.DB.batch(statements.splice(0));
  };
  for (let i = 0; i < seed.count; i++) {
    const eventId = crypto.randomUUID();
    const receivedAt = new Date(start + i).toISOString();
    const processedAt = new Date(start + i + 500).toISOString();
    const body = new Uint8Array(
      new TextEncoder().encode(
      JSON.stringify({ event: seed.event, eventId, itemId: seed.itemId, triggeredBy: "USER", clientUserId: seed.clientUserId, clientId: seed.clientId }),
      ),
    );
    const sha256 = await sha256Hex(body);
    const key = `events/${receivedAt.slice(0, 4)}/${receivedAt.slice(5, 7)}/${receivedAt.slice(8, 10)}/${encodeURIComponent(eventId)}.json`;
    const requestId = crypto.randomUUID();
    await env.APP_ARCHIVE.put(key, body, {
      httpMetadata: { contentType: "application/json" },
      customMetadata: { sha256, matched_key: "key:0", received_at: receivedAt, request_id: requestId },
      sha256,
    });
    statements.push(
      env.DB.prepare(
        `INSERT INTO webhook_events (event_id, event, item_id, status, attempts, replay_count, received_at, processed_at, body_sha256, r2_key, content_type, matched_key, request_id, updated_at)
         VALUES (?1, ?2, ?3, 'processed', 1, 0, ?4, ?5, ?6, ?7, 'application/json', 'key:0', ?8, ?5)`,
      ).bind(eventId, seed.event, seed.itemId, receivedAt, processedAt, sha256, key, requestId),
    );
    if (statements.length >= 100) await flush();
    eventIds.push(eventId);
  }
  if (seed.userId) {
    statements.push(
      env.DB.prepare("INSERT INTO item_directory (item_id, user_id, next_reconcile_at, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (item_id) DO NOTHING").bind(
        seed.itemId,
        seed.userId,
        new Date(Date.now() + 86_400_000).toISOString(),
        new Date().toISOString(),
      ),
    );
  }
  await flush();
  return json({ data: { event_ids: eventIds } });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    try {
      if (url.pathname === "/healthz") return json({ data: { status: "ok" } });
      if (url.pathname === "/webhook" && request.method === "POST") return await intake(request, env);
      if (url.pathname === "/bench/transactions") return await transactionsPage(url, env);
      if (url.pathname === "/bench/position") return await position(url, env);
      if (url.pathname === "/bench/ledger-copy-id") return json({ data: { id: env.LEDGER_COPY.idFromName(url.searchParams.get("user_id") ?? "").toString() } });
      if (url.pathname === "/bench/seed-archive" && request.method === "POST") return await seedArchive(request, env);
      return json({ error: { code: "not_found", message: "route not found" } }, 404);
    } catch (error) {
      return json({ error: { code: "internal_error", message: error instanceof Error ? error.message : String(error) } }, 500);
    }
  },
  async queue(batch) {
    batch.ackAll();
  },
} satisfies ExportedHandler<ControlEnv>;
