import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { webhookEvents } from "../db/schema.ts";
import { AppError } from "../platform/errors.ts";
import type { Logger } from "../platform/logger.ts";
import { counterIncrement } from "../platform/metrics.ts";
import type { EventsQueueMessage } from "../queues/messages.ts";
import { eventArchiveKey, putBody, putIfAbsent, rejectedArchiveKey, storedSha256, type ArchivedBody } from "./webhook-archive.ts";
import { countAcceptedIfNew, incrementWebhookCounter, WEBHOOK_COUNTERS } from "./webhook-metrics.ts";
import { MAX_ITEM_ID_LENGTH, unsafeIdReason, webhookPayloadSchema, type WebhookPayload } from "./webhook-payload.ts";
import type { CatalogDeps } from "../platform/services.ts";

export interface IntakeDeps {
  catalog: Db;
  bucket: R2Bucket;
  eventsQueue: Queue<EventsQueueMessage>;
  logger: Logger;
  /** Work that must finish but must not delay Pluggy's answer (counters, clean-up). */
  waitUntil(promise: Promise<unknown>): void;
  /** PLUGGY_CLIENT_ID: a body naming another `clientId` is refused. Unset: not checked. */
  clientId?: string | undefined;
}

export interface VerifiedDelivery {
  bytes: Uint8Array<ArrayBuffer>;
  sha256: string;
  contentType: string;
  matchedKey: string;
  requestId: string;
  receivedAt: string;
}

export type IntakeResult = { eventId: string; status: "accepted" | "duplicate" };

/** `clientId` is read from the JSON object before validation, so another application's body is refused whatever its shape. */
type Parsed = ({ ok: true; payload: WebhookPayload } | { ok: false; field: string; message: string; event?: string; itemId?: string }) & { clientId?: unknown };

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** A rejected body's `event` as a row can hold it: short, well-formed, no control characters. */
const displayText = (value: string): string => value.slice(0, 128).toWellFormed().replace(/\p{Cc}/gu, "\uFFFD");
/** A rejected body's `itemId`, kept only when it is a usable id (erasure finds the delivery by it). */
const usableItemId = (value: string): boolean => value.length > 0 && value.length <= MAX_ITEM_ID_LENGTH && unsafeIdReason(value) === undefined;

/** Decodes and validates a verified body; never throws. */
export function parseDelivery(bytes: Uint8Array): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(bytes));
  } catch {
    return { ok: false, field: "body", message: "body is not valid UTF-8 JSON" };
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) return { ok: false, field: "body", message: "body must be a JSON object" };
  const record = json as Record<string, unknown>;
  const clientId = record["clientId"];
  const parsed = webhookPayloadSchema.safeParse(json);
  if (parsed.success) return { ok: true, payload: parsed.data, clientId };
  const issue = parsed.error.issues[0];
  return {
    clientId,
    ok: false,
    field: issue?.path.map(String).join(".") || "body",
    message: issue?.message ?? "invalid payload",
    ...(typeof record["event"] === "string" ? { event: displayText(record["event"]) } : {}),
    ...(typeof record["itemId"] === "string" && usableItemId(record["itemId"]) ? { itemId: record["itemId"] } : {}),
  };
}

/** A `clientId` that is present (not null, missing or empty) and is not ours. */
function isForeignClientId(value: unknown, ours: string): boolean {
  if (value === undefined || value === null || value === "") return false;
  return value !== ours;
}

const unavailable = (cause?: unknown) =>
  new AppError("upstream_unavailable", "the webhook could not be stored; retry later", { headers: { "Retry-After": "5" }, cause });

/**
 * The event row's insert in one D1 batch (a transaction, run in order) with its counters placed before
 * it: `accepted` — and `unsigned` for a delivery taken on its token alone — go up only if no row exists
 * yet, i.e. exactly when the insert after them creates the row. A duplicate never counts; erasure
 * deleting the row later never uncounts. Resolves to whether this call created the row.
 */
async function insertEventRow({ catalog: db }: CatalogDeps, eventId: string, delivery: VerifiedDelivery, row: { event: string; itemId: string | null; key: string }): Promise<boolean> {
  const insert = db
    .insert(webhookEvents)
    .values({
      eventId,
      event: row.event,
      itemId: row.itemId,
      status: "received",
      receivedAt: delivery.receivedAt,
      bodySha256: delivery.sha256,
      r2Key: row.key,
      contentType: delivery.contentType,
      matchedKey: delivery.matchedKey,
      requestId: delivery.requestId,
      updatedAt: delivery.receivedAt,
    })
    .onConflictDoNothing({ target: webhookEvents.eventId })
    .returning({ eventId: webhookEvents.eventId });
  const accepted = countAcceptedIfNew({ catalog: db }, eventId, delivery.receivedAt);
  if (delivery.matchedKey === "unsigned") {
    const [, , created] = await db.batch([accepted, countAcceptedIfNew({ catalog: db }, eventId, delivery.receivedAt, WEBHOOK_COUNTERS.unsigned), insert]);
    return created.length > 0;
  }
  const [, created] = await db.batch([accepted, insert]);
  return created.length > 0;
}

