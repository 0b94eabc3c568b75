/**
 * The catalog (the app's D1 database) for the bench, straight through SQLite (node:sqlite), while no
 * Worker has the file open. Two modes:
 *
 * - `node bench/lib/seed-catalog.ts seed <d1.sqlite> <users> [extra.sql]`: runs extra.sql (the default
 *   category tree) and writes one item-directory row per bench user (`bench-item-NNNN` → `bench-user-NNNN`,
 *   next reconciliation a day away), as registering an item leaves it. Users' banking rows are not here:
 *   they live in each user's ledger (seed-ledger.ts).
 * - `node bench/lib/seed-catalog.ts bytes <scratch-d1.sqlite> <users> <items-per-user>`: on a scratch
 *   copy of the migrated catalog, what the catalog holds per user in steady state — item-directory rows
 *   (UUID item and user ids, inserted in random order as registrations arrive, one statement each) —
 *   and the file's page growth (`page_count × page_size` after − before). Prints bytes, rows, users.
 */
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { DatabaseSync } from "node:sqlite";

const [mode, file, usersArg, third] = process.argv.slice(2);
if ((mode !== "seed" && mode !== "bytes") || !file || !usersArg) {
  console.error("usage: seed-catalog.ts seed <d1.sqlite> <users> [extra.sql] | bytes <scratch.sqlite> <users> <items-per-user>");
  process.exit(2);
}
const users = Number(usersArg);
const started = Date.now();
const db = new DatabaseSync(file);
const pages = () => {
  const count = (db.prepare("PRAGMA page_count").get() as { page_count: number }).page_count;
  const size = (db.prepare("PRAGMA page_size").get() as { page_size: number }).page_size;
  return count * size;
};

if (mode === "seed") {
  db.exec("PRAGMA synchronous = OFF;");
  if (third) db.exec(readFileSync(third, "utf8"));
  const now = new Date().toISOString();
  const next = new Date(Date.now() + 86_400_000).toISOString();
  if (users > 0) {
    db.exec(`
      INSERT INTO item_directory (item_id, user_id, next_reconcile_at, created_at)
      WITH RECURSIVE u(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM u WHERE n < ${users - 1})
      SELECT printf('bench-item-%04d', n), printf('bench-user-%04d', n), '${next}', '${now}' FROM u;
    `);
  }
  db.close();
  console.log(JSON.stringify({ directoryRows: users, totalMs: Date.now() - started }));
} else {
  const perUser = Number(third ?? 2);
  db.exec("PRAGMA journal_mode = DELETE;");
  const before = pages();
  const rows: Array<[string, string]> = [];
  for (let u = 0; u < users; u++) {
    const userId = randomUUID();
    for (let i = 0; i < perUser; i++) rows.push([randomUUID(), userId]);
  }
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const swap = rows[i] as [string, string];
    rows[i] = rows[j] as [string, string];
    rows[j] = swap;
  }
  const insert = db.prepare("INSERT INTO item_directory (item_id, user_id, next_reconcile_at, created_at) VALUES (?, ?, ?, ?)");
  const base = Date.now();
  db.exec("BEGIN");
  rows.forEach(([itemId, userId], k) => insert.run(itemId, userId, new Date(base + 86_400_000 + k * 1_000).toISOString(), new Date(base + k).toISOString()));
  db.exec("COMMIT");
  const after = pages();
  const counted = db.prepare("SELECT count(*) AS rows, count(DISTINCT user_id) AS users FROM item_directory").get() as { rows: number; users: number };
  const other = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_%' ESCAPE '\\' AND sql LIKE '%user_id%'").all() as Array<{ name: string }>).map((r) => r.name);
  db.close();
  console.log(JSON.stringify({ before, after, growth: after - before, rows: counted.rows, users: counted.users, tablesWithUserId: other, totalMs: Date.now() - started }));
}
