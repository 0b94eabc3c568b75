import { and, asc, desc, eq, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { decodeCursor, encodeCursor } from "../platform/cursor.ts";
import { attention, type AttentionKind, type AttentionRow } from "./attention.schema.ts";

/*
 * The catalog's attention index: upserted when work moves into a status that needs an operator, removed
 * when it moves out. Callers apply what a ledger call returned (`AttentionChange`), in one D1 batch.
 */

/** Work entering (or staying in, with a new status) a needing-attention status. */
export interface AttentionEntry {
  kind: AttentionKind;
  id: string;
  userId: string;
  status: string;
  /** Since when it has been in `status` (RFC 3339). */
  since: string;
}

/** What a transition did to the index: put the work there (or update it), or take it out. */
export type AttentionChange = AttentionEntry | { kind: AttentionKind; remove: string };

export const isRemoval = (change: AttentionChange): change is { kind: AttentionKind; remove: string } => "remove" in change;

function statementFor(db: Db, change: AttentionChange, at: string) {
  if (isRemoval(change)) return db.delete(attention).where(and(eq(attention.kind, change.kind), eq(attention.id, change.remove)));
  return db
    .insert(attention)
    .values({ kind: change.kind, id: change.id, userId: change.userId, status: change.status, since: change.since, updatedAt: at })
    .onConflictDoUpdate({
      target: [attention.kind, attention.id],
      set: { userId: change.userId, status: change.status, since: change.since, updatedAt: at },
    });
}

/** Applies changes in order, in one D1 batch (all or nothing). */
export async function applyAttention(db: Db, changes: readonly AttentionChange[], now: Date = new Date()): Promise<void> {
  const at = now.toISOString();
  const [first, ...rest] = changes.map((change) => statementFor(db, change, at));
  if (!first) return;
  await db.batch([first, ...rest]);
}

export const removeAttention = (db: Db, kind: AttentionKind, id: string): Promise<void> => applyAttention(db, [{ kind, remove: id }]);

const attentionCursor = z.object({ s: z.string().min(1).max(64), i: z.string().min(1).max(128) });

/**
 * One kind's entries in one status, newest `since` first (or oldest with `order: "asc"`), keyset-paged on
 * (since, id): an index range, whatever the number of users.
 */
export async function listAttention(
  db: Db,
  filters: { kind: AttentionKind; status: string; limit: number; cursor?: string | undefined; order?: "asc" | "desc" },
): Promise<{ data: AttentionRow[]; nextCursor: string | null }> {
  const ascending = filters.order === "asc";
  const where: SQL[] = [eq(attention.kind, filters.kind), eq(attention.status, filters.status)];
  if (filters.cursor) {
    const after = decodeCursor(filters.cursor, attentionCursor);
    where.push(ascending ? sql`(${attention.since}, ${attention.id}) > (${after.s}, ${after.i})` : sql`(${attention.since}, ${attention.id}) < (${after.s}, ${after.i})`);
  }
  const rows = await db
    .select()
    .from(attention)
    .where(and(...where))
    .orderBy(...(ascending ? [asc(attention.since), asc(attention.id)] : [desc(attention.since), desc(attention.id)]))
    .limit(filters.limit + 1);
  const page = rows.slice(0, filters.limit);
  const last = page.at(-1);
  return { data: page, nextCursor: rows.length > filters.limit && last ? encodeCursor({ s: last.since, i: last.id }) : null };
}
