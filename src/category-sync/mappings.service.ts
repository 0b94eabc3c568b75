import { asc, eq, inArray, lt, sql, type SQL } from "drizzle-orm";
import { chunk, rowsPerStatement } from "../db/client.ts";
import { categories, categoryMappings, pluggyCategories } from "../db/schema.ts";
import { notFound, validationError } from "../platform/errors.ts";
import { pluggyErrorToAppError } from "../pluggy/pluggy.http.ts";
import type { CatalogDeps, Services } from "../platform/services.ts";

/** What reads Pluggy's category tree: the catalog (its cache), Pluggy, and optionally a logger for refresh failures. */
export type PluggyCategoryDeps = Pick<Services, "catalog" | "pluggy"> & Partial<Pick<Services, "logger">>;

/** Pluggy's tree changes rarely: the cached copy is refreshed when older than this. */
export const PLUGGY_CATEGORIES_TTL_MS = 24 * 60 * 60_000;

export type PluggyCategoryRow = typeof pluggyCategories.$inferSelect;

export interface PluggyCategoryDto {
  id: string;
  description: string;
  description_translated: string | null;
  parent_id: string | null;
  parent_description: string | null;
  fetched_at: string;
}

export interface CategoryMappingDto {
  category_id: string;
  category_name: string;
  parent_id: string | null;
  pluggy_category_id: string | null;
  pluggy_category_name: string | null;
  updated_at: string | null;
}

const toPluggyCategoryDto = (row: PluggyCategoryRow): PluggyCategoryDto => ({
  id: row.id,
  description: row.description,
  description_translated: row.descriptionTranslated,
  parent_id: row.parentId,
  parent_description: row.parentDescription,
  fetched_at: row.fetchedAt,
});

/**
 * Pluggy's category tree from the D1 cache, fetched from Pluggy first when the cache is empty, older
 * than a day, or `refresh` is asked. When Pluggy is down and a (stale) copy exists, the copy is served
 * rather than failing the console; a forced refresh or an empty cache reports the upstream failure.
 */
export async function getPluggyCategories(
  deps: PluggyCategoryDeps,
  options: { refresh?: boolean; now?: Date } = {},
): Promise<PluggyCategoryRow[]> {
  const { catalog: db, logger } = deps;
  const now = options.now ?? new Date();
  const cached = await db.select().from(pluggyCategories).orderBy(asc(pluggyCategories.id));
  const oldest = cached.reduce<string | undefined>((min, row) => (min === undefined || row.fetchedAt < min ? row.fetchedAt : min), undefined);
  const stale = oldest === undefined || Date.parse(oldest) < now.getTime() - PLUGGY_CATEGORIES_TTL_MS;
  if (!options.refresh && !stale) return cached;
  try {
    return await refreshPluggyCategories(deps, now);
  } catch (error) {
    if (!options.refresh && cached.length > 0) {
      logger?.warn("Pluggy categories refresh failed; serving the cached copy", { error: error instanceof Error ? error.message : String(error) });
      return cached;
    }
    throw pluggyErrorToAppError(error, logger);
  }
}

/** Replaces the cached tree with Pluggy's current one (one atomic batch). */
export async function refreshPluggyCategories({ catalog: db, pluggy }: Pick<Services, "catalog" | "pluggy">, now: Date = new Date()): Promise<PluggyCategoryRow[]> {
  const fetched = await pluggy.listCategories();
  const fetchedAt = now.toISOString();
  const rows: PluggyCategoryRow[] = [...new Map(fetched.map((c) => [c.id, c])).values()].map((c) => ({
    id: c.id,
    description: c.description,
    descriptionTranslated: c.descriptionTranslated ?? null,
    parentId: c.parentId ?? null,
    parentDescription: c.parentDescription ?? null,
    fetchedAt,
  }));
  if (rows.length === 0) return [];
  const upserts = chunk(rows, rowsPerStatement(6)).map((part) =>
    db
      .insert(pluggyCategories)
      .values(part)
      .onConflictDoUpdate({
        target: pluggyCategories.id,
        set: {
          description: sql.raw(`excluded.${pluggyCategories.description.name}`),
          descriptionTranslated: sql.raw(`excluded.${pluggyCategories.descriptionTranslated.name}`),
          parentId: sql.raw(`excluded.${pluggyCategories.parentId.name}`),
          parentDescription: sql.raw(`excluded.${pluggyCategories.parentDescription.name}`),
          fetchedAt: sql.raw(`excluded.${pluggyCategories.fetchedAt.name}`),
        },
      }),
  );
  const [first, ...rest] = upserts;
  if (!first) return [];
  // Categories Pluggy no longer lists are the ones this refresh did not touch.
  await db.batch([first, ...rest, db.delete(pluggyCategories).where(lt(pluggyCategories.fetchedAt, fetchedAt))]);
  return rows.sort((a, b) => a.id.localeCompare(b.id));
}

/** The API shape of the cached tree. */
export function serializePluggyCategories(rows: PluggyCategoryRow[]): PluggyCategoryDto[] {
  return rows.map(toPluggyCategoryDto);
}

