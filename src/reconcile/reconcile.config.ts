/*
 * When an item is next reconciled: read by the sync (an item it claims for a user starts its schedule)
 * and by the reconciliation itself. No imports, so src/sync can use it without a cycle.
 */

/** An item is reconciled at most this often: after a run (or its first sync) it is next due this much later. */
export const RECONCILE_MIN_INTERVAL_HOURS = 6;

const HOUR_MS = 3_600_000;

/** The `next_reconcile_at` of an item reconciled (or first synced) at `at`: the minimum interval later. */
export function nextReconcileAfter(at: Date | string): string {
  const from = typeof at === "string" ? Date.parse(at) : at.getTime();
  return new Date(from + RECONCILE_MIN_INTERVAL_HOURS * HOUR_MS).toISOString();
}
