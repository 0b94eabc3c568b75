import { and, asc, eq, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { accounts, type AccountRow } from "../db/schema.ts";
import { decodeCursor, encodeCursor } from "../platform/cursor.ts";
import { formatMinor } from "../platform/money.ts";
import type { AccountDto } from "./banking.schemas.ts";
import type { CatalogDeps } from "../platform/services.ts";

export interface AccountFilters {
  itemId?: string;
  limit: number;
  cursor?: string;
}

const cursorSchema = z.object({ t: z.string().min(1).max(128), i: z.string().min(1).max(128) });

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
 * The caller's accounts, grouped by item (ordered by item id, then account id), keyset-paginated on
 * (item_id, id). That order is exactly the `(user_id, item_id, id)` index, so every page is an index
 * range scan and a cursor stays valid when accounts are added or removed between pages.
 */
export async function listAccounts({ catalog: db }: CatalogDeps, userId: string, filters: AccountFilters): Promise<{ data: AccountDto[]; nextCursor: string | null }> {
  const where: SQL[] = [eq(accounts.userId, userId)];
  if (filters.itemId) where.push(eq(accounts.itemId, filters.itemId));
  if (filters.cursor) {
    const after = decodeCursor(filters.cursor, cursorSchema);
    // A row-value comparison lets SQLite seek the index to the cursor instead of scanning up to it.
    where.push(sql`(${accounts.itemId}, ${accounts.id}) > (${after.t}, ${after.i})`);
  }
  const rows = await db
    .select()
    .from(accounts)
    .where(and(...where))
    .orderBy(asc(accounts.itemId), asc(accounts.id))
    .limit(filters.limit + 1);
  const page = rows.slice(0, filters.limit);
  const last = page.at(-1);
  const nextCursor = rows.length > filters.limit && last ? encodeCursor({ t: last.itemId, i: last.id }) : null;
  return { data: page.map(serializeAccount), nextCursor };
}
