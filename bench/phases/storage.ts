/**
 * Storage per unit, measured in setup (before the app starts) and reported here:
 *
 * - `ledger-bytes-per-transaction`: one user's ledger written as a Pluggy sync writes it — 100,000
 *   transactions of one account through `applyTransactionsPage` in pages of 500, by the bench ledger
 *   tool (the app's own UserLedger class) — then the ledger's `databaseSize()` RPC (`sql.databaseSize`:
 *   its SQLite pages, indexes and schema included) ÷ rows. Valid when the ledger's footprint shows
 *   exactly those rows (and its one item and account) and every page reported its rows added.
 * - `catalog-bytes-per-user`: a scratch copy of the migrated catalog (D1's SQLite file) gets 10,000
 *   users with two items each — what the catalog holds per user in steady state: item-directory rows
 *   (UUID ids, random order, as registrations arrive) — and the file's page growth ÷ users. Valid when
 *   the directory holds exactly 20,000 rows of 10,000 distinct users.
 */
import { NotMeasurable, type BenchContext } from "../lib/context.ts";
import { fixed } from "../lib/report.ts";

export const STORAGE_GOALS = [
  { name: "ledger-bytes-per-transaction", op: "<=" as const, target: 1000 },
  { name: "catalog-bytes-per-user", op: "<=" as const, target: 2000 },
];

export const LEDGER_BYTES_ROWS = 100_000;
export const CATALOG_USERS = 10_000;
export const CATALOG_ITEMS_PER_USER = 2;

export async function storage(ctx: BenchContext): Promise<void> {
  const phase = "storage";
  const bytes = ctx.shared.ledgers?.bytes;
  const catalog = ctx.shared.catalogBytes;
  if (!bytes && !catalog) throw new NotMeasurable("this tree has no per-user ledger or item directory");
  if (bytes) {
    const perRow = bytes.bytes / LEDGER_BYTES_ROWS;
    ctx.report.row(phase, "ledger written", `${bytes.written.toLocaleString("en-US")} rows in ${bytes.pages} pages`, `applyTransactionsPage, ${(bytes.writeMs / 1000).toFixed(1)} s (${fixed((bytes.written / bytes.writeMs) * 1000, 0)} rows/s)`);
    ctx.report.row(phase, "ledger databaseSize()", `${(bytes.bytes / 2 ** 20).toFixed(1)} MiB`, `${fixed(perRow, 0)} bytes per transaction (indexes and schema included)`);
    const f = bytes.footprint;
    ctx.report.goal(phase, "ledger-bytes-per-transaction", perRow, "<=", 1000, {
      checked: `footprint: ${f.transactions} transactions, ${f.items} item, ${f.accounts} account; ${bytes.written} rows reported added by ${bytes.pages} pages`,
      problem: f.transactions !== LEDGER_BYTES_ROWS || bytes.written !== LEDGER_BYTES_ROWS ? `the ledger holds ${f.transactions} transactions (${bytes.written} reported added), not ${LEDGER_BYTES_ROWS}` : undefined,
    });
  } else {
    ctx.report.notMeasured([STORAGE_GOALS[0] ?? { name: "ledger-bytes-per-transaction", op: "<=", target: 1000 }], "this tree has no per-user ledger");
  }
  if (catalog) {
    const perUser = catalog.growth / catalog.users;
    ctx.report.row(phase, "catalog page growth", `${(catalog.growth / 2 ** 20).toFixed(2)} MiB`, `${catalog.rows.toLocaleString("en-US")} item-directory rows for ${catalog.distinctUsers.toLocaleString("en-US")} users; D1 tables still naming users: ${catalog.tablesWithUserId.join(", ") || "none"}`);
    ctx.report.goal(phase, "catalog-bytes-per-user", perUser, "<=", 2000, {
      checked: `${catalog.rows} directory rows of ${catalog.distinctUsers} distinct users (${catalog.itemsPerUser} items each)`,
      problem: catalog.rows !== catalog.users * catalog.itemsPerUser || catalog.distinctUsers !== catalog.users ? `${catalog.rows} rows of ${catalog.distinctUsers} users, not ${catalog.users * catalog.itemsPerUser} of ${catalog.users}` : undefined,
    });
  } else {
    ctx.report.notMeasured([STORAGE_GOALS[1] ?? { name: "catalog-bytes-per-user", op: "<=", target: 2000 }], "this tree has no item directory");
  }
}