/**
 * The parent of a Pluggy category id from its structure (`AABBCCDD` → `AABB0000` → `AA000000`),
 * used when the cached tree does not know the id.
 */
export function structuralPluggyParent(id: string): string | null {
  if (!/^\d{8}$/.test(id)) return null;
  if (id.slice(4) !== "0000") return `${id.slice(0, 4)}0000`;
  if (id.slice(2, 4) !== "00") return `${id.slice(0, 2)}000000`;
  return null;
}

/**
 * For incoming Pluggy transactions: Pluggy category id → the local category to give a transaction the
 * user has not categorized. A direct mapping wins; otherwise the nearest ancestor's mapping (parents from
 * the cached Pluggy tree, else from the id's structure). When several local categories map to one
 * Pluggy id, the earliest mapping wins (then the smallest category id), so the choice is stable.
 * Ids with no mapping anywhere up their chain are absent from the result.
 */
export async function localCategoryForPluggy({ catalog: db }: CatalogDeps, pluggyCategoryIds: string[]): Promise<Map<string, string>> {
  const wanted = [...new Set(pluggyCategoryIds.filter((id) => typeof id === "string" && id.length > 0))];
  const result = new Map<string, string>();
  if (wanted.length === 0) return result;

  // Resolve each id's ancestor chain, reading parents from the cache level by level.
  const parents = new Map<string, string | null>();
  let frontier = wanted;
  for (let depth = 0; depth < 8 && frontier.length > 0; depth++) {
    const unknown = frontier.filter((id) => !parents.has(id));
    const known = new Map<string, string | null>();
    for (const part of chunk(unknown, 90)) {
      const rows = await db.select({ id: pluggyCategories.id, parentId: pluggyCategories.parentId }).from(pluggyCategories).where(inArray(pluggyCategories.id, part));
      for (const row of rows) known.set(row.id, row.parentId);
    }
    const next: string[] = [];
    for (const id of unknown) {
      const parent = known.has(id) ? (known.get(id) ?? null) : structuralPluggyParent(id);
      parents.set(id, parent !== id ? parent : null);
      if (parent && parent !== id && !parents.has(parent)) next.push(parent);
    }
    frontier = next;
  }
  const chains = new Map<string, string[]>();
  for (const id of wanted) {
    const chain: string[] = [];
    for (let current: string | null | undefined = id; current && !chain.includes(current) && chain.length < 8; current = parents.get(current)) chain.push(current);
    chains.set(id, chain);
  }

  const candidates = [...new Set([...chains.values()].flat())];
  const mapped = new Map<string, string>();
  for (const part of chunk(candidates, 90)) {
    const rows = await db
      .select({ pluggyCategoryId: categoryMappings.pluggyCategoryId, categoryId: categoryMappings.categoryId })
      .from(categoryMappings)
      .where(inArray(categoryMappings.pluggyCategoryId, part))
      .orderBy(asc(categoryMappings.createdAt), asc(categoryMappings.categoryId));
    for (const row of rows) if (!mapped.has(row.pluggyCategoryId)) mapped.set(row.pluggyCategoryId, row.categoryId);
  }
  for (const [id, chain] of chains) {
    const hit = chain.find((candidate) => mapped.has(candidate));
    const local = hit === undefined ? undefined : mapped.get(hit);
    if (local !== undefined) result.set(id, local);
  }
  return result;
}

/** Same order as the category list: names as a Portuguese-speaking user reads them, ties by id. */
const byName = new Intl.Collator("pt-BR", { sensitivity: "base", numeric: true });

function selectMappings({ catalog: db }: CatalogDeps, where: SQL | undefined) {
  return db
    .select({
      id: categories.id,
      name: categories.name,
      parentId: categories.parentId,
      pluggyCategoryId: categoryMappings.pluggyCategoryId,
      pluggyCategoryName: pluggyCategories.description,
      mappedAt: categoryMappings.updatedAt,
    })
    .from(categories)
    .leftJoin(categoryMappings, eq(categoryMappings.categoryId, categories.id))
    .leftJoin(pluggyCategories, eq(pluggyCategories.id, categoryMappings.pluggyCategoryId))
    .where(where);
}

type MappingRow = Awaited<ReturnType<typeof selectMappings>>[number];

const toMappingDto = (row: MappingRow): CategoryMappingDto => ({
  category_id: row.id,
  category_name: row.name,
  parent_id: row.parentId,
  pluggy_category_id: row.pluggyCategoryId,
  pluggy_category_name: row.pluggyCategoryName,
  updated_at: row.mappedAt,
});

/**
 * Every local category with its Pluggy mapping (or null) and the Pluggy category's name. The whole
 * tree in one answer, like the category list (small, operator-curated).
 */
