import { decodeItemCursor } from "../ledger/banking.inputs.ts";
import type { ItemRow } from "../ledger/ledger.schema.ts";
import type { ItemDto } from "./banking.schemas.ts";
import type { Services } from "../platform/services.ts";

export interface ItemFilters {
  limit: number;
  cursor?: string | undefined;
}

/** The deps of a read served from the caller's ledger. */
export type LedgerDeps = Pick<Services, "ledger">;

/** The fields of an item row the contract's Item is built from (a ledger row has them all). */
export type SerializableItem = Pick<
  ItemRow,
  "id" | "connectorId" | "connectorName" | "connectorImageUrl" | "status" | "executionStatus" | "errorCode" | "errorMessage" | "lastUpdatedAt" | "pluggyCreatedAt" | "createdAt"
>;

/**
 * An item row → the contract's Item. `created_at` is when the connection was made at Pluggy (our own
 * row's time when Pluggy's is unknown); `error` is null unless Pluggy reported an error code.
 */
export function serializeItem(row: SerializableItem): ItemDto {
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
 * The caller's bank connections, from their own ledger: most recently registered first (ties by id,
 * descending), keyset-paginated on our row's (created_at, id). The cursor is decoded here, in the
 * Worker, so a bad one is the usual 400 on `cursor`; a user who never connected anything has an empty
 * ledger and gets an empty page.
 */
export async function listItems({ ledger }: LedgerDeps, userId: string, filters: ItemFilters): Promise<{ data: ItemDto[]; nextCursor: string | null }> {
  const after = filters.cursor ? decodeItemCursor(filters.cursor) : undefined;
  const page = await ledger(userId).listItems({ limit: filters.limit, after });
  return { data: page.rows.map(serializeItem), nextCursor: page.nextCursor };
}
