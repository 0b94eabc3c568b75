import { Hono, type Context } from "hono";
import { z } from "zod";
import { PLUGGY_CATEGORIES } from "./pluggy-categories.ts";
import { hmacSha256Hex, signJwt, verifyJwt } from "./sim.crypto.ts";
import { isKnownCategory, categoryDescription, type SimTransaction } from "./sim.data.ts";
import { connectTokenClaims, connectTokenMayCall, registerConnectApi, type ConnectTokenClaims } from "./sim.connect.ts";
import { registerConnectPage } from "./connect-page/connect-page.ts";
import { pluggyError, rateLimited } from "./sim.errors.ts";
import { rateLimitRuleFor, RateLimiter, sourceAddress } from "./sim.rate-limits.ts";
import { SimState, type SimFault, type SimRequestRecord, type SimWebhook } from "./sim.state.ts";
import { cursorTransactions, pagedTransactions } from "./sim.transactions.ts";

/*
 * The Pluggy simulator: Pluggy's wire format for everything our client uses, plus a control API under
 * /__sim for tests, demos and benchmarks. Plain Hono + Web Crypto, so the same app runs as a Worker
 * (`npm run dev`) and inside Node as vitest's outbound handler.
 */

export interface SimulatorOptions {
  /** The Pluggy application keys `POST /auth` accepts (`<clientId>+<anything>` is accepted too: one tenant per test). */
  clientId: string;
  clientSecret: string;
  /** Signs webhooks (X-Pluggy-Signature = hex HMAC-SHA256 of the body). Empty → unsigned. */
  webhookSecret?: string;
  /** Sent as X-Webhook-Token when set. */
  webhookAuthToken?: string;
  /** Where `/__sim/webhooks/send` and automatic webhooks go (the app's webhook endpoint). */
  appWebhookUrl?: string;
  /** Seed the sandbox user's items at startup (default true). */
  seedSandbox?: boolean;
  /** Enforce Pluggy's per-IP rate limits (default true; `PUT /__sim/config {"rateLimits": …}` changes it later). */
  rateLimits?: boolean;
  now?: () => number;
  /** Used to deliver webhooks. */
  fetch?: typeof fetch;
}

export interface SimHonoEnv {
  /** `connectToken`: set when the X-API-KEY is a connect token (Pluggy Connect's calls). */
  Variables: { record: SimRequestRecord; clientId: string; json: unknown; connectToken: ConnectTokenClaims | undefined };
}
type Ctx = Context<SimHonoEnv>;

const API_KEY_TTL_SECONDS = 2 * 60 * 60;
const CONNECT_TOKEN_TTL_SECONDS = 30 * 60;
const INVALID_JSON = Symbol("invalid-json");

const ITEM_EVENTS = new Set(["item/created", "item/updated", "item/deleted", "item/error", "item/waiting_user_input", "item/waiting_user_action", "item/login_succeeded"]);
/** What a subscription may name but no delivery ever carries as its `event`. */
const SUBSCRIPTION_TARGETS = new Set(["item/all", "all"]);
const WEBHOOK_EVENTS = [...ITEM_EVENTS, "connector/status_updated", "transactions/created", "transactions/updated", "transactions/deleted", ...SUBSCRIPTION_TARGETS];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function runInBackground(c: Ctx, task: Promise<unknown>): void {
  const guarded = task.catch((error: unknown) => console.error("simulator background task failed", error));
  try {
    c.executionCtx.waitUntil(guarded);
  } catch {
    // Outside a Worker (vitest's Node side) the promise simply runs.
  }
}

const jsonOf = (c: Ctx): unknown => c.get("json");

function validationFailure(error: z.ZodError): Response {
  const issue = error.issues[0];
  return pluggyError(400, issue ? `${issue.path.join(".") || "body"}: ${issue.message}` : "invalid request", "INVALID_PARAMETERS");
}

