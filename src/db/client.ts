import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import * as schema from "./schema.ts";

export type Db = DrizzleD1Database<typeof schema>;

/** Wraps a D1 binding (or a D1 session) in drizzle with our schema. */
export function createDb(d1: D1Database | D1DatabaseSession): Db {
  return drizzle(d1 as D1Database, { schema });
}

/** D1 binds at most 100 parameters per statement: rows per multi-row insert for `columns` columns. */
export function rowsPerStatement(columns: number): number {
  return Math.max(1, Math.floor(100 / columns));
}

export function chunk<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}
