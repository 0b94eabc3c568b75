import { and, eq, isNull, ne, sql } from "drizzle-orm";
import { categories, categoryMappings } from "../db/schema.ts";
import type { CategoryDto } from "../banking/banking.schemas.ts";
import { AppError, notFound, validationError } from "../platform/errors.ts";
import { newId } from "../platform/ids.ts";
import type { CatalogDeps } from "../platform/services.ts";

/*
 * The local category tree (one tree shared by every user), as operators manage it. A category's
 * Pluggy mapping is shown with it; mappings themselves are managed in mappings.service.ts. Listing
 * is banking's listCategories (the same whole-tree answer for users and operators).
 */

function selectCategories({ catalog: db }: CatalogDeps) {
  return db
    .select({ id: categories.id, name: categories.name, parentId: categories.parentId, pluggyCategoryId: categoryMappings.pluggyCategoryId })
    .from(categories)
    .leftJoin(categoryMappings, eq(categoryMappings.categoryId, categories.id));
}

type CategoryJoinRow = Awaited<ReturnType<typeof selectCategories>>[number];

const toCategoryDto = (row: CategoryJoinRow): CategoryDto => ({
  id: row.id,
  name: row.name,
  parent_id: row.parentId,
  pluggy_category_id: row.pluggyCategoryId,
});

/** One category, or 404. */
export async function getCategory({ catalog: db }: CatalogDeps, id: string): Promise<CategoryDto> {
  const [row] = await selectCategories({ catalog: db }).where(eq(categories.id, id));
  if (!row) throw notFound("category");
  return toCategoryDto(row);
}

async function parentOf({ catalog: db }: CatalogDeps, id: string): Promise<{ exists: boolean; parentId: string | null }> {
  const row = await db.query.categories.findFirst({ columns: { parentId: true }, where: eq(categories.id, id) });
  return row ? { exists: true, parentId: row.parentId } : { exists: false, parentId: null };
}

/**
 * Checks that `parentId` exists and that hanging `id` under it keeps the tree a tree (no category is
 * its own ancestor). The walk is bounded, so a corrupted tree cannot loop forever.
 */
async function assertValidParent({ catalog: db }: CatalogDeps, parentId: string, id?: string): Promise<void> {
  if (id !== undefined && parentId === id) throw validationError("parent_id", "a category cannot be its own parent");
  let current: string | null = parentId;
  for (let depth = 0; current !== null; depth++) {
    if (depth > 64) throw validationError("parent_id", "category tree is too deep");
    const { exists, parentId: next } = await parentOf({ catalog: db }, current);
    if (!exists) {
      if (current === parentId) throw validationError("parent_id", "unknown category");
      break;
    }
    if (id !== undefined && next === id) throw validationError("parent_id", "would make the category its own ancestor");
    current = next;
  }
}

/** Two siblings with the same name (ignoring case) would be indistinguishable in every picker: 409. */
async function assertUniqueSiblingName({ catalog: db }: CatalogDeps, name: string, parentId: string | null, exceptId?: string): Promise<void> {
  const clash = await db.query.categories.findFirst({
    columns: { id: true },
    where: and(
      parentId === null ? isNull(categories.parentId) : eq(categories.parentId, parentId),
      sql`lower(${categories.name}) = lower(${name})`,
      exceptId === undefined ? undefined : ne(categories.id, exceptId),
    ),
  });
  if (clash) throw new AppError("conflict", `a category named "${name}" already exists at that place in the tree (${clash.id})`);
}

/** Creates a category (under `parentId` when given, which must exist). */
export async function createCategory({ catalog: db }: CatalogDeps, input: { name: string; parentId?: string | null | undefined }, now: Date = new Date()): Promise<CategoryDto> {
  if (input.parentId) await assertValidParent({ catalog: db }, input.parentId);
  await assertUniqueSiblingName({ catalog: db }, input.name, input.parentId ?? null);
  const at = now.toISOString();
  const id = newId();
  await db.insert(categories).values({ id, name: input.name, parentId: input.parentId ?? null, createdAt: at, updatedAt: at });
  return getCategory({ catalog: db }, id);
}

/** Renames and/or moves a category; moving it under itself or a descendant is refused. */
export async function updateCategory(
  { catalog: db }: CatalogDeps,
  id: string,
  input: { name?: string | undefined; parentId?: string | null | undefined },
  now: Date = new Date(),
): Promise<CategoryDto> {
  const existing = await db.query.categories.findFirst({ where: eq(categories.id, id) });
  if (!existing) throw notFound("category");
  if (input.parentId) await assertValidParent({ catalog: db }, input.parentId, id);
  if (input.name !== undefined || input.parentId !== undefined) {
    await assertUniqueSiblingName({ catalog: db }, input.name ?? existing.name, input.parentId !== undefined ? input.parentId : existing.parentId, id);
  }
  const set: Partial<typeof categories.$inferInsert> = { updatedAt: now.toISOString() };
  if (input.name !== undefined) set.name = input.name;
  if (input.parentId !== undefined) set.parentId = input.parentId;
  await db.update(categories).set(set).where(eq(categories.id, id));
  return getCategory({ catalog: db }, id);
}

/**
 * Deletes a category with its mapping, in one batch. Transactions that used it become uncategorized
 * without being written: each user's ledger keeps the id, and every read shows a category the catalog
 * no longer has as none (so a delete costs the same for one user or millions). A category with
 * children is a 409: move or delete them first, so nothing is orphaned.
 */
export async function deleteCategory({ catalog: db }: CatalogDeps, id: string): Promise<void> {
  const existing = await db.query.categories.findFirst({ where: eq(categories.id, id) });
  if (!existing) throw notFound("category");
  const child = await db.query.categories.findFirst({ columns: { id: true }, where: eq(categories.parentId, id) });
  if (child) throw new AppError("conflict", "category has child categories; move or delete them first");
  await db.batch([db.delete(categoryMappings).where(eq(categoryMappings.categoryId, id)), db.delete(categories).where(eq(categories.id, id))]);
}
