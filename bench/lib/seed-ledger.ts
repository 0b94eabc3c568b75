/**
 * Fills one user's ledger file (a UserLedger Durable Object's SQLite file in wrangler dev's state
 * directory) with bench transactions, straight through SQLite (node:sqlite), while no Worker has it open:
 * `node bench/lib/seed-ledger.ts <ledger.sqlite> <rows> <item-id> <account-id>`.
 *
 * The ledger must exist already (woken once through its RPC methods, so its migrations created the
 * tables, and its item and account written by `applyItem`/`applyAccounts`). As seed-transactions.ts did
 * for D1: the transaction indexes are dropped, the rows inserted by one recursive-CTE INSERT and the
 * indexes rebuilt from their own `CREATE INDEX` text (same schema after as before). The write-ahead log
 * is checkpointed into the file before it is closed, so a copy of the file alone is the whole ledger.
 *
 * Data: `rows` transactions of one account over five years of dates (many rows share a date, so the
 * keyset's id tie-break is exercised), ids `b0000000-0000-4000-8000-<n>`.
 */
import { DatabaseSync } from "node:sqlite";

const [file, rowsArg, itemId, accountId] = process.argv.slice(2);
if (!file || !rowsArg || !itemId || !accountId) {
  console.error("usage: seed-ledger.ts <ledger.sqlite> <rows> <item-id> <account-id>");
  process.exit(2);
}
const rows = Number(rowsArg);
if (!(rows > 0)) {
  console.error("invalid row count");
  process.exit(2);
}

const started = Date.now();
const db = new DatabaseSync(file);
db.exec("PRAGMA synchronous = OFF; PRAGMA cache_size = -1000000; PRAGMA temp_store = MEMORY;");
const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;
const now = new Date().toISOString();
const indexes = db
  .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'transactions' AND sql IS NOT NULL")
  .all() as Array<{ name: string; sql: string }>;
if (indexes.length === 0) throw new Error(`${file}: no transaction indexes (not a migrated ledger?)`);

db.exec("BEGIN");
for (const index of indexes) db.exec(`DROP INDEX "${index.name}"`);
db.exec(`
  INSERT INTO transactions (id, pluggy_id, account_id, item_id, date, description, description_folded, amount_minor,
                            currency_code, type, status, category_id, category_set_by_user, category_version, created_at, updated_at)
  WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ${rows - 1})
  SELECT printf('b0000000-0000-4000-8000-%012d', n), printf('bench-pluggy-tx-%d', n), ${quote(accountId)}, ${quote(itemId)},
         date('2021-01-01', '+' || ((n * 7919) % 1826) || ' days'),
         'Compra ' || n, 'compra ' || n, -((n * 37) % 100000) - 1, 'BRL',
         CASE WHEN n % 5 = 0 THEN 'CREDIT' ELSE 'DEBIT' END, 'POSTED', NULL, 0, 0, '${now}', '${now}'
  FROM seq;
`);
const inserted = Date.now();
for (const index of indexes) db.exec(index.sql);
db.exec("COMMIT");
db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
const count = (db.prepare("SELECT count(*) AS c FROM transactions").get() as { c: number }).c;
db.close();
console.log(JSON.stringify({ rows: count, insertMs: inserted - started, indexMs: Date.now() - inserted, totalMs: Date.now() - started }));
