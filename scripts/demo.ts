/**
 * `npm run demo`: the whole story against a running `npm run dev`, in under a minute.
 *
 *   a user gets a connect token → the simulator "connects" a bank for them (and sends item/created) →
 *   the app registers the item → the first sync lands (progress shown) → a few transactions → one is
 *   recategorized to a mapped category → the change reaches Pluggy (the simulator saw the PATCH) →
 *   metrics and the console URL.
 *
 * Options: --url (FINANCE_HUB_URL, default http://localhost:8787), --simulator-url (default
 * http://localhost:8788), --user (default a fresh demo-<random> user). Tokens are minted with
 * AUTH_JWT_SECRET from the environment or .dev.vars, as `npm run token` does.
 */
import { parseArgs } from "node:util";
import { randomUUID } from "node:crypto";
import { readDevVars } from "./lib/dev-vars.ts";
import { devToken } from "./lib/jwt.ts";

const HELP = `usage: npm run demo -- [--url <app url>] [--simulator-url <simulator url>] [--user <sub>]

Runs the end-to-end story against a running \`npm run dev\` (app and Pluggy simulator).`;

interface Transaction {
  id: string;
  pluggy_id: string | null;
  date: string;
  description: string;
  amount: string;
  currency_code: string;
  category: { id: string; name: string } | null;
  category_sync: { status: string; reason: string | null; attempts: number } | null;
}
interface Category {
  id: string;
  name: string;
  parent_id: string | null;
  pluggy_category_id: string | null;
}

class DemoError extends Error {}

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    "simulator-url": { type: "string" },
    user: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

const appUrl = (values.url ?? process.env.FINANCE_HUB_URL ?? "http://localhost:8787").replace(/\/+$/, "");
const simulatorUrl = (values["simulator-url"] ?? process.env.FINANCE_HUB_SIMULATOR_URL ?? "http://localhost:8788").replace(/\/+$/, "");
const userId = values.user ?? `demo-${randomUUID().slice(0, 8)}`;
const started = Date.now();

const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const step = (n: number, text: string) => console.log(`\n[${n}/8] ${text}  (${elapsed()})`);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** One JSON call; unreachable hosts and error envelopes become a DemoError that says what to do. */
async function call<T>(base: string, method: string, path: string, options: { token?: string; body?: unknown; what: string }): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
        ...(options.body !== undefined ? { "Content-Type": "application/json" } : {}),
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    const which = base === simulatorUrl ? "the Pluggy simulator" : "the app";
    throw new DemoError(
      `cannot reach ${which} at ${base} (${error instanceof Error ? error.message : String(error)}).\n` +
        `Start it with \`npm run dev\` in another terminal (or pass --url / --simulator-url).`,
    );
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const envelope = (json as { error?: { code?: string; message?: string; request_id?: string } } | null)?.error;
    const detail = envelope ? `${envelope.code}: ${envelope.message} (request ${envelope.request_id})` : text.slice(0, 300);
    throw new DemoError(`${options.what} failed: ${method} ${path} → HTTP ${response.status} ${detail}`);
  }
  return json as T;
}

const app = <T>(method: string, path: string, options: { token?: string; body?: unknown; what: string }) => call<T>(appUrl, method, path, options);
const sim = <T>(method: string, path: string, options: { body?: unknown; what: string }) => call<T>(simulatorUrl, method, path, options);

async function waitUntil<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, onTick?: () => void): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    onTick?.();
    await sleep(500);
  }
  throw new DemoError(`timed out after ${timeoutMs / 1000}s waiting for ${what}. Is the queue consumer running? (see the \`npm run dev\` output)`);
}

function money(t: Transaction): string {
  return `${t.amount} ${t.currency_code}`.padStart(14);
}

