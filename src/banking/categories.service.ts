import { eq } from "drizzle-orm";
import { categories, categoryMappings, type CategoryRow } from "../db/schema.ts";
import type { CategoryDto } from "./banking.schemas.ts";
import type { CatalogDeps } from "../platform/services.ts";

/** Names sort the way a Portuguese-speaking user reads them: "Água" beside "Aluguel", case ignored. */
const byName = new Intl.Collator("pt-BR", { sensitivity: "base", numeric: true });

/** A category row plus its Pluggy mapping → the contract's Category. */
export function serializeCategory(row: CategoryRow, pluggyCategoryId: string | null): CategoryDto {
  return { id: row.id, name: row.name, parent_id: row.parentId, pluggy_category_id: pluggyCategoryId };
}

/**
 * Every category (one global tree shared by all users) with the Pluggy category it maps to, in name
 * order (ties by id). Deliberately not paginated: the tree is curated by operators and small, and the
 * frontend needs all of it at once to render the picker with its parents.
 */
export async function listCategories({ catalog: db }: CatalogDeps): Promise<CategoryDto[]> {
  const rows = await db
    .select({ category: categories, pluggyCategoryId: categoryMappings.pluggyCategoryId })
    .from(categories)
    .leftJoin(categoryMappings, eq(categoryMappings.categoryId, categories.id));
  rows.sort((a, b) => byName.compare(a.category.name, b.category.name) || (a.category.id < b.category.id ? -1 : a.category.id > b.category.id ? 1 : 0));
  return rows.map((r) => serializeCategory(r.category, r.pluggyCategoryId));
}
