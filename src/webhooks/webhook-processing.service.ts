import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { webhookEvents, type WebhookEventRow } from "../db/schema.ts";
import type { Logger } from "../platform/logger.ts";
import { counterIncrement } from "../platform/metrics.ts";
import { PluggyError } from "../pluggy/pluggy.errors.ts";
import { RetryableError } from "../queues/consumer.ts";
import { WEBHOOK_COUNTERS } from "./webhook-metrics.ts";
import { webhookPayloadSchema, type WebhookPayload } from "./webhook-payload.ts";
import { sha256Hex } from "./verify-signature.ts";
import type { Services } from "../platform/services.ts";

/**
 * The per-event work (src/sync): what a payload changes locally, reading Pluggy as needed. `reason`
 * (why it was ignored, or what of it was not applied) is recorded on the event as `last_error`.
 */
export type ProcessPayload = (payload: WebhookPayload) => Promise<{ outcome: "processed" | "ignored"; reason?: string | undefined }>;

export interface ProcessingDeps {
  catalog: Db;
  bucket: R2Bucket;
  processPayload: ProcessPayload;
  logger: Logger;
}

/** How often a message whose row is not visible yet is retried before it is dropped (the row's write failed). */
export const MISSING_ROW_ATTEMPTS = 3;
/** Delay before retrying a 429 that came without a reset time. */
const DEFAULT_RATE_LIMIT_DELAY_SECONDS = 60;
const MAX_ERROR_LENGTH = 1000;

export type ProcessingOutcome = "processed" | "ignored" | "failed" | "skipped";

const truncate = (text: string) => (text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text);

/**
 * Processes one stored webhook event (a `webhook.process` message), exactly once per acceptance or
 * replay. The claim is a conditional `received → processing` update: of several messages for one
 * event (a duplicate delivery, the sweeper, a redelivery) only one wins, and an event already
 * processed, ignored, failed or dead is left alone ("skipped") until a replay moves it back to
 * `received`. The body comes from R2 and must hash to the row's `body_sha256`.
 *
 * Outcomes: `processed`/`ignored` per the processor, its reason (why ignored, what was not applied)
 * kept in `last_error`; a permanent Pluggy error or a corrupt archive →
 * `failed` with the reason; a transient Pluggy error, a missing archive copy or a bug → back to
 * `received` with `last_error`, and a thrown error so the queue retries with backoff (a 429 no sooner
 * than Pluggy's reset). Exhausted retries end in the dead-letter queue: see `markWebhookEventDead`.
 * A bug fails the same way on every retry and so ends `dead` too, on purpose: a deploy during the
 * retries still saves it, and otherwise it keeps what kept failing ("unexpected TypeError: …") until an
 * operator replays it after the fix. Only Pluggy's own refusals are known to be permanent (`failed`).
 */
export async function processWebhookEvent(
  deps: ProcessingDeps,
  message: { eventId: string; replay?: boolean | undefined },
  attempts: number,
): Promise<ProcessingOutcome> {
  const { catalog: db } = deps;
  const log = deps.logger.child({ event_id: message.eventId, replay: message.replay === true });
  const claimedAt = new Date().toISOString();
  const [row] = await db
    .update(webhookEvents)
    .set({ status: "processing", attempts: sql`${webhookEvents.attempts} + 1`, updatedAt: claimedAt })
    .where(and(eq(webhookEvents.eventId, message.eventId), eq(webhookEvents.status, "received")))
    .returning();

  if (!row) {
    const [current] = await db.select({ status: webhookEvents.status }).from(webhookEvents).where(eq(webhookEvents.eventId, message.eventId)).limit(1);
    if (!current) {
      // The message can outrun the row's insert (they are written at the same time at intake).
      if (attempts < MISSING_ROW_ATTEMPTS) throw new RetryableError("webhook event row not found yet");
      log.warn("webhook event row never appeared; dropping the message");
      return "skipped";
    }
    log.info("webhook event not claimable; nothing to do", { status: current.status });
    return "skipped";
  }

  const loaded = await loadPayload(deps.bucket, row).catch((error: unknown): Loaded => ({ kind: "retry", error }));
  if (loaded.kind === "fail") return fail(deps, row, loaded.reason);
  if (loaded.kind === "retry") return backToReceived(deps, row, loaded.error);
  const payload = loaded.payload;

  let result: Awaited<ReturnType<ProcessPayload>>;
  try {
    result = await deps.processPayload(payload);
  } catch (error) {
    if (error instanceof PluggyError && !error.transient) return fail(deps, row, `Pluggy: ${error.reason}`);
    if (error instanceof PluggyError) {
      const minDelaySeconds = error.status === 429 ? (error.retryAfterSeconds ?? DEFAULT_RATE_LIMIT_DELAY_SECONDS) : 0;
      return backToReceived(deps, row, new RetryableError(`Pluggy: ${error.reason}`, { minDelaySeconds, cause: error }));
    }
    return backToReceived(deps, row, error);
  }

  const finishedAt = new Date().toISOString();
  await db.batch([
    db
      .update(webhookEvents)
      .set({ status: result.outcome, processedAt: finishedAt, lastError: result.reason ? truncate(result.reason) : null, updatedAt: finishedAt })
      .where(eq(webhookEvents.eventId, row.eventId)),
    counterIncrement({ catalog: db }, result.outcome === "processed" ? WEBHOOK_COUNTERS.processed : WEBHOOK_COUNTERS.ignored, 1, new Date(finishedAt)),
  ]);
  // No log line on success: the row (status, processed_at, attempts, last_error's reason) is the record, and the processor logs its effect.
  return result.outcome;
}

