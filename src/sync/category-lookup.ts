import { localCategoryForPluggy } from "../category-sync/mappings.service.ts";
import type { CatalogDeps } from "../platform/services.ts";

/** Pluggy category id → local category id, for the ids asked about that have a mapping. */
export type CategoryLookup = (pluggyCategoryIds: readonly string[]) => Promise<ReadonlyMap<string, string>>;

/**
 * The category-sync domain's mapping rule (`localCategoryForPluggy`: a direct mapping, else the nearest
 * mapped ancestor; the earliest mapping wins ties), remembered for the length of one sync: a
 * 10,000-row sync touches a few dozen Pluggy categories, so each is resolved once instead of once per
 * page.
 */
export function createCategoryLookup({ catalog: db }: CatalogDeps): CategoryLookup {
  const known = new Map<string, string | null>();
  return async (pluggyCategoryIds) => {
    const missing = [...new Set(pluggyCategoryIds)].filter((id) => !known.has(id));
    if (missing.length > 0) {
      const found = await localCategoryForPluggy({ catalog: db }, missing);
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
