import { asc, inArray } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { chunk } from "../db/client.ts";
import { categoryMappings } from "../db/schema.ts";

/** Pluggy category id → local category id, for the ids asked about that have a mapping. */
export type CategoryLookup = (pluggyCategoryIds: readonly string[]) => Promise<ReadonlyMap<string, string>>;

/** Ids per `IN (...)` list: D1 binds at most 100 parameters per statement. */
const IDS_PER_QUERY = 100;

/**
 * Stand-in for the category-sync domain's `localCategoryForPluggy` (same signature, so swapping is an
 * import change): reads `category_mappings` directly. When several local categories map to one Pluggy
 * category, the oldest mapping wins, so the choice is stable between syncs.
 */
export async function localCategoryForPluggy(db: Db, pluggyCategoryIds: string[]): Promise<Map<string, string>> {
  const unique = [...new Set(pluggyCategoryIds)];
  const out = new Map<string, string>();
  for (const ids of chunk(unique, IDS_PER_QUERY)) {
    const rows = await db
      .select({ categoryId: categoryMappings.categoryId, pluggyCategoryId: categoryMappings.pluggyCategoryId })
      .from(categoryMappings)
      .where(inArray(categoryMappings.pluggyCategoryId, ids))
      .orderBy(asc(categoryMappings.createdAt), asc(categoryMappings.categoryId));
    for (const row of rows) if (!out.has(row.pluggyCategoryId)) out.set(row.pluggyCategoryId, row.categoryId);
  }
  return out;
}

/**
 * A lookup that remembers answers for the length of one sync: a 10,000-row sync touches a few dozen
 * Pluggy categories, so each is read once instead of once per page.
 */
export function createCategoryLookup(db: Db): CategoryLookup {
  const known = new Map<string, string | null>();
  return async (pluggyCategoryIds) => {
    const missing = [...new Set(pluggyCategoryIds)].filter((id) => !known.has(id));
    if (missing.length > 0) {
      const found = await localCategoryForPluggy(db, missing);
      for (const id of missing) known.set(id, found.get(id) ?? null);
    }
    const out = new Map<string, string>();
    for (const id of pluggyCategoryIds) {
      const local = known.get(id);
      if (local) out.set(id, local);
    }
    return out;
  };
}
