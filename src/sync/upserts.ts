import { accountInputFromPluggy, itemInputFromPluggy, transactionInputFromPluggy, type LocalAccounts, type TransactionPageCounts } from "../ledger/banking.inputs.ts";
import type { ApplyAccountsResult } from "../ledger/banking.repo.ts";
import type { Services } from "../platform/services.ts";
import type { PluggyAccount, PluggyItem, PluggyTransaction } from "../pluggy/pluggy.schemas.ts";
import type { CategoryLookup } from "./category-lookup.ts";

/*
 * The write side of Pluggy data, in the Worker: Pluggy's wire shapes become the ledger's inputs here
 * (`*InputFromPluggy` in src/ledger/banking.inputs.ts), our category is looked up in the catalog here,
 * and each unit — the item, the item's accounts, one page of transactions — is one RPC to the owner's
 * ledger, one transaction there. The ledger's upserts are idempotent and touch a row only when
 * something changed, so a repeated sync writes nothing and `updated_at` keeps its meaning.
 */

/** One user's ledger, as `services.ledger(userId)` hands it out. */
export type Ledger = ReturnType<Services["ledger"]>;

/** Creates or refreshes the item in its owner's ledger (`created`: this call inserted it). */
export async function writeItem(ledger: Ledger, userId: string, item: PluggyItem, now?: string): Promise<{ created: boolean; updated: boolean }> {
  return ledger.applyItem(userId, itemInputFromPluggy(item), now);
}

/**
 * Upserts the item's accounts by Pluggy id (our id stays stable; balances in minor units) and returns the
 * ledger's answer: every local account of the item keyed by Pluggy id, and what changed. `dropUnlisted`
 * (reconciliation) also removes local accounts Pluggy no longer lists, with their transactions.
 */
export async function writeAccounts(
  ledger: Ledger,
  itemId: string,
  pluggyAccounts: readonly PluggyAccount[],
  options: { dropUnlisted?: boolean; now?: string } = {},
): Promise<ApplyAccountsResult> {
  return ledger.applyAccounts(itemId, pluggyAccounts.map(accountInputFromPluggy), options);
}

/** The item whose transactions are written, and its local accounts by Pluggy account id. */
export interface TransactionTarget {
  itemId: string;
  accounts: LocalAccounts;
}

function dedupeBy<T>(values: readonly T[], key: (value: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const value of values) byKey.set(key(value), value); // the last one wins, like a later update
  return [...byKey.values()];
}

/**
 * Writes one page of Pluggy transactions to the ledger: our category resolved from Pluggy's through the
 * catalog's mapping (`lookup`, once per category per sync), rows built with `transactionInputFromPluggy`.
 * Rows of an account not in `target.accounts` are not sent (counted as `skipped`); a page with none left
 * costs no call. The ledger keeps a category the user chose, whatever Pluggy or the mapping says.
 */
export async function writeTransactionsPage(
  ledger: Ledger,
  target: TransactionTarget,
  page: readonly PluggyTransaction[],
  lookup: CategoryLookup,
  now?: string,
): Promise<TransactionPageCounts> {
  const unique = dedupeBy(page, (t) => t.id);
  const known = unique.filter((t) => Object.hasOwn(target.accounts, t.accountId));
  const skipped = unique.length - known.length;
  if (known.length === 0) return { added: 0, updated: 0, unchanged: 0, skipped, maxCreatedAt: null };

  const categoryIds = [...new Set(known.map((t) => t.categoryId).filter((id): id is string => typeof id === "string" && id.length > 0))];
  const localCategory = categoryIds.length > 0 ? await lookup(categoryIds) : new Map<string, string>();
  const rows = known.map((t) => transactionInputFromPluggy(t, t.categoryId ? (localCategory.get(t.categoryId) ?? null) : null));
  const counts = await ledger.applyTransactionsPage(target.itemId, target.accounts, rows, now);
  return { ...counts, skipped: counts.skipped + skipped };
}

