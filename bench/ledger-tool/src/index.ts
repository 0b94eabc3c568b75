/**
 * The bench's ledger tool (local only, never deployed): the app's own `UserLedger` class, run with the
 * app's wrangler.toml (same script name, same Durable Object namespace, so the same ledger files) on
 * the app's state directory before the app starts, or while the app is stopped. It reaches ledgers
 * through their RPC methods, as the app does:
 *
 * - `POST /__tool/ledger/prepare {userId, itemId, accountPluggyId}`: wakes the user's ledger (its
 *   migrations create the tables), writes one item and one account through `applyItem`/`applyAccounts`;
 *   answers the ledger's id (the name of its SQLite file) and the account's local id.
 * - `POST /__tool/ledger/fill {userId, itemId, accountPluggyId, from, count}`: one page of synthetic
 *   transactions through `applyTransactionsPage` (the write path of a Pluggy sync).
 * - `GET /__tool/ledger/size?user_id=`: `databaseSize()` (the ledger's `sql.databaseSize`) and `footprint()`.
 * - `GET /healthz`.
 */
import { ledgerFor } from "../../../src/ledger/user-ledger.ts";
import type { TransactionInput } from "../../../src/ledger/banking.inputs.ts";
import type { AppBindings } from "../../../src/platform/env.ts";

export { UserLedger } from "../../../src/ledger/user-ledger.ts";

const json = (body: unknown, status = 200): Response =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json; charset=utf-8" } });

interface PrepareBody {
  userId: string;
  itemId: string;
  accountPluggyId: string;
}

interface FillBody extends PrepareBody {
  from: number;
  count: number;
}

const NOW = "2026-11-30T00:00:00.000Z";

async function prepare(env: AppBindings, body: PrepareBody): Promise<Response> {
  const ledger = ledgerFor(env, body.userId);
  await ledger.applyItem(body.userId, {
    id: body.itemId,
    connectorId: 0,
    connectorName: "Pluggy Bank",
    connectorImageUrl: null,
    status: "UPDATED",
    executionStatus: "SUCCESS",
    errorCode: null,
    errorMessage: null,
    lastUpdatedAt: NOW,
    pluggyCreatedAt: NOW,
  });
  const accounts = await ledger.applyAccounts(body.itemId, [
    { pluggyId: body.accountPluggyId, name: "Conta Corrente", type: "BANK", subtype: "CHECKING_ACCOUNT", number: "0001/12345-0", balanceMinor: 100_000, currencyCode: "BRL" },
  ]);
  const account = accounts.accounts[body.accountPluggyId];
  if (!account) return json({ error: { code: "internal_error", message: "account not written" } }, 500);
  return json({ data: { ledgerId: env.USER_LEDGER.idFromName(body.userId).toString(), accountId: account.id } });
}

/** Synthetic rows shaped like a Pluggy sync's: a UUID-sized Pluggy id, five years of dates, a description, a Pluggy category. */
function syntheticRows(accountPluggyId: string, from: number, count: number): TransactionInput[] {
  return Array.from({ length: count }, (_, k) => {
    const n = from + k;
    const day = new Date(Date.UTC(2021, 0, 1) + ((n * 7919) % 1826) * 86_400_000).toISOString().slice(0, 10);
    return {
      pluggyId: `b0000000-0000-4000-9000-${String(n).padStart(12, "0")}`,
      accountPluggyId,
      date: day,
      description: `Compra cartao ${n % 997} loja ${n % 89}`,
      amountMinor: -((n * 37) % 100_000) - 1,
      currencyCode: "BRL",
      type: n % 5 === 0 ? "CREDIT" : "DEBIT",
      status: "POSTED",
      categoryId: null,
      pluggyCategoryId: "01000000",
      pluggyCategoryName: "Shopping",
      pluggyCreatedAt: new Date(Date.UTC(2021, 0, 1) + n * 60_000).toISOString(),
    };
  });
}

async function fill(env: AppBindings, body: FillBody): Promise<Response> {
  const ledger = ledgerFor(env, body.userId);
  const accounts = await ledger.localAccounts(body.itemId);
  const counts = await ledger.applyTransactionsPage(body.itemId, accounts, syntheticRows(body.accountPluggyId, body.from, body.count), NOW);
  return json({ data: counts });
}

async function size(env: AppBindings, userId: string): Promise<Response> {
  const ledger = ledgerFor(env, userId);
  const [bytes, footprint] = await Promise.all([ledger.databaseSize(), ledger.footprint()]);
  return json({ data: { bytes, footprint } });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    try {
      if (url.pathname === "/healthz") return json({ data: { status: "ok" } });
      if (url.pathname === "/__tool/ledger/prepare" && request.method === "POST") return await prepare(env, (await request.json()) as PrepareBody);
      if (url.pathname === "/__tool/ledger/fill" && request.method === "POST") return await fill(env, (await request.json()) as FillBody);
      if (url.pathname === "/__tool/ledger/size") return await size(env, url.searchParams.get("user_id") ?? "");
      return json({ error: { code: "not_found", message: "route not found" } }, 404);
    } catch (error) {
      return json({ error: { code: "internal_error", message: error instanceof Error ? error.message : String(error) } }, 500);
    }
  },
} satisfies ExportedHandler<AppBindings>;
