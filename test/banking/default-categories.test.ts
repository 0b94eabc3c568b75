import { env } from "cloudflare:workers";
import { eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { DEFAULT_CATEGORIES, defaultCategoriesSql } from "../../src/banking/default-categories.ts";
import { createDb } from "../../src/db/client.ts";
import { categories, categoryMappings } from "../../src/db/schema.ts";
import recordedCategories from "../../simulator/src/data/pluggy-categories.json" with { type: "json" };

/*
 * The default local tree `npm run dev` seeds: each category mapped to the id in Pluggy's real tree (a
 * recorded `GET /categories` answer) that means the same thing, and a seed that repairs databases an
 * earlier, wrong seed filled without overriding an operator's choice.
 */

const db = () => createDb(env.DB);
const pluggyTree = new Map(recordedCategories.results.map((category) => [category.id, category.description]));

/** Local category → the Pluggy category it means, by Pluggy's own description. */
const MEANT: Record<string, [string, string] | null> = {
  Income: ["01000000", "Income"],
  Salary: ["01010000", "Salary"],
  Housing: ["17000000", "Housing"],
  Rent: ["17010000", "Rent"],
  Utilities: ["17020000", "Utilities"],
  Food: ["11000000", "Food and drinks"],
  Groceries: ["10000000", "Groceries"],
  Restaurants: ["11010000", "Eating out"],
  Delivery: ["11020000", "Food delivery"],
  Transportation: ["19000000", "Transportation"],
  "Ride-hailing": ["19010000", "Taxi and ride-hailing"],
  Fuel: ["19050001", "Gas stations"],
  Health: ["18000000", "Healthcare"],
  Pharmacy: ["18020000", "Pharmacy"],
  Shopping: ["08000000", "Shopping"],
  Subscriptions: ["09000000", "Digital services"],
  Transfers: ["05000000", "Transfers"],
  Pix: ["05070000", "Transfer - PIX"],
  "Credit card payment": ["05100000", "Credit card payment"],
  "Taxes and fees": ["15000000", "Taxes"],
  "Bank fees": ["16000000", "Bank fees"],
  Leisure: ["21000000", "Leisure"],
  Travel: ["12000000", "Travel"],
  Investments: ["03000000", "Investments"],
  "Personal projects": null,
  Other: ["99999999", "Other"],
};

const FUEL = DEFAULT_CATEGORIES.find((category) => category.name === "Fuel")?.id ?? "";

async function runSeed(): Promise<void> {
  const statements = defaultCategoriesSql(new Date().toISOString()).trim().split("\n");
  await env.DB.batch(statements.map((sql) => env.DB.prepare(sql)));
}

async function mappingOf(categoryId: string): Promise<string | undefined> {
  return (await db().query.categoryMappings.findFirst({ where: eq(categoryMappings.categoryId, categoryId) }))?.pluggyCategoryId;
}

describe("the default category tree", () => {
  it("maps each local category to the real Pluggy category that means the same thing, at any depth", () => {
    expect(Object.fromEntries(DEFAULT_CATEGORIES.map((category) => [category.name, category.pluggyCategoryId]))).toEqual(
      Object.fromEntries(Object.entries(MEANT).map(([name, meant]) => [name, meant?.[0] ?? null])),
    );
    for (const [name, meant] of Object.entries(MEANT)) {
      if (meant) expect(pluggyTree.get(meant[0]), `${name} → ${meant[0]}`).toBe(meant[1]);
    }
  });

  it("the seed creates the tree with its mappings, and is idempotent", async () => {
    await runSeed();
    await runSeed();
    const ids = DEFAULT_CATEGORIES.map((category) => category.id);
    expect(await db().select().from(categories).where(inArray(categories.id, ids))).toHaveLength(DEFAULT_CATEGORIES.length);
    const mappings = await db().select().from(categoryMappings).where(inArray(categoryMappings.categoryId, ids));
    expect(Object.fromEntries(mappings.map((row) => [row.categoryId, row.pluggyCategoryId]))).toEqual(
      Object.fromEntries(DEFAULT_CATEGORIES.flatMap((category) => (category.pluggyCategoryId ? [[category.id, category.pluggyCategoryId]] : []))),
    );
  });

  it("the seed moves Fuel off the id an earlier seed gave it (19050000 Automotive), but leaves an operator's own mapping alone", async () => {
    await runSeed();
    await db().update(categoryMappings).set({ pluggyCategoryId: "19050000" }).where(eq(categoryMappings.categoryId, FUEL));
    await runSeed();
    expect(await mappingOf(FUEL)).toBe("19050001");

    await db().update(categoryMappings).set({ pluggyCategoryId: "19050005" }).where(eq(categoryMappings.categoryId, FUEL));
    await runSeed();
    expect(await mappingOf(FUEL)).toBe("19050005");
  });
});
