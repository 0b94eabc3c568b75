import { decodeAccountCursor } from "../ledger/banking.inputs.ts";
import type { AccountRow } from "../ledger/ledger.schema.ts";
import { formatMinor } from "../platform/money.ts";
import type { AccountDto } from "./banking.schemas.ts";
import type { LedgerDeps } from "./items.service.ts";

export interface AccountFilters {
  itemId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** An account row → the contract's Account (balance as a two-place decimal string). */
export function serializeAccount(row: AccountRow): AccountDto {
  return {
    id: row.id,
    pluggy_id: row.pluggyId,
    item_id: row.itemId,
    name: row.name,
    type: row.type,
    subtype: row.subtype,
    number: row.number,
    balance: row.balanceMinor === null ? null : formatMinor(row.balanceMinor),
    currency_code: row.currencyCode,
    updated_at: row.updatedAt,
  };
}

/**
 * The caller's accounts, from their own ledger, grouped by item (ordered by item id, then account id),
 * keyset-paginated on (item_id, id): exactly the ledger's `accounts_item_idx`, so every page is an index
 * range scan and a cursor stays valid when accounts are added or removed between pages. Another user's
 * `item_id` is simply not in the caller's ledger: an empty list.
 */
export async function listAccounts({ ledger }: LedgerDeps, userId: string, filters: AccountFilters): Promise<{ data: AccountDto[]; nextCursor: string | null }> {
  const after = filters.cursor ? decodeAccountCursor(filters.cursor) : undefined;
  const page = await ledger(userId).listAccounts({ itemId: filters.itemId, limit: filters.limit, after });
  return { data: page.rows.map(serializeAccount), nextCursor: page.nextCursor };
}
