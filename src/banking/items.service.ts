import { and, desc, eq, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { items, type ItemRow } from "../db/schema.ts";
import { decodeCursor, encodeCursor } from "../platform/cursor.ts";
import type { ItemDto } from "./banking.schemas.ts";
import type { CatalogDeps } from "../platform/services.ts";

export interface ItemFilters {
  limit: number;
  cursor?: string;
}

const cursorSchema = z.object({ c: z.string().min(1).max(64), i: z.string().min(1).max(128) });

/**
 * An item row → the contract's Item. `created_at` is when the connection was made at Pluggy (our own
 * row's time when Pluggy's is unknown); `error` is null unless Pluggy reported an error code.
 */
export function serializeItem(row: ItemRow): ItemDto {
  return {
    id: row.id,
    connector: { id: row.connectorId, name: row.connectorName, image_url: row.connectorImageUrl },
    status: row.status,
    execution_status: row.executionStatus,
    error: row.errorCode ? { code: row.errorCode, message: row.errorMessage } : null,
    last_updated_at: row.lastUpdatedAt,
    created_at: row.pluggyCreatedAt ?? row.createdAt,
  };
}

/**
 * The caller's bank connections, most recently registered first (ties by id, descending),
 * keyset-paginated on our row's (created_at, id): the `(user_id, created_at)` index.
 */
export async function listItems({ catalog: db }: CatalogDeps, userId: string, filters: ItemFilters): Promise<{ data: ItemDto[]; nextCursor: string | null }> {
  const where: SQL[] = [eq(items.userId, userId)];
  if (filters.cursor) {
    const after = decodeCursor(filters.cursor, cursorSchema);
    // A row-value comparison lets SQLite seek the index to the cursor instead of scanning up to it.
    where.push(sql`(${items.createdAt}, ${items.id}) < (${after.c}, ${after.i})`);
  }
  const rows = await db
    .select()
    .from(items)
    .where(and(...where))
    .orderBy(desc(items.createdAt), desc(items.id))
    .limit(filters.limit + 1);
  const page = rows.slice(0, filters.limit);
  const last = page.at(-1);
  const nextCursor = rows.length > filters.limit && last ? encodeCursor({ c: last.createdAt, i: last.id }) : null;
  return { data: page.map(serializeItem), nextCursor };
}
