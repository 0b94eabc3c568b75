/**
 * Fills a local D1 database file with bench data, straight through SQLite (node:sqlite), while no
 * Worker has it open: `node bench/lib/seed-transactions.ts <d1.sqlite> <rows> <users> <largest-user-rows> [extra.sql]`
 * (rows 0: only run extra.sql).
 *
 * Why not `wrangler d1 execute`: the same recursive-CTE INSERT through it took 14 s per 250,000 rows
 * (about a minute for 1,000,000) on the 2-core bench machine; here the app's indexes are dropped, rows
 * inserted in one statement and the indexes rebuilt from their own `CREATE INDEX` text (same schema
 * after as before), about 20 s for 1,000,000 rows.
 *
 * Data: user `bench-user-0000` has `largest-user-rows` transactions (enough for page 10,000 at 50 a
 * page); the rest are spread over `bench-user-0001…`. Dates cover five years, so many rows share a
 * date and the keyset's id tie-break is exercised. One item and one account per user.
 */
import { readFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";

const [file, rowsArg, usersArg, largestArg, extraSqlFile] = process.argv.slice(2);
if (!file || !rowsArg || !usersArg || !largestArg) {
  console.error("usage: seed-transactions.ts <d1.sqlite> <rows> <users> <largest-user-rows> [extra.sql]");
  process.exit(2);
}
const rows = Number(rowsArg);
const users = Number(usersArg);
const largest = Number(largestArg);
if (!(rows === 0 || (rows > 0 && users > 1 && largest > 0 && largest <= rows))) {
  console.error("invalid sizes");
  process.exit(2);
}

const started = Date.now();
const db = new DatabaseSync(file);
db.exec("PRAGMA synchronous = OFF; PRAGMA cache_size = -1000000; PRAGMA temp_store = MEMORY;");
if (extraSqlFile) db.exec(readFileSync(extraSqlFile, "utf8"));

if (rows === 0) {
  // Only the extra SQL (e.g. the default categories).
  db.close();
  console.log(JSON.stringify({ rows: 0, totalMs: Date.now() - started }));
  process.exit(0);
}

const others = users - 1;
const userOf = (n: string) => `CASE WHEN ${n} < ${largest} THEN 0 ELSE 1 + (${n} % ${others}) END`;
const now = new Date().toISOString();
const indexes = db
  .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'transactions' AND sql IS NOT NULL")
  .all() as Array<{ name: string; sql: string }>;

db.exec("BEGIN");
db.exec(`
  INSERT INTO items (id, user_id, connector_id, connector_name, status, execution_status, created_at, updated_at)
  WITH RECURSIVE u(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM u WHERE n < ${users - 1})
  SELECT printf('bench-item-%04d', n), printf('bench-user-%04d', n), 0, 'Pluggy Bank', 'UPDATED', 'SUCCESS', '${now}', '${now}' FROM u;
  INSERT INTO accounts (id, pluggy_id, item_id, user_id, name, type, subtype, number, balance_minor, currency_code, created_at, updated_at)
  WITH RECURSIVE u(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM u WHERE n < ${users - 1})
  SELECT printf('bench-account-%04d', n), printf('bench-pluggy-account-%04d', n), printf('bench-item-%04d', n), printf('bench-user-%04d', n),
         'Conta Corrente', 'BANK', 'CHECKING_ACCOUNT', '0001/12345-0', 100000, 'BRL', '${now}', '${now}' FROM u;
`);
for (const index of indexes) db.exec(`DROP INDEX "${index.name}"`);
db.exec(`
  INSERT INTO transactions (id, pluggy_id, user_id, account_id, item_id, date, description, description_folded, amount_minor,
                            currency_code, type, status, category_id, category_set_by_user, category_version, created_at, updated_at)
  WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ${rows - 1})
  SELECT printf('b0000000-0000-4000-8000-%012d', n), printf('bench-pluggy-tx-%d', n),
         printf('bench-user-%04d', ${userOf("n")}), printf('bench-account-%04d', ${userOf("n")}), printf('bench-item-%04d', ${userOf("n")}),
         date('2021-01-01', '+' || ((n * 7919) % 1826) || ' days'),
         'Compra ' || n, 'compra ' || n, -((n * 37) % 100000) - 1, 'BRL',
         CASE WHEN n % 5 = 0 THEN 'CREDIT' ELSE 'DEBIT' END, 'POSTED', NULL, 0, 0, '${now}', '${now}'
  FROM seq;
`);
const inserted = Date.now();
for (const index of indexes) db.exec(index.sql);
db.exec("COMMIT");
const count = (db.prepare("SELECT count(*) AS c FROM transactions").get() as { c: number }).c;
db.close();
console.log(JSON.stringify({ rows: count, insertMs: inserted - started, indexMs: Date.now() - inserted, totalMs: Date.now() - started }));
