/*
 * What a user is told about a category change that did not reach Pluggy: a stable code (for the app to
 * branch on and translate) and a short sentence of ours. Pluggy's own error text — its wording, codes
 * and whatever details it carries — stays on the admin side (`last_error` in /api/admin/category-syncs/
 * and the console).
 */

/** Why a job failed without Pluggy refusing it (stored as its `last_error`). */
export const LOCAL_FAILURES = {
  transactionGone: "transaction no longer exists",
  superseded: "superseded by a newer change that was not synced",
  mappingGone: "category has no Pluggy mapping",
} as const;

export const CATEGORY_SYNC_REASONS = {
  no_pluggy_id: "transaction has no Pluggy id",
  no_pluggy_mapping: "category has no Pluggy mapping",
  category_cleared: "category cleared",
  transaction_gone: "transaction no longer exists",
  superseded: "a newer change replaced this one",
  rejected_by_pluggy: "Pluggy did not accept this category for the transaction",
  pluggy_unavailable: "Pluggy could not be reached after repeated attempts",
  not_sent: "the change was not sent to Pluggy",
} as const;

export type CategorySyncReasonCode = keyof typeof CATEGORY_SYNC_REASONS;
export const CATEGORY_SYNC_REASON_CODES = Object.keys(CATEGORY_SYNC_REASONS) as [CategorySyncReasonCode, ...CategorySyncReasonCode[]];

export interface UserFacingReason {
  reason_code: CategorySyncReasonCode;
  reason: string;
}

const reason = (code: CategorySyncReasonCode): UserFacingReason => ({ reason_code: code, reason: CATEGORY_SYNC_REASONS[code] });

/** A skipped change, from the skip reason stored on the transaction (one of our own sentences). */
export function skippedReason(stored: string | null): UserFacingReason {
  const code = (Object.keys(CATEGORY_SYNC_REASONS) as CategorySyncReasonCode[]).find((key) => CATEGORY_SYNC_REASONS[key] === stored);
  return reason(code ?? "not_sent");
}

/** A failed or dead job, from its stored `last_error` (ours, or Pluggy's text, which is never shown). */
export function jobReason(status: "failed" | "dead", lastError: string | null): UserFacingReason {
  if (status === "dead") return reason("pluggy_unavailable");
  if (lastError === LOCAL_FAILURES.transactionGone) return reason("transaction_gone");
  if (lastError === LOCAL_FAILURES.superseded) return reason("superseded");
  if (lastError === LOCAL_FAILURES.mappingGone) return reason("no_pluggy_mapping");
  return reason("rejected_by_pluggy");
}