/** Builds the simulator app and its state (exposed for tests of the simulator itself). */
export function createSimulator(options: SimulatorOptions): { app: Hono<SimHonoEnv>; state: SimState; fetch: (request: Request) => Promise<Response> } {
  const state = new SimState(options.now ?? Date.now);
  if (options.seedSandbox ?? true) state.seedSandbox();
  if (options.rateLimits !== undefined) state.config.rateLimits = options.rateLimits;
  const limiter = new RateLimiter(state.now);
  const tokenSecret = `sim-${crypto.randomUUID()}`;
  const deliverFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  const acceptsClient = (clientId: string, secret: string) =>
    secret === options.clientSecret && (clientId === options.clientId || clientId.startsWith(`${options.clientId}+`));

  async function signPayload(payload: unknown, secret = options.webhookSecret ?? "") {
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (secret) headers["X-Pluggy-Signature"] = await hmacSha256Hex(secret, body);
    if (options.webhookAuthToken) headers["X-Webhook-Token"] = options.webhookAuthToken;
    return { body, headers };
  }

  async function deliver(payload: { eventId: string }): Promise<{ eventId: string; status: number }> {
    if (!options.appWebhookUrl) throw new Error("SIM_APP_WEBHOOK_URL is not configured");
    const { body, headers } = await signPayload(payload);
    const response = await deliverFetch(options.appWebhookUrl, { method: "POST", headers, body });
    await response.body?.cancel();
    return { eventId: payload.eventId, status: response.status };
  }

  const autoDeliver = () => Boolean(options.appWebhookUrl) && state.config.autoWebhooks;

  /**
   * A webhook body as Pluggy sends it (pluggy-sdk's `WebhookEventPayload`): `event`, `eventId`, the
   * deprecated `id` (the id of the entity the event is about), `itemId`, `triggeredBy` and each kind's
   * own fields. Never `clientUserId`: Pluggy's bodies do not carry it.
   */
  function buildPayload(origin: string, event: string, itemId: string | undefined, extra: Record<string, unknown>): Record<string, unknown> & { eventId: string } {
    const eventId = crypto.randomUUID();
    const item = itemId ? state.getItem(itemId) : undefined;
    const firstAccount = itemId ? state.accountsOf(itemId)[0]?.id : undefined;
    let payload: Record<string, unknown>;
    if (ITEM_EVENTS.has(event)) {
      payload = { event, eventId, id: itemId, itemId, ...(event === "item/deleted" ? {} : { triggeredBy: "CLIENT" }), clientId: options.clientId };
      if (event === "item/error") payload.error = item?.error ?? { code: "UNEXPECTED_ERROR", message: "Unexpected error while connecting to the institution" };
    } else if (event === "transactions/created") {
      const accountId = typeof extra.accountId === "string" ? extra.accountId : firstAccount;
      const from = (accountId ? state.lastAddedAt.get(accountId) : undefined) ?? item?.createdAt ?? state.nowIso();
      const createdAtFrom = typeof extra.transactionsCreatedAtFrom === "string" ? extra.transactionsCreatedAtFrom : from;
      const link = new URL("/v2/transactions", origin);
      link.searchParams.set("accountId", accountId ?? "");
      link.searchParams.set("createdAtFrom", createdAtFrom);
      const count = accountId ? state.transactionsOf(accountId).filter((t) => t.createdAt >= createdAtFrom).length : 0;
      payload = { event, eventId, id: itemId, itemId, accountId, transactionsCreatedAtFrom: createdAtFrom, createdTransactionsLink: link.toString(), transactionsCount: count, clientId: options.clientId };
    } else if (event === "transactions/updated" || event === "transactions/deleted") {
      const ids = Array.isArray(extra.transactionIds) ? extra.transactionIds : [];
      const firstId = typeof ids[0] === "string" ? ids[0] : undefined;
      const accountOfFirst = firstId ? state.transactionAccount.get(firstId) : undefined;
      payload = { event, eventId, id: itemId, itemId, accountId: accountOfFirst ?? firstAccount, clientId: options.clientId, transactionIds: ids };
    } else if (event === "connector/status_updated") {
      const connectorId = item?.connector.id ?? 0;
      payload = { event, eventId, id: String(connectorId), connectorId, data: { status: "ONLINE" } };
    } else {
      payload = { event, eventId, ...(itemId ? { id: itemId, itemId } : {}) };
    }
    return { ...payload, ...extra, eventId };
  }

  const app = new Hono<SimHonoEnv>();

  app.onError((error) => {
    console.error("simulator error", error);
    return pluggyError(500, "Internal simulator error");
  });
  app.notFound(() => pluggyError(404, "Not Found"));

  // ---------------------------------------------------------------- control API (/__sim)
  const control = new Hono<SimHonoEnv>();

  control.use("*", async (c, next) => {
    if (c.req.method === "POST" || c.req.method === "PATCH" || c.req.method === "PUT") {
      const text = await c.req.text();
      try {
        c.set("json", text ? JSON.parse(text) : {});
      } catch {
        return c.json({ code: 400, message: "Invalid JSON body" }, 400);
      }
    }
    return next();
  });

  const createItemBody = z.object({
    clientUserId: z.string().min(1),
    connectorId: z.number().int().nonnegative().optional(),
    accounts: z.number().int().min(1).max(10).optional(),
    transactionsPerAccount: z.number().int().min(0).max(20_000).optional(),
    status: z.string().min(1).optional(),
    executionStatus: z.string().min(1).optional(),
    notify: z.boolean().optional(),
  });

  control.post("/items", async (c) => {
    const parsed = createItemBody.safeParse(jsonOf(c));
    if (!parsed.success) return validationFailure(parsed.error);
    const { notify, ...input } = parsed.data;
    const created = state.createItem(input);
    let notification: { eventId: string; status: number } | { error: string } | undefined;
    if (notify) {
      try {
        notification = await deliver(buildPayload(new URL(c.req.url).origin, "item/created", created.item.id, {}));
      } catch (error) {
        notification = { error: error instanceof Error ? error.message : String(error) };
      }
    }
    return c.json({ item: created.item, accounts: created.accounts, transactionIds: created.transactions.map((t) => t.id), ...(notification ? { notification } : {}) }, 201);
  });

  control.get("/items", (c) => {
    const clientUserId = c.req.query("clientUserId");
    if (!clientUserId) return pluggyError(400, "clientUserId is required", "INVALID_PARAMETERS");
    const data = [...state.items.keys()].flatMap((id) => {
      const item = state.getItem(id);
      return item && item.clientUserId === clientUserId ? [{ item, accounts: state.accountsOf(id) }] : [];
    });
    return c.json({ data });
  });

  control.get("/items/:id", (c) => {
    const item = state.getItem(c.req.param("id"));
    if (!item) return pluggyError(404, "Item not found", "ITEM_NOT_FOUND");
    const accounts = state.accountsOf(item.id);
    return c.json({ item, accounts, transactions: accounts.flatMap((account) => state.transactionsOf(account.id)) });
  });

  const itemErrorBody = z.object({ code: z.string().min(1), message: z.string(), providerMessage: z.string().optional() });
  const patchItemBody = z.object({ status: z.string().min(1).optional(), executionStatus: z.string().min(1).optional(), error: itemErrorBody.nullable().optional() }).strict();

  control.patch("/items/:id", (c) => {
    const parsed = patchItemBody.safeParse(jsonOf(c));
    if (!parsed.success) return validationFailure(parsed.error);
    const { status, executionStatus, error } = parsed.data;
    const item = state.patchItem(c.req.param("id"), {
      ...(status !== undefined ? { status } : {}),
      ...(executionStatus !== undefined ? { executionStatus } : {}),
      ...(error !== undefined ? { error } : {}),
    });
    if (!item) return pluggyError(404, "Item not found", "ITEM_NOT_FOUND");
    return c.json({ item });
  });

  control.delete("/items/:id", (c) => {
    if (!state.deleteItem(c.req.param("id"))) return pluggyError(404, "Item not found", "ITEM_NOT_FOUND");
    return c.body(null, 204);
  });

  const partialTransaction = z.looseObject({
    id: z.string().min(1).optional(),
    date: z.string().min(10).optional(),
    description: z.string().optional(),
    amount: z.number().optional(),
    type: z.enum(["DEBIT", "CREDIT"]).optional(),
    status: z.enum(["POSTED", "PENDING"]).optional(),
    categoryId: z.string().nullable().optional(),
    currencyCode: z.string().optional(),
  });
  const addTransactionsBody = z.object({
    accountId: z.string().min(1).optional(),
    count: z.number().int().min(0).max(20_000).optional(),
    transactions: z.array(partialTransaction).max(20_000).optional(),
    notify: z.boolean().optional(),
  });

  control.post("/items/:id/transactions", async (c) => {
    const parsed = addTransactionsBody.safeParse(jsonOf(c));
    if (!parsed.success) return validationFailure(parsed.error);
    const itemId = c.req.param("id");
    if (!state.getItem(itemId)) return pluggyError(404, "Item not found", "ITEM_NOT_FOUND");
    const accountId = parsed.data.accountId ?? state.accountsOf(itemId)[0]?.id;
    const account = accountId ? state.accounts.get(accountId) : undefined;
    if (!account || account.itemId !== itemId) return pluggyError(404, "Account not found for this item", "ACCOUNT_NOT_FOUND");
    const partials = (parsed.data.transactions ?? []) as Partial<SimTransaction>[];
    const count = parsed.data.count ?? (partials.length > 0 ? 0 : 1);
    const transactions = state.addTransactions(itemId, account.id, count, partials);
    if (parsed.data.notify && autoDeliver()) {
      runInBackground(c, deliver(buildPayload(new URL(c.req.url).origin, "transactions/created", itemId, { accountId: account.id })));
    }
    return c.json({ transactions }, 201);
  });

  control.patch("/transactions/:id", (c) => {
    const parsed = partialTransaction.safeParse(jsonOf(c));
    if (!parsed.success) return validationFailure(parsed.error);
    const fields = { ...parsed.data } as Partial<SimTransaction>;
    if (fields.categoryId !== undefined && !("category" in parsed.data)) fields.category = categoryDescription(fields.categoryId);
    if (fields.date && /^\d{4}-\d{2}-\d{2}$/.test(fields.date)) fields.date = `${fields.date}T00:00:00.000Z`;
    const transaction = state.updateTransaction(c.req.param("id"), fields);
    if (!transaction) return pluggyError(404, "Transaction not found", "TRANSACTION_NOT_FOUND");
    return c.json({ transaction });
  });

  control.delete("/transactions/:id", (c) => {
    if (!state.deleteTransaction(c.req.param("id"))) return pluggyError(404, "Transaction not found", "TRANSACTION_NOT_FOUND");
    return c.body(null, 204);
  });

  const faultBody = z.object({
    path: z.string().min(1),
    method: z.string().min(1).optional(),
    body: z.string().min(1).optional(),
    clientId: z.string().min(1).optional(),
    tag: z.string().min(1).max(200).optional(),
    status: z.number().int().min(100).max(599).optional(),
    times: z.number().int().min(1).max(100_000).optional(),
    delayMs: z.number().int().min(0).max(120_000).optional(),
    rateLimitReset: z.number().int().min(0).optional(),
    codeDescription: z.string().optional(),
    message: z.string().optional(),
  });

  control.post("/faults", (c) => {
    const parsed = faultBody.safeParse(jsonOf(c));
    if (!parsed.success) return validationFailure(parsed.error);
    let path: RegExp;
    let body: RegExp | undefined;
    try {
      path = new RegExp(parsed.data.path);
      body = parsed.data.body === undefined ? undefined : new RegExp(parsed.data.body);
    } catch {
      return pluggyError(400, "path/body: not a valid regular expression", "INVALID_PARAMETERS");
    }
    if (parsed.data.status === undefined && parsed.data.delayMs === undefined) return pluggyError(400, "a fault needs a status or a delayMs", "INVALID_PARAMETERS");
    const id = crypto.randomUUID();
    state.addFault({
      id,
      path,
      pathSource: parsed.data.path,
      method: parsed.data.method?.toUpperCase(),
      body,
      clientId: parsed.data.clientId,
      tag: parsed.data.tag,
      status: parsed.data.status,
      hits: 0,
      remaining: parsed.data.times ?? 1,
      delayMs: parsed.data.delayMs ?? 0,
      rateLimitReset: parsed.data.rateLimitReset,
      codeDescription: parsed.data.codeDescription,
      message: parsed.data.message,
    });
    return c.json({ id }, 201);
  });

  const faultView = (fault: SimFault) => ({
    id: fault.id,
    tag: fault.tag ?? null,
    path: fault.pathSource,
    method: fault.method ?? null,
    body: fault.body?.source ?? null,
    clientId: fault.clientId ?? null,
    status: fault.status ?? null,
    delayMs: fault.delayMs,
    hits: fault.hits,
    remaining: fault.remaining,
    active: state.faults.includes(fault),
  });

  /** Faults injected (active and spent), optionally by tag, with how many requests each one answered. */
  control.get("/faults", (c) => {
    const tag = c.req.query("tag");
    const data = [...state.faultRecords.values()].filter((fault) => tag === undefined || fault.tag === tag).map(faultView);
    return c.json({ data, hits: data.reduce((sum, fault) => sum + fault.hits, 0) });
  });

  control.get("/faults/:id", (c) => {
    const fault = state.faultRecords.get(c.req.param("id"));
    if (!fault) return pluggyError(404, "Fault not found", "FAULT_NOT_FOUND");
    return c.json(faultView(fault));
  });

  control.delete("/faults/:id", (c) => {
    const index = state.faults.findIndex((fault) => fault.id === c.req.param("id"));
    if (index >= 0) state.faults.splice(index, 1);
    return c.body(null, 204);
  });

  control.get("/requests", (c) => {
    let path: RegExp | undefined;
    try {
      const source = c.req.query("path");
      path = source ? new RegExp(source) : undefined;
    } catch {
      return pluggyError(400, "path: not a valid regular expression", "INVALID_PARAMETERS");
    }
    const method = c.req.query("method")?.toUpperCase();
    const clientId = c.req.query("clientId");
    const data = state.requests.filter((record) => {
      if (method && record.method !== method) return false;
      if (clientId && record.clientId !== clientId) return false;
      if (!path) return true;
      const search = new URLSearchParams(record.query).toString();
      return path.test(record.path) || path.test(search ? `${record.path}?${search}` : record.path);
    });
    return c.json({ data });
  });

  const signBody = z.object({ payload: z.record(z.string(), z.unknown()), secret: z.string().optional() });

  control.post("/webhooks/sign", async (c) => {
    const parsed = signBody.safeParse(jsonOf(c));
    if (!parsed.success) return validationFailure(parsed.error);
    return c.json(await signPayload(parsed.data.payload, parsed.data.secret ?? options.webhookSecret ?? ""));
  });

  const sendBody = z.looseObject({ event: z.string().min(1), itemId: z.string().min(1).optional() });

  control.post("/webhooks/send", async (c) => {
    const parsed = sendBody.safeParse(jsonOf(c));
    if (!parsed.success) return validationFailure(parsed.error);
    const { event, itemId, ...extra } = parsed.data;
    if (SUBSCRIPTION_TARGETS.has(event)) return pluggyError(400, `${event} is a subscription target, not an event Pluggy sends`, "INVALID_PARAMETERS");
    if ((ITEM_EVENTS.has(event) || event.startsWith("transactions/")) && !itemId) return pluggyError(400, `itemId is required for ${event}`, "INVALID_PARAMETERS");
    if ((event === "transactions/updated" || event === "transactions/deleted") && !Array.isArray(extra.transactionIds)) {
      return pluggyError(400, `transactionIds is required for ${event}`, "INVALID_PARAMETERS");
    }
    if (!options.appWebhookUrl) return pluggyError(409, "SIM_APP_WEBHOOK_URL is not configured; use /__sim/webhooks/sign and post it yourself", "NO_APP_WEBHOOK_URL");
    try {
      return c.json(await deliver(buildPayload(new URL(c.req.url).origin, event, itemId, extra)));
    } catch (error) {
      return pluggyError(502, `delivery failed: ${error instanceof Error ? error.message : String(error)}`, "DELIVERY_FAILED");
    }
  });

  const configBody = z
    .object({
      latencyMs: z.number().int().min(0).max(60_000),
      pageSize: z.number().int().min(1).max(500),
      minRefreshIntervalSeconds: z.number().int().min(0),
      updateDurationMs: z.number().int().min(0).max(25_000),
      transactionsPerUpdate: z.number().int().min(0).max(1000),
      itemUpdatesPerMinute: z.number().int().min(1),
      rateLimits: z.boolean(),
      autoWebhooks: z.boolean(),
    })
    .partial()
    .strict();

  control.put("/config", (c) => {
    const parsed = configBody.safeParse(jsonOf(c));
    if (!parsed.success) return validationFailure(parsed.error);
    state.config = { ...state.config, ...parsed.data };
    return c.json({ config: state.config });
  });
  control.get("/config", (c) => c.json({ config: state.config }));

  app.route("/__sim", control);
  // The local Pluggy Connect page (PLUGGY_CONNECT_URL in `npm run dev`).
  registerConnectPage(app);

  // ---------------------------------------------------------------- Pluggy API
  const api = new Hono<SimHonoEnv>();

  api.use("*", async (c, next) => {
    const url = new URL(c.req.url);
    let json: unknown = undefined;
    let text = "";
    if (c.req.method !== "GET" && c.req.method !== "HEAD" && c.req.method !== "DELETE") {
      text = await c.req.text();
      if (text) {
        try {
          json = JSON.parse(text);
        } catch {
          json = INVALID_JSON;
        }
      }
    }
    const record = state.logRequest({
      method: c.req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: json === INVALID_JSON ? null : (json ?? null),
      at: state.nowIso(),
      clientId: null,
      status: null,
    });
    c.set("record", record);
    c.set("json", json);
    const isAuth = url.pathname === "/auth";
    const apiKey = c.req.header("X-API-KEY");
    const payload = !isAuth && apiKey ? await verifyJwt(apiKey, tokenSecret, state.now()) : undefined;
    const keyClientId = payload?.typ === "api_key" && typeof payload.clientId === "string" ? payload.clientId : undefined;
    const connectToken = keyClientId ? undefined : connectTokenClaims(payload);
    const authClientId = isAuth && json && typeof json === "object" && "clientId" in json && typeof json.clientId === "string" ? json.clientId : undefined;
    record.clientId = keyClientId ?? connectToken?.clientId ?? authClientId ?? null;
    try {
      if (state.config.latencyMs > 0) await sleep(state.config.latencyMs);
      const fault = state.takeFault(c.req.method, url.pathname, `${url.pathname}${url.search}`, text, record.clientId);
      if (fault) {
        record.fault = fault.id;
        if (fault.delayMs > 0) await sleep(fault.delayMs);
        if (fault.status === 429) {
          c.res = rateLimited(fault.rateLimitReset ?? 60, rateLimitRuleFor(c.req.method, url.pathname)?.perMinute ?? 360, fault.message, fault.codeDescription);
          return c.res;
        }
        if (fault.status !== undefined) {
          c.res = pluggyError(fault.status, fault.message ?? `Simulated failure (${fault.status})`, fault.codeDescription);
          return c.res;
        }
      }
      if (state.config.rateLimits) {
        const limit = limiter.check(c.req.method, url.pathname, sourceAddress(c.req.raw.headers), (rule) => (rule.method === "PATCH" ? state.config.itemUpdatesPerMinute : rule.perMinute));
        if (limit) {
          c.res = rateLimited(limit.resetSeconds, limit.limit);
          return c.res;
        }
      }
      if (json === INVALID_JSON) {
        c.res = pluggyError(400, "Invalid JSON body", "INVALID_JSON");
        return c.res;
      }
      if (!isAuth) {
        if (!keyClientId && !connectToken) {
          c.res = pluggyError(401, "Missing or invalid X-API-KEY header");
          return c.res;
        }
        if (connectToken && !connectTokenMayCall(c.req.method, url.pathname)) {
          c.res = pluggyError(403, "A connect token cannot call this endpoint");
          return c.res;
        }
        c.set("clientId", keyClientId ?? connectToken?.clientId ?? "");
        c.set("connectToken", connectToken);
      }
      await next();
    } finally {
      record.status = c.res.status;
    }
  });

  const authBody = z.object({ clientId: z.string(), clientSecret: z.string() });

  api.post("/auth", async (c) => {
    const parsed = authBody.safeParse(jsonOf(c));
    if (!parsed.success) return pluggyError(400, "clientId and clientSecret are required", "INVALID_PARAMETERS");
    if (!acceptsClient(parsed.data.clientId, parsed.data.clientSecret)) {
      return pluggyError(401, "Invalid credentials: client keys are not authorized", "CLIENT_KEYS_UNAUTHORIZED");
    }
    const iat = Math.floor(state.now() / 1000);
    const apiKey = await signJwt({ typ: "api_key", clientId: parsed.data.clientId, iat, exp: iat + API_KEY_TTL_SECONDS, jti: crypto.randomUUID() }, tokenSecret);
    return c.json({ apiKey });
  });

  const connectTokenBody = z.object({
    itemId: z.string().min(1).optional(),
    options: z
      .looseObject({
        clientUserId: z.string().min(1).optional(),
        webhookUrl: z.url().optional(),
        oauthRedirectUri: z.url().optional(),
        avoidDuplicates: z.boolean().optional(),
      })
      .optional(),
  });

  api.post("/connect_token", async (c) => {
    const parsed = connectTokenBody.safeParse(jsonOf(c) ?? {});
    if (!parsed.success) return validationFailure(parsed.error);
    if (parsed.data.itemId && !state.getItem(parsed.data.itemId)) return pluggyError(404, "Item not found", "ITEM_NOT_FOUND");
    const iat = Math.floor(state.now() / 1000);
    const accessToken = await signJwt(
      { typ: "connect_token", clientId: c.get("clientId"), itemId: parsed.data.itemId ?? null, options: parsed.data.options ?? {}, iat, exp: iat + CONNECT_TOKEN_TTL_SECONDS, jti: crypto.randomUUID() },
      tokenSecret,
    );
    return c.json({ accessToken });
  });

  // Connectors, item creation, MFA and update mode: what Pluggy Connect calls (sim.connect.ts).
  registerConnectApi(api, {
    state,
    background: runInBackground,
    notify: async (origin, event, itemId, extra) => {
      if (!autoDeliver()) return;
      await deliver(buildPayload(origin, event, itemId, extra)).catch((error: unknown) => console.error(`simulator: ${event} webhook failed`, error));
    },
  });

  api.get("/items/:id", (c) => {
    const item = state.getItem(c.req.param("id"));
    return item ? c.json(item) : pluggyError(404, "Item not found", "ITEM_NOT_FOUND");
  });

  api.patch("/items/:id", (c) => {
    const itemState = state.itemState(c.req.param("id"));
    if (!itemState) return pluggyError(404, "Item not found", "ITEM_NOT_FOUND");
    // Both refusals are state conflicts: Pluggy answers them 409, told apart by codeDescription.
    if (itemState.item.status === "UPDATING") return pluggyError(409, "Item is already updating", "ITEM_IS_ALREADY_UPDATING");
    const now = state.now();
    const minInterval = state.config.minRefreshIntervalSeconds * 1000;
    if (itemState.lastRefreshAt !== undefined && now - itemState.lastRefreshAt < minInterval) {
      const waitSeconds = Math.ceil((itemState.lastRefreshAt + minInterval - now) / 1000);
      return pluggyError(409, `Item update requested before the allowed frequency; try again in ${waitSeconds} seconds`, "CLIENT_IS_UPDATING_BEFORE_ALLOWED_FREQUENCY");
    }
    itemState.lastRefreshAt = now;
    itemState.updateFinishesAt = now + state.config.updateDurationMs;
    const at = state.nowIso();
    itemState.item = { ...itemState.item, status: "UPDATING", executionStatus: "CREATED", error: null, updatedAt: at };
    state.settle(itemState);
    if (autoDeliver()) {
      const origin = new URL(c.req.url).origin;
      const itemId = itemState.item.id;
      const startedAt = now;
      runInBackground(
        c,
        (async () => {
          await sleep(state.config.updateDurationMs + 5);
          const settled = state.itemState(itemId)?.lastSettled;
          if (!settled || settled.at < startedAt) return;
          const first = settled.added[0];
          if (first) {
            await deliver(buildPayload(origin, "transactions/created", itemId, { accountId: first.accountId, transactionsCreatedAtFrom: first.createdAt }));
          }
          await deliver(buildPayload(origin, "item/updated", itemId, {}));
        })(),
      );
    }
    return c.json(itemState.item);
  });

  api.delete("/items/:id", (c) => {
    const item = state.getItem(c.req.param("id"));
    if (!item) return pluggyError(404, "Item not found", "ITEM_NOT_FOUND");
    state.deleteItem(item.id);
    if (autoDeliver()) runInBackground(c, deliver(buildPayload(new URL(c.req.url).origin, "item/deleted", item.id, {})));
    return c.json(item);
  });

  api.get("/accounts", (c) => {
    const itemId = c.req.query("itemId");
    if (!itemId) return pluggyError(400, "itemId is required", "INVALID_PARAMETERS");
    const type = c.req.query("type");
    const results = state.accountsOf(itemId).filter((account) => !type || account.type === type);
    return c.json({ total: results.length, totalPages: results.length > 0 ? 1 : 0, page: 1, results });
  });

  api.get("/accounts/:id", (c) => {
    const account = state.accounts.get(c.req.param("id"));
    return account ? c.json(account) : pluggyError(404, "Account not found", "ACCOUNT_NOT_FOUND");
  });

  api.get("/v2/transactions", (c) => cursorTransactions(state, c.req.query()));
  api.get("/transactions", (c) => pagedTransactions(state, c.req.query()));

  api.get("/transactions/:id", (c) => {
    const transaction = state.getTransaction(c.req.param("id"));
    return transaction ? c.json(transaction) : pluggyError(404, "Transaction not found", "TRANSACTION_NOT_FOUND");
  });

  const patchTransactionBody = z.object({ categoryId: z.string() });

  api.patch("/transactions/:id", (c) => {
    const parsed = patchTransactionBody.safeParse(jsonOf(c) ?? {});
    if (!parsed.success) return pluggyError(400, "categoryId is required", "INVALID_PARAMETERS");
    if (!/^\d{8}$/.test(parsed.data.categoryId) || !isKnownCategory(parsed.data.categoryId)) {
      return pluggyError(400, `Category ${parsed.data.categoryId} does not exist`, "CATEGORY_NOT_FOUND");
    }
    const transaction = state.updateTransaction(c.req.param("id"), { categoryId: parsed.data.categoryId, category: categoryDescription(parsed.data.categoryId) });
    return transaction ? c.json(transaction) : pluggyError(404, "Transaction not found", "TRANSACTION_NOT_FOUND");
  });

  api.get("/categories", (c) => {
    const parentId = c.req.query("parentId");
    const results = PLUGGY_CATEGORIES.filter((category) => !parentId || category.parentId === parentId);
    return c.json({ total: results.length, totalPages: 1, page: 1, results });
  });

  api.get("/categories/:id", (c) => {
    const category = PLUGGY_CATEGORIES.find((candidate) => candidate.id === c.req.param("id"));
    return category ? c.json(category) : pluggyError(404, "Category not found", "CATEGORY_NOT_FOUND");
  });

  const webhookBody = z.object({
    url: z.url(),
    event: z.enum(WEBHOOK_EVENTS as [string, ...string[]]),
    headers: z.record(z.string(), z.string()).optional(),
  });
  const webhookPatchBody = webhookBody.partial().extend({ enabled: z.boolean().optional() });

  api.get("/webhooks", (c) => {
    const results = [...state.webhooksOf(c.get("clientId")).values()];
    return c.json({ page: 1, total: results.length, totalPages: results.length > 0 ? 1 : 0, results });
  });

  api.post("/webhooks", (c) => {
    const parsed = webhookBody.safeParse(jsonOf(c) ?? {});
    if (!parsed.success) return validationFailure(parsed.error);
    const hooks = state.webhooksOf(c.get("clientId"));
    if ([...hooks.values()].filter((hook) => hook.event === parsed.data.event).length >= 5) {
      return pluggyError(400, "A maximum of 5 webhooks per event is allowed", "WEBHOOK_LIMIT_REACHED");
    }
    const at = state.nowIso();
    const hook: SimWebhook = { id: crypto.randomUUID(), url: parsed.data.url, event: parsed.data.event, headers: parsed.data.headers ?? null, createdAt: at, updatedAt: at, disabledAt: null };
    hooks.set(hook.id, hook);
    return c.json(publicWebhook(hook));
  });

  api.get("/webhooks/:id", (c) => {
    const hook = state.webhooksOf(c.get("clientId")).get(c.req.param("id"));
    return hook ? c.json(publicWebhook(hook)) : pluggyError(404, "Webhook not found", "WEBHOOK_NOT_FOUND");
  });

  api.patch("/webhooks/:id", (c) => {
    const parsed = webhookPatchBody.safeParse(jsonOf(c) ?? {});
    if (!parsed.success) return validationFailure(parsed.error);
    const hooks = state.webhooksOf(c.get("clientId"));
    const hook = hooks.get(c.req.param("id"));
    if (!hook) return pluggyError(404, "Webhook not found", "WEBHOOK_NOT_FOUND");
    const at = state.nowIso();
    const { enabled, ...fields } = parsed.data;
    const next: SimWebhook = {
      ...hook,
      ...(fields.url !== undefined ? { url: fields.url } : {}),
      ...(fields.event !== undefined ? { event: fields.event } : {}),
      ...(fields.headers !== undefined ? { headers: fields.headers } : {}),
      ...(enabled === undefined ? {} : { disabledAt: enabled ? null : (hook.disabledAt ?? at) }),
      updatedAt: at,
    };
    hooks.set(hook.id, next);
    return c.json(publicWebhook(next));
  });

  api.delete("/webhooks/:id", (c) => {
    const hooks = state.webhooksOf(c.get("clientId"));
    const hook = hooks.get(c.req.param("id"));
    if (!hook) return pluggyError(404, "Webhook not found", "WEBHOOK_NOT_FOUND");
    hooks.delete(hook.id);
    return c.json(publicWebhook(hook));
  });

  app.route("/", api);

  return { app, state, fetch: async (request: Request) => app.fetch(request) };
}

/** Pluggy never echoes a webhook's custom headers back. */
function publicWebhook(hook: SimWebhook): Omit<SimWebhook, "headers"> {
  const { headers: _headers, ...rest } = hook;
  return rest;
}