/**
 * Accepts one verified delivery: the exact bytes to R2, the event row to D1 (keyed by `eventId`,
 * insert-or-ignore tells a duplicate) and a `webhook.process` message, all three at once so the
 * answer costs one round trip. Only when every write needed for durability succeeded is it
 * `accepted`; otherwise a 503 makes Pluggy deliver again.
 *
 * Why duplicates are safe although the three writes race:
 * - R2 is written create-only, so a duplicate never overwrites stored bytes. If the row's owner finds
 *   the key already taken (a concurrent duplicate or an earlier half-failed attempt got there first)
 *   it checks the stored sha256 and rewrites the object only when it differs, so the row and its
 *   bytes always agree.
 * - The row decides: one insert wins; every other delivery learns `duplicate` from the empty RETURNING.
 * - A duplicate's queue message is harmless: the consumer claims an event with a conditional
 *   `received → processing` update, so only one message ever processes it, and a processed event
 *   is never claimed again (only an explicit replay moves it back to `received`).
 * - A duplicate that landed on another day's key (Pluggy retrying across midnight) deletes its own
 *   orphan copy afterwards, so erasure and retention, which follow the row's `r2_key`, miss nothing —
 *   unless the row's own copy is missing (its write failed), in which case the row adopts this copy.
 * Signed but invalid bodies are kept under `rejected/` with a `rejected` row, then refused with 400.
 */
export async function acceptDelivery(deps: IntakeDeps, delivery: VerifiedDelivery): Promise<IntakeResult> {
  const parsed = parseDelivery(delivery.bytes);
  if (deps.clientId !== undefined && isForeignClientId(parsed.clientId, deps.clientId)) {
    // Pluggy's header-secret recipe: check that the notification is for our application. Nothing is stored.
    deps.logger.warn("webhook refused: its clientId is another Pluggy application's", {
      client_id: typeof parsed.clientId === "string" ? parsed.clientId.slice(0, 64) : typeof parsed.clientId,
    });
    deps.waitUntil(incrementWebhookCounter(deps, WEBHOOK_COUNTERS.rejected, delivery.receivedAt).catch(() => undefined));
    throw new AppError("unauthorized", "webhook is for another Pluggy application (clientId)");
  }
  if (!parsed.ok) {
    await recordRejected(deps, delivery, parsed);
    throw new AppError("validation_error", `${parsed.field}: ${parsed.message}`, { details: [{ field: parsed.field, message: parsed.message }] });
  }
  const { eventId, event, itemId } = parsed.payload;
  const key = await eventArchiveKey(eventId, delivery.receivedAt);
  const body: ArchivedBody = { ...delivery };
  const message: EventsQueueMessage = { kind: "webhook.process", eventId };

  const { catalog: db } = deps;
  const [archived, inserted, queued] = await Promise.allSettled([
    putIfAbsent(deps, key, body),
    insertEventRow({ catalog: db }, eventId, delivery, { event, itemId: itemId ?? null, key }),
    deps.eventsQueue.send(message),
  ]);
  const log = deps.logger.child({ event_id: eventId, event });

  if (inserted.status === "rejected") {
    log.error("webhook row insert failed", { error: inserted.reason });
    throw unavailable(inserted.reason);
  }
  if (archived.status === "rejected") {
    // Without the bytes nothing is safe to acknowledge, duplicate or not: Pluggy must send them again.
    log.error("webhook archive write failed", { error: archived.reason });
    throw unavailable(archived.reason);
  }
  const owner = inserted.value;

  if (!owner) {
    deps.waitUntil(afterDuplicate(deps, { eventId, key, wrote: archived.value, delivery }));
    if (queued.status === "rejected") log.warn("duplicate's queue send failed (the original's message or the sweeper covers it)", { error: queued.reason });
    log.info("duplicate webhook", { matched_key: delivery.matchedKey });
    return { eventId, status: "duplicate" };
  }

  if (!archived.value) {
    // The key was already taken: by a concurrent duplicate, or by an earlier attempt whose row write
    // failed. Make sure the stored bytes are the ones this row describes.
    try {
      const stored = await storedSha256(deps, key);
      if (stored !== delivery.sha256) {
        log.warn("archived copy differs from the accepted body; rewriting it", { stored_sha256: stored ?? null });
        await putBody(deps, key, body);
      }
    } catch (error) {
      log.error("could not confirm the archived copy", { error });
      throw unavailable(error);
    }
  }
  if (queued.status === "rejected") {
    // The row is `received`, so the sweeper would re-queue it; answering 503 also makes Pluggy retry now.
    log.error("webhook queue send failed", { error: queued.reason });
    throw unavailable(queued.reason);
  }
  return { eventId, status: "accepted" };
}