export async function listCategoryMappings({ catalog: db }: CatalogDeps): Promise<CategoryMappingDto[]> {
  const rows = await selectMappings({ catalog: db }, undefined);
  rows.sort((a, b) => byName.compare(a.name, b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return rows.map(toMappingDto);
}

/** One category's mapping entry; 404 when the category does not exist. */
export async function getCategoryMapping({ catalog: db }: CatalogDeps, categoryId: string): Promise<CategoryMappingDto> {
  const [row] = await selectMappings({ catalog: db }, eq(categories.id, categoryId));
  if (!row) throw notFound("category");
  return toMappingDto(row);
}

/**
 * Maps a local category to a Pluggy category, after checking the id against Pluggy's (cached) tree so
 * a typo can never reach Pluggy as a category change. The consumer reads the mapping at send time, so
 * pending syncs pick up the new target.
 */
export async function setCategoryMapping(
  deps: PluggyCategoryDeps,
  categoryId: string,
  pluggyCategoryId: string,
  options: { now?: Date } = {},
): Promise<CategoryMappingDto> {
  const { catalog: db } = deps;
  const now = options.now ?? new Date();
  const category = await db.query.categories.findFirst({ where: eq(categories.id, categoryId) });
  if (!category) throw notFound("category");
  const tree = await getPluggyCategories(deps, { now });
  if (!tree.some((c) => c.id === pluggyCategoryId)) throw validationError("pluggy_category_id", "not one of Pluggy's categories");
  const at = now.toISOString();
  await db
    .insert(categoryMappings)
    .values({ categoryId, pluggyCategoryId, createdAt: at, updatedAt: at })
    .onConflictDoUpdate({ target: categoryMappings.categoryId, set: { pluggyCategoryId, updatedAt: at } });
  return getCategoryMapping({ catalog: db }, categoryId);
}

/** Removes a category's mapping (its changes are then skipped, not synced). 404 when the category does not exist. */
export async function deleteCategoryMapping({ catalog: db }: CatalogDeps, categoryId: string): Promise<void> {
  const category = await db.query.categories.findFirst({ where: eq(categories.id, categoryId) });
  if (!category) throw notFound("category");
  await db.delete(categoryMappings).where(eq(categoryMappings.categoryId, categoryId));
}

/** A stable uuid (RFC 9562 version 8) derived from a Pluggy category id, so imports are idempotent. */
export async function categoryIdForPluggy(pluggyCategoryId: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`pluggy-category:${pluggyCategoryId}`)));
  const bytes = digest.slice(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface ImportResult {
  /** Pluggy categories in the tree. */
  total: number;
  /** Local categories created (each mapped 1:1). */
  created: number;
  /** Pluggy categories some local category already mapped to (left alone). */
  existing: number;
}

/**
 * Imports Pluggy's tree as local categories mapped 1:1, keeping the hierarchy. Pluggy categories that
 * a local category already maps to are reused (also as parents), so running it again, or after seeding
 * the default tree, creates nothing twice. Ids derive from Pluggy ids, so concurrent imports agree.
 */
export async function importPluggyCategories(deps: PluggyCategoryDeps, options: { now?: Date } = {}): Promise<ImportResult> {
  const { catalog: db } = deps;
  const now = options.now ?? new Date();
  const tree = await getPluggyCategories(deps, { now });
  const existingRows = await db
    .select({ pluggyCategoryId: categoryMappings.pluggyCategoryId, categoryId: categoryMappings.categoryId })
    .from(categoryMappings)
    .orderBy(asc(categoryMappings.createdAt), asc(categoryMappings.categoryId));
  const localFor = new Map<string, string>();
  for (const row of existingRows) if (!localFor.has(row.pluggyCategoryId)) localFor.set(row.pluggyCategoryId, row.categoryId);

  // Parents before children, whatever the order Pluggy listed them in.
  const byId = new Map(tree.map((c) => [c.id, c]));
  const depth = (id: string): number => {
    let d = 0;
    for (let p = byId.get(id)?.parentId; p && d < 8; p = byId.get(p)?.parentId) d++;
    return d;
  };
  const ordered = [...tree].sort((a, b) => depth(a.id) - depth(b.id) || a.id.localeCompare(b.id));

  const at = now.toISOString();
  const newCategories: Array<typeof categories.$inferInsert> = [];
  const newMappings: Array<typeof categoryMappings.$inferInsert> = [];
  let existing = 0;
  for (const pluggyCategory of ordered) {
    if (localFor.has(pluggyCategory.id)) {
      existing++;
      continue;
    }
    const id = await categoryIdForPluggy(pluggyCategory.id);
    const parentId = pluggyCategory.parentId ? (localFor.get(pluggyCategory.parentId) ?? null) : null;
    newCategories.push({ id, name: pluggyCategory.description, parentId, createdAt: at, updatedAt: at });
    newMappings.push({ categoryId: id, pluggyCategoryId: pluggyCategory.id, createdAt: at, updatedAt: at });
    localFor.set(pluggyCategory.id, id);
  }
  const statements = [
    ...chunk(newCategories, rowsPerStatement(5)).map((part) => db.insert(categories).values(part).onConflictDoNothing()),
    ...chunk(newMappings, rowsPerStatement(4)).map((part) => db.insert(categoryMappings).values(part).onConflictDoNothing()),
  ];
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
  return { total: tree.length, created: newCategories.length, existing };
}