type Loaded = { kind: "ok"; payload: WebhookPayload } | { kind: "fail"; reason: string } | { kind: "retry"; error: unknown };

/** Reads the archived body and checks it against the row: a permanent problem fails, a passing one retries. */
async function loadPayload(bucket: R2Bucket, row: WebhookEventRow): Promise<Loaded> {
  const object = await bucket.get(row.r2Key);
  if (!object) {
    if (row.payloadPurgedAt) return { kind: "fail", reason: "raw body purged by retention" };
    // Intake answered 503 when this copy failed, so Pluggy's next delivery fills it in.
    return { kind: "retry", error: new RetryableError("archived body not found in R2 (yet)") };
  }
  const bytes = new Uint8Array(await object.arrayBuffer());
  const sha256 = await sha256Hex(bytes);
  if (sha256 !== row.bodySha256) return { kind: "fail", reason: `archive corrupted: sha256 ${sha256} does not match body_sha256` };
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return { kind: "fail", reason: "archived body is not valid JSON" };
  }
  const parsed = webhookPayloadSchema.safeParse(json);
  if (!parsed.success) {
    // E.g. an id intake accepted before it refused ids that cannot be keys: no retry could help.
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.map(String).join(".") || "body"}: ${issue.message}` : "invalid payload";
    return { kind: "fail", reason: `archived body is not a valid webhook payload (${where})` };
  }
  if (parsed.data.eventId !== row.eventId) return { kind: "fail", reason: "archived body belongs to another eventId" };
  return { kind: "ok", payload: parsed.data };
}

async function fail(deps: ProcessingDeps, row: WebhookEventRow, reason: string): Promise<ProcessingOutcome> {
  const { catalog: db } = deps;
  const at = new Date().toISOString();
  await db.batch([
    db.update(webhookEvents).set({ status: "failed", lastError: truncate(reason), updatedAt: at }).where(eq(webhookEvents.eventId, row.eventId)),
    counterIncrement({ catalog: db }, WEBHOOK_COUNTERS.failed, 1, new Date(at)),
  ]);
  deps.logger.warn("webhook event failed", { event_id: row.eventId, event: row.event, reason });
  return "failed";
}

/**
 * What `last_error` says about a retried error. An expected one (a RetryableError: a transient Pluggy
 * failure, a missing copy) is its message; anything else is a bug or an unforeseen failure, recorded as
 * `unexpected <name>: <message>` so that an event that ends `dead` after its retries says what kept
 * failing (e.g. `retries exhausted: unexpected URIError: URI malformed`) and is replayed after a fix.
 */
export function describeRetriedError(error: unknown): string {
  if (error instanceof RetryableError) return error.message;
  if (error instanceof Error) return `unexpected ${error.name}: ${error.message}`;
  return `unexpected error: ${String(error)}`;
}

/** Releases the claim with the error recorded, then throws so the queue retries. */
async function backToReceived(deps: ProcessingDeps, row: WebhookEventRow, error: unknown): Promise<never> {
  const message = describeRetriedError(error);
  if (!(error instanceof RetryableError)) deps.logger.error("unexpected error while processing a webhook event; retrying", { event_id: row.eventId, event: row.event, error });
  await deps.catalog
    .update(webhookEvents)
    .set({ status: "received", lastError: truncate(message), updatedAt: new Date().toISOString() })
    .where(and(eq(webhookEvents.eventId, row.eventId), eq(webhookEvents.status, "processing")));
  throw error instanceof Error ? error : new Error(message);
}

/**
 * Dead-letter handler: the event's retries are exhausted, so it becomes `dead` with its last error,
 * where operators look (replay brings it back). An event that meanwhile finished is left as it is.
 */
export async function markWebhookEventDead({ catalog: db, logger }: Pick<Services, "catalog" | "logger">, eventId: string): Promise<boolean> {
  const at = new Date().toISOString();
  const [row] = await db
    .update(webhookEvents)
    .set({
      status: "dead",
      lastError: sql`'retries exhausted: ' || coalesce(${webhookEvents.lastError}, 'unknown error')`,
      updatedAt: at,
    })
    .where(and(eq(webhookEvents.eventId, eventId), inArray(webhookEvents.status, ["received", "processing"])))
    .returning({ eventId: webhookEvents.eventId, lastError: webhookEvents.lastError });
  if (!row) {
    logger.info("dead-lettered webhook message had nothing left to mark", { event_id: eventId });
    return false;
  }
  await counterIncrement({ catalog: db }, WEBHOOK_COUNTERS.dead, 1, new Date(at));
  logger.error("webhook event is dead", { event_id: eventId, last_error: row.lastError });
  return true;
}
