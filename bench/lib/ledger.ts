/**
 * Users' ledgers for the bench, written before the app starts: the bench ledger tool (the app's own
 * UserLedger class, bench/ledger-tool) wakes each ledger through its RPC methods on the app's state
 * directory (its migrations create the tables; its item and account are written by `applyItem` and
 * `applyAccounts`), then stops; the largest user's ledger is then filled straight through SQLite
 * (seed-ledger.ts) while nothing has it open.
 */
import { api, expectStatus } from "./context.ts";
import { ledgerFile, runSeeder, startLedgerTool, type SourceTree } from "./instances.ts";

export interface LedgerOwner {
  userId: string;
  itemId: string;
  accountPluggyId: string;
}

export interface BytesMeasurement {
  userId: string;
  /** Rows written through applyTransactionsPage, as each page reported them (added). */
  written: number;
  pages: number;
  writeMs: number;
  /** The ledger's `databaseSize()` after the writes. */
  bytes: number;
  footprint: { items: number; accounts: number; transactions: number; categorySyncJobs: number };
}

export interface LedgerSetup {
  /** The largest user's ledger, filled with `rows` transactions (pagination). */
  largest?: { userId: string; rows: number; file: string; summary: string; ms: number };
  /** One ledger with `rows` transactions written as a sync writes them, and its size (ledger bytes). */
  bytes?: BytesMeasurement;
  /** Ledgers woken with their item and account (replay's owners). */
  prepared: number;
}

const BYTES_PAGE = 500;

async function prepare(base: string, owner: LedgerOwner): Promise<{ ledgerId: string; accountId: string }> {
  const answer = await api<{ data: { ledgerId: string; accountId: string } }>(base, "/__tool/ledger/prepare", { json: owner, timeoutMs: 60_000 });
  expectStatus(answer, [200], `ledger tool: prepare ${owner.userId}`);
  return answer.body.data;
}

export async function setUpLedgers(options: {
  source: SourceTree;
  stateRoot: string;
  appPersist: string;
  port: number;
  largest?: { userId: string; rows: number };
  bytesRows?: number;
  owners?: LedgerOwner[];
}): Promise<LedgerSetup> {
  const out: LedgerSetup = { prepared: 0 };
  const tool = await startLedgerTool(options.source, options.stateRoot, options.port, options.appPersist);
  let largestLedger: { ledgerId: string; accountId: string } | undefined;
  try {
    if (options.largest) {
      largestLedger = await prepare(tool.url, { userId: options.largest.userId, itemId: "bench-item-0000", accountPluggyId: "bench-pluggy-account-0000" });
    }
    if (options.bytesRows) {
      const owner = { userId: "bench-bytes-user", itemId: "bench-bytes-item", accountPluggyId: "bench-bytes-account" };
      await prepare(tool.url, owner);
      const started = Date.now();
      let written = 0;
      let pages = 0;
      for (let from = 0; from < options.bytesRows; from += BYTES_PAGE) {
        const answer = await api<{ data: { added: number } }>(tool.url, "/__tool/ledger/fill", {
          json: { ...owner, from, count: Math.min(BYTES_PAGE, options.bytesRows - from) },
          timeoutMs: 60_000,
        });
        expectStatus(answer, [200], "ledger tool: fill");
        written += answer.body.data.added;
        pages++;
      }
      const writeMs = Date.now() - started;
      const size = await api<{ data: { bytes: number; footprint: BytesMeasurement["footprint"] } }>(tool.url, `/__tool/ledger/size?user_id=${owner.userId}`);
      expectStatus(size, [200], "ledger tool: size");
      out.bytes = { userId: owner.userId, written, pages, writeMs, bytes: size.body.data.bytes, footprint: size.body.data.footprint };
    }
    for (const owner of options.owners ?? []) {
      await prepare(tool.url, owner);
      out.prepared++;
    }
  } finally {
    await tool.stop();
  }
  if (options.largest && largestLedger) {
    const started = Date.now();
    const file = ledgerFile(options.appPersist, largestLedger.ledgerId);
    const summary = runSeeder("seed-ledger.ts", [file, String(options.largest.rows), "bench-item-0000", largestLedger.accountId], "seeding the largest ledger");
    out.largest = { userId: options.largest.userId, rows: options.largest.rows, file, summary, ms: Date.now() - started };
  }
  return out;
}
