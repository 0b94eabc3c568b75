/**
 * The default local category tree seeded by `npm run dev` (and importable from the console), each
 * mapped to the id in Pluggy's real category tree that means the same thing — at any depth: "Fuel" is
 * `19050001` "Gas stations", not its parent `19050000` "Automotive". Ids are fixed so seeding is idempotent.
 */
export interface DefaultCategory {
  id: string;
  name: string;
  parentId: string | null;
  pluggyCategoryId: string | null;
}

const id = (n: number): string => `00000000-0000-4000-8000-${n.toString().padStart(12, "0")}`;

export const DEFAULT_CATEGORIES: DefaultCategory[] = [
  { id: id(1), name: "Income", parentId: null, pluggyCategoryId: "01000000" },
  { id: id(2), name: "Salary", parentId: id(1), pluggyCategoryId: "01010000" },
  { id: id(3), name: "Housing", parentId: null, pluggyCategoryId: "17000000" },
  { id: id(4), name: "Rent", parentId: id(3), pluggyCategoryId: "17010000" },
  { id: id(5), name: "Utilities", parentId: id(3), pluggyCategoryId: "17020000" },
  { id: id(6), name: "Food", parentId: null, pluggyCategoryId: "11000000" },
  { id: id(7), name: "Groceries", parentId: id(6), pluggyCategoryId: "10000000" },
  { id: id(8), name: "Restaurants", parentId: id(6), pluggyCategoryId: "11010000" },
  { id: id(9), name: "Delivery", parentId: id(6), pluggyCategoryId: "11020000" },
  { id: id(10), name: "Transportation", parentId: null, pluggyCategoryId: "19000000" },
  { id: id(11), name: "Ride-hailing", parentId: id(10), pluggyCategoryId: "19010000" },
  { id: id(12), name: "Fuel", parentId: id(10), pluggyCategoryId: "19050001" },
  { id: id(13), name: "Health", parentId: null, pluggyCategoryId: "18000000" },
  { id: id(14), name: "Pharmacy", parentId: id(13), pluggyCategoryId: "18020000" },
  { id: id(15), name: "Shopping", parentId: null, pluggyCategoryId: "08000000" },
  { id: id(16), name: "Subscriptions", parentId: null, pluggyCategoryId: "09000000" },
  { id: id(17), name: "Transfers", parentId: null, pluggyCategoryId: "05000000" },
  { id: id(18), name: "Pix", parentId: id(17), pluggyCategoryId: "05070000" },
  { id: id(19), name: "Credit card payment", parentId: id(17), pluggyCategoryId: "05100000" },
  { id: id(20), name: "Taxes and fees", parentId: null, pluggyCategoryId: "15000000" },
  { id: id(21), name: "Bank fees", parentId: id(20), pluggyCategoryId: "16000000" },
  { id: id(22), name: "Leisure", parentId: null, pluggyCategoryId: "21000000" },
  { id: id(23), name: "Travel", parentId: id(22), pluggyCategoryId: "12000000" },
  { id: id(24), name: "Investments", parentId: null, pluggyCategoryId: "03000000" },
  { id: id(25), name: "Personal projects", parentId: null, pluggyCategoryId: null },
  { id: id(26), name: "Other", parentId: null, pluggyCategoryId: "99999999" },
];

/**
 * Mappings an earlier version of this tree seeded onto the wrong Pluggy id. Seeding moves a default
 * category off the old id only while it still holds it, so a mapping an operator chose is left alone.
 */
export const DEFAULT_MAPPING_CORRECTIONS: ReadonlyArray<{ categoryId: string; from: string; to: string }> = [
  // "Fuel" was mapped to "Automotive" (the parent of gas stations, parking, tolls, repairs...).
  { categoryId: id(12), from: "19050000", to: "19050001" },
];

/**
 * Idempotent SQL that inserts the default tree and its mappings (existing rows are left alone), then
 * applies DEFAULT_MAPPING_CORRECTIONS to databases an earlier seed filled.
 */
export function defaultCategoriesSql(now: string): string {
  const quote = (value: string | null) => (value === null ? "NULL" : `'${value.replaceAll("'", "''")}'`);
  const lines = DEFAULT_CATEGORIES.map(
    (c) =>
      `INSERT OR IGNORE INTO categories (id, name, parent_id, created_at, updated_at) VALUES (${quote(c.id)}, ${quote(c.name)}, ${quote(c.parentId)}, ${quote(now)}, ${quote(now)});`,
  );
  for (const c of DEFAULT_CATEGORIES) {
    if (c.pluggyCategoryId === null) continue;
    lines.push(
      `INSERT OR IGNORE INTO category_mappings (category_id, pluggy_category_id, created_at, updated_at) VALUES (${quote(c.id)}, ${quote(c.pluggyCategoryId)}, ${quote(now)}, ${quote(now)});`,
    );
  }
  for (const fix of DEFAULT_MAPPING_CORRECTIONS) {
    lines.push(
      `UPDATE category_mappings SET pluggy_category_id = ${quote(fix.to)}, updated_at = ${quote(now)} WHERE category_id = ${quote(fix.categoryId)} AND pluggy_category_id = ${quote(fix.from)};`,
    );
  }
  return lines.join("\n") + "\n";
}