async function main(): Promise<void> {
  const secret = process.env.AUTH_JWT_SECRET ?? readDevVars().AUTH_JWT_SECRET;
  if (!secret) throw new DemoError("AUTH_JWT_SECRET is not set (environment or .dev.vars). Run `npm run dev` once to create .dev.vars.");
  const userToken = await devToken(secret, userId, { ttlSeconds: 3600 });
  const adminToken = await devToken(secret, "demo-operator", { admin: true, ttlSeconds: 3600 });

  console.log(`Finance Hub demo — app ${appUrl}, Pluggy simulator ${simulatorUrl}, user ${userId}`);
  await app("GET", "/healthz", { what: "health check" });
  await sim("GET", "/__sim/config", { what: "simulator check" });

  step(1, "the user asks for a Pluggy Connect token");
  const connect = await app<{ data: { connect_token: string; connect_url: string; expires_at: string } }>("POST", "/api/banking/pluggy/connect-token/", {
    token: userToken,
    body: { include_sandbox: true },
    what: "connect token",
  });
  console.log(`  connect token ${connect.data.connect_token.slice(0, 16)}… expires ${connect.data.expires_at}`);

  step(2, "the simulator plays Pluggy Connect: it creates an item for the user and sends item/created");
  const created = await sim<{ item: { id: string; connector: { name: string } }; notification?: { status?: number; error?: string } }>("POST", "/__sim/items", {
    body: { clientUserId: userId, notify: true, transactionsPerAccount: 12 },
    what: "simulated connection",
  });
  const itemId = created.item.id;
  const delivered = created.notification && "status" in created.notification ? `webhook answered ${created.notification.status}` : `webhook not delivered (${created.notification?.error ?? "no app URL"})`;
  console.log(`  item ${itemId} at ${created.item.connector.name}; ${delivered}`);

  step(3, "the app registers the item (Pluggy Connect's onSuccess → POST /api/banking/items/)");
  const registered = await app<{ data: { id: string; status: string } }>("POST", "/api/banking/items/", { token: userToken, body: { item_id: itemId }, what: "item registration" });
  console.log(`  registered ${registered.data.id} (status ${registered.data.status})`);

  step(4, "waiting for the first sync of accounts and transactions");
  let dots = 0;
  const transactions = await waitUntil(
    "the first transactions",
    40_000,
    async () => {
      const page = await app<{ data: Transaction[] }>("GET", `/api/banking/transactions/?item_id=${itemId}&limit=200`, { token: userToken, what: "transaction list" });
      return page.data.length > 0 ? page.data : undefined;
    },
    () => process.stdout.write(dots++ === 0 ? "  syncing ." : "."),
  );
  if (dots > 0) process.stdout.write("\n");
  console.log(`  ${transactions.length} transactions synced`);

  step(5, "a few of the user's transactions");
  for (const t of transactions.slice(0, 5)) {
    console.log(`  ${t.date}  ${money(t)}  ${t.description.padEnd(28).slice(0, 28)}  ${t.category?.name ?? "(uncategorized)"}`);
  }

  step(6, "the user recategorizes one to a category that maps to Pluggy");
  const categories = await app<{ data: Category[] }>("GET", "/api/banking/categories/", { token: userToken, what: "category list" });
  const target = transactions.find((t) => t.pluggy_id !== null);
  if (!target) throw new DemoError("no synced transaction has a Pluggy id");
  const mapped = categories.data.find((c) => c.pluggy_category_id !== null && c.id !== target.category?.id && c.parent_id !== null);
  if (!mapped) throw new DemoError("no local category maps to Pluggy; map one in the console (/admin/category-mappings) first");
  const patched = await app<{ data: Transaction }>("PATCH", `/api/banking/transactions/${target.id}/`, { token: userToken, body: { category: mapped.id }, what: "recategorize" });
  console.log(`  "${target.description}": ${target.category?.name ?? "(none)"} → ${mapped.name} (Pluggy ${mapped.pluggy_category_id}); sync ${patched.data.category_sync?.status ?? "?"}`);

  step(7, "waiting until the change has reached Pluggy");
  dots = 0;
  const synced = await waitUntil(
    "category_sync to be synced",
    40_000,
    async () => {
      const { data } = await app<{ data: Transaction }>("GET", `/api/banking/transactions/${target.id}/`, { token: userToken, what: "transaction" });
      if (data.category_sync?.status === "failed" || data.category_sync?.status === "dead") {
        throw new DemoError(`the sync ended ${data.category_sync.status}: ${data.category_sync.reason ?? "no reason given"}`);
      }
      return data.category_sync?.status === "synced" ? data : undefined;
    },
    () => process.stdout.write(dots++ === 0 ? "  pending ." : "."),
  );
  if (dots > 0) process.stdout.write("\n");
  console.log(`  category_sync: ${synced.category_sync?.status} after ${synced.category_sync?.attempts ?? 0} attempt(s)`);
  const requests = await sim<{ data: Array<{ method: string; path: string; body?: unknown; status?: number }> }>(
    "GET",
    `/__sim/requests?method=PATCH&path=${encodeURIComponent(`^/transactions/${target.pluggy_id}$`)}`,
    { what: "simulator request log" },
  );
  const last = requests.data.at(-1);
  if (!last) throw new DemoError("the simulator has no record of the PATCH");
  console.log(`  the simulator received: PATCH ${last.path} ${last.body !== undefined ? JSON.stringify(last.body) : ""}`.trimEnd());

  step(8, "metrics (last 24 hours) and the console");
  // Each user's ledger rolls its counters up into the catalog at most once a minute: wait for this change.
  process.stdout.write("  counters reach the catalog within a minute ");
  const readMetrics = async () => {
    const answer = await app<{
      data: {
        category_sync: { succeeded: number; failed: number; dead: number; pending: number; success_rate: number | null };
        webhooks: { accepted: number; duplicate: number; processed: number; failed: number };
      };
    }>("GET", "/api/admin/metrics/?window=24h", { token: adminToken, what: "metrics" });
    return answer;
  };
  let metrics = await readMetrics();
  for (let waited = 0; metrics.data.category_sync.succeeded === 0 && waited < 90; waited += 2) {
    process.stdout.write(".");
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    metrics = await readMetrics();
  }
  process.stdout.write("\n");
  const cs = metrics.data.category_sync;
  const wh = metrics.data.webhooks;
  const rate = cs.success_rate === null ? "—" : `${Math.round(cs.success_rate * 1000) / 10}%`;
  console.log(`  category sync: ${cs.succeeded} synced, ${cs.failed} failed, ${cs.dead} dead, ${cs.pending} pending — success ${rate}`);
  console.log(`  webhooks: ${wh.accepted} accepted, ${wh.duplicate} duplicates, ${wh.processed} processed, ${wh.failed} failed`);
  console.log(`\nOperator console: ${appUrl}/admin  (sign in with: npm run token -- --user you --admin)`);
  console.log(`Done in ${elapsed()}.`);
}

try {
  await main();
} catch (error) {
  if (error instanceof DemoError) {
    console.error(`\n✗ ${error.message}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
