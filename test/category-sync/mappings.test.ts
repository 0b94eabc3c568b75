import { describe, expect, it } from "vitest";
import { categoryMappings, pluggyCategories } from "../../src/db/schema.ts";
import { categoryIdForPluggy, localCategoryForPluggy, structuralPluggyParent } from "../../src/category-sync/mappings.service.ts";
import { makeCategory } from "../helpers/factories.ts";
import { db } from "./support.ts";

/*
 * How incoming Pluggy categories become local ones (`localCategoryForPluggy`, used by the transaction
 * upserts). Pluggy ids here are made up per test (storage is per file), so tests never share mappings.
 */

async function mapTo(pluggyCategoryId: string, options: { createdAt?: string; id?: string } = {}) {
  const category = await makeCategory(options.id ? { id: options.id } : {});
  const at = options.createdAt ?? new Date().toISOString();
  await db().insert(categoryMappings).values({ categoryId: category.id, pluggyCategoryId, createdAt: at, updatedAt: at });
  return category.id;
}

async function cacheTree(rows: Array<{ id: string; parentId: string | null }>) {
  const fetchedAt = new Date().toISOString();
  await db()
    .insert(pluggyCategories)
    .values(rows.map((r) => ({ id: r.id, description: `Pluggy ${r.id}`, parentId: r.parentId, fetchedAt })));
}

describe("structuralPluggyParent", () => {
  it.each([
    ["05080000", "05000000"],
    ["05000000", null],
    ["05081234", "05080000"],
    ["0508", null],
    ["abcdefgh", null],
  ])("%s → %s", (id, parent) => {
    expect(structuralPluggyParent(id)).toBe(parent);
  });
});

describe("localCategoryForPluggy", () => {
  it("maps each Pluggy id to its directly mapped local category; unmapped ids are absent", async () => {
    const a = await mapTo("81010000");
    const b = await mapTo("81020000");
    const result = await localCategoryForPluggy({ catalog: db() }, ["81010000", "81020000", "81030000", "81010000"]);
    expect(result).toEqual(
      new Map([
        ["81010000", a],
        ["81020000", b],
      ]),
    );
  });

  it("answers an empty map for no ids", async () => {
    expect((await localCategoryForPluggy({ catalog: db() }, [])).size).toBe(0);
  });

  it("picks deterministically when several local categories map to one Pluggy id: earliest mapping, then smallest id", async () => {
    const later = await mapTo("82010000", { createdAt: "2026-01-02T00:00:00.000Z" });
    const earliest = await mapTo("82010000", { createdAt: "2026-01-01T00:00:00.000Z" });
    expect((await localCategoryForPluggy({ catalog: db() }, ["82010000"])).get("82010000")).toBe(earliest);
    expect(later).not.toBe(earliest);

    const at = "2026-01-01T00:00:00.000Z";
    const high = await mapTo("82020000", { createdAt: at, id: "ffffffff-0000-4000-8000-000000000000" });
    const low = await mapTo("82020000", { createdAt: at, id: "00000001-0000-4000-8000-000000000000" });
    for (let i = 0; i < 3; i++) expect((await localCategoryForPluggy({ catalog: db() }, ["82020000"])).get("82020000")).toBe(low);
    expect(high).not.toBe(low);
  });

  it("falls back to the parent's mapping (from the cached Pluggy tree) for a child with no direct mapping", async () => {
    // The cached parent is not the structural one, so this proves the cache is read.
    await cacheTree([
      { id: "83000000", parentId: null },
      { id: "84550000", parentId: "83000000" },
    ]);
    const parent = await mapTo("83000000");
    expect((await localCategoryForPluggy({ catalog: db() }, ["84550000"])).get("84550000")).toBe(parent);
  });

  it("prefers a direct mapping over the parent's", async () => {
    const parent = await mapTo("85000000");
    const child = await mapTo("85010000");
    const result = await localCategoryForPluggy({ catalog: db() }, ["85010000", "85020000"]);
    expect(result.get("85010000")).toBe(child);
    expect(result.get("85020000")).toBe(parent);
  });

  it("walks up the id structure when the tree is not cached, nearest ancestor first", async () => {
    const root = await mapTo("86000000");
    const middle = await mapTo("86120000");
    const result = await localCategoryForPluggy({ catalog: db() }, ["86121234", "86130000", "87000000"]);
    expect(result.get("86121234")).toBe(middle);
    expect(result.get("86130000")).toBe(root);
    expect(result.has("87000000")).toBe(false);
  });

  it("handles more ids than one statement can bind", async () => {
    const root = await mapTo("88000000");
    const ids = Array.from({ length: 250 }, (_, i) => `88${String(i + 1).padStart(2, "0").slice(-2)}${String(i).padStart(4, "0")}`);
    const result = await localCategoryForPluggy({ catalog: db() }, ids);
    expect(result.size).toBe(new Set(ids).size);
    expect([...result.values()].every((id) => id === root)).toBe(true);
  });
});

describe("categoryIdForPluggy", () => {
  it("derives a stable version-8 uuid per Pluggy id", async () => {
    const a = await categoryIdForPluggy("05070000");
    expect(a).toBe(await categoryIdForPluggy("05070000"));
    expect(a).not.toBe(await categoryIdForPluggy("05080000"));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