/**
 * Counts the duplicate and settles the copy it wrote under another day's key (Pluggy retrying across
 * midnight UTC). Never throws.
 * - The row's own copy is there: this one is an orphan no row points at, so it is deleted (erasure and
 *   retention follow the row's `r2_key` and would miss it).
 * - The row's own copy is missing (that delivery's R2 write failed and it was answered 503 — this is
 *   Pluggy's retry): this copy is the only one, so the row is pointed at it, with its digest, instead.
 */
async function afterDuplicate(deps: IntakeDeps, duplicate: { eventId: string; key: string; wrote: boolean; delivery: VerifiedDelivery }): Promise<void> {
  const log = deps.logger.child({ event_id: duplicate.eventId });
  try {
    const tasks: Promise<unknown>[] = [incrementWebhookCounter(deps, WEBHOOK_COUNTERS.duplicate, duplicate.delivery.receivedAt)];
    if (duplicate.wrote) tasks.push(settleDuplicateCopy(deps, duplicate, log));
    await Promise.all(tasks);
  } catch (error) {
    log.warn("duplicate bookkeeping failed", { error });
  }
}

async function settleDuplicateCopy(deps: IntakeDeps, duplicate: { eventId: string; key: string; delivery: VerifiedDelivery }, log: Logger): Promise<void> {
  const { catalog: db, bucket } = deps;
  const { delivery } = duplicate;
  const [row] = await db
    .select({ r2Key: webhookEvents.r2Key, bodySha256: webhookEvents.bodySha256, payloadPurgedAt: webhookEvents.payloadPurgedAt })
    .from(webhookEvents)
    .where(eq(webhookEvents.eventId, duplicate.eventId))
    .limit(1);
  if (row && row.r2Key === duplicate.key) {
    // This duplicate filled the row's own (empty) key.
    if (row.bodySha256 !== delivery.sha256) log.warn("a duplicate with different bytes filled the event's archive key");
    return;
  }
  if (row && row.payloadPurgedAt === null && (await bucket.head(row.r2Key)) === null) {
    const moved = await db
      .update(webhookEvents)
      .set({ r2Key: duplicate.key, bodySha256: delivery.sha256, contentType: delivery.contentType, matchedKey: delivery.matchedKey, updatedAt: new Date().toISOString() })
      .where(and(eq(webhookEvents.eventId, duplicate.eventId), eq(webhookEvents.r2Key, row.r2Key), isNull(webhookEvents.payloadPurgedAt)))
      .returning({ eventId: webhookEvents.eventId });
    if (moved.length > 0) {
      log.warn("the event's archived copy was missing; the row now points at this retry's copy", { missing_key: row.r2Key, r2_key: duplicate.key });
      return;
    }
  }
  // No row points here: the row's own copy exists (or was purged), or the row was erased meanwhile.
  await bucket.delete(duplicate.key);
}

/**
 * Keeps a signed delivery that is not a valid event: bytes under `rejected/`, and a `rejected` row with
 * a synthetic id (counted in `webhooks.rejected` in the same batch) so operators and metrics see it.
 * Best effort: the answer is a 400 either way.
 */
async function recordRejected(deps: IntakeDeps, delivery: VerifiedDelivery, parsed: Extract<Parsed, { ok: false }>): Promise<void> {
  const id = crypto.randomUUID();
  const eventId = `rejected:${id}`;
  const key = rejectedArchiveKey(id, delivery.receivedAt);
  const { catalog: db } = deps;
  const results = await Promise.allSettled([
    putBody(deps, key, delivery),
    db.batch([
      db.insert(webhookEvents).values({
        eventId,
        event: parsed.event || "(invalid)",
        itemId: parsed.itemId ?? null,
        status: "rejected",
        lastError: `${parsed.field}: ${parsed.message}`,
        receivedAt: delivery.receivedAt,
        bodySha256: delivery.sha256,
        r2Key: key,
        contentType: delivery.contentType,
        matchedKey: delivery.matchedKey,
        requestId: delivery.requestId,
        updatedAt: delivery.receivedAt,
      }),
      // Counted with the row it counts: erasure may delete the row, never the count.
      counterIncrement({ catalog: db }, WEBHOOK_COUNTERS.rejected, 1, new Date(delivery.receivedAt)),
    ]),
  ]);
  for (const result of results) {
    if (result.status === "rejected") deps.logger.error("could not keep a rejected webhook", { event_id: eventId, error: result.reason });
  }
  deps.logger.warn("signed webhook is not a valid event", { event_id: eventId, field: parsed.field, reason: parsed.message });
}
