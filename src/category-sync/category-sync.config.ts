import { QUEUE_BACKOFF, type BackoffOptions } from "../platform/backoff.ts";
import type { AppBindings } from "../platform/env.ts";

/*
 * Timing of the category-sync outbox. Production defaults; each can be overridden by a var (tests set
 * them to a second or two, since queue delays in workerd are real time).
 */

/** Delay on the first send: rapid changes to one transaction coalesce into one Pluggy call. */
export const DEFAULT_SEND_DELAY_SECONDS = 5;

/** A pending job untouched this long is re-queued by its ledger's alarm (covers a lost queue send). */
export const SWEEP_AFTER_MS = 3 * 60_000;

/** After a failed attempt the job waits for the queue's retry; the alarm only steps in well after the longest backoff. */
export const RETRY_SWEEP_AFTER_MS = 10 * 60_000;

/** At most this many jobs are re-queued per batch of a ledger's alarm, and this many batches per alarm. */
export const SWEEP_BATCH_SIZE = 100;
export const SWEEP_MAX_BATCHES = 5;

function seconds(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === "") return fallback;
  const parsed = Number(value);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : fallback;
}

/** Seconds to hold a newly queued sync message (CATEGORY_SYNC_SEND_DELAY_SECONDS). */
export function sendDelaySeconds(env: Pick<AppBindings, "CATEGORY_SYNC_SEND_DELAY_SECONDS">): number {
  return Math.round(seconds(env.CATEGORY_SYNC_SEND_DELAY_SECONDS, DEFAULT_SEND_DELAY_SECONDS));
}

/** Retry backoff of the category-sync queue (CATEGORY_SYNC_RETRY_BASE_SECONDS / _CAP_SECONDS over QUEUE_BACKOFF). */
export function categorySyncBackoff(env: Pick<AppBindings, "CATEGORY_SYNC_RETRY_BASE_SECONDS" | "CATEGORY_SYNC_RETRY_CAP_SECONDS">): BackoffOptions {
  const baseSeconds = Math.max(1, seconds(env.CATEGORY_SYNC_RETRY_BASE_SECONDS, QUEUE_BACKOFF.baseSeconds));
  const capSeconds = Math.max(baseSeconds, seconds(env.CATEGORY_SYNC_RETRY_CAP_SECONDS, QUEUE_BACKOFF.capSeconds));
  return { ...QUEUE_BACKOFF, baseSeconds, capSeconds };
}
