import type { Context, Hono } from "hono";
import { z } from "zod";
import type { SimHonoEnv } from "./sim.app.ts";
import {
  CONNECTOR_TYPES,
  filterConnectors,
  findConnector,
  mfaParameter,
  SANDBOX_MFA_TOKEN_OK,
  SANDBOX_PASSWORD_OK,
  SANDBOX_USER_OK,
  type SimConnector,
  type SimCredential,
} from "./sim.connectors.ts";
import { makeAccounts, makeTransactions, seededRandom, type SimItem } from "./sim.data.ts";
import { pluggyError } from "./sim.errors.ts";
import type { SimState } from "./sim.state.ts";

/*
 * The Pluggy API behind Pluggy Connect: `GET /connectors[/{id}]`, `POST /items`, `POST /items/{id}/mfa`,
 * and update mode (`PATCH /items/{id}` with new credentials, connect token only). A connect token works
 * as an `X-API-KEY` here, as at Pluggy, but only for these routes and only for the items it created or
 * was created for. A login takes a moment (the item is UPDATING / LOGIN_IN_PROGRESS meanwhile) and ends
 * as Pluggy's sandbox says: `user-ok` / `password-ok` succeed, a 2-step MFA connector then waits for the
 * token `123456` (WAITING_USER_INPUT), anything else fails with Pluggy's execution error. The outcome is
 * announced by signed webhooks: item/created (item/updated in update mode), item/waiting_user_input,
 * item/error.
 */

/** What a connect token (signed by `POST /connect_token`) carries. */
export interface ConnectTokenClaims {
  clientId: string;
  /** Update mode: the item this token was created for. */
  itemId: string | null;
  jti: string;
  options: { clientUserId?: string | undefined; webhookUrl?: string | undefined; oauthRedirectUri?: string | undefined; avoidDuplicates?: boolean | undefined };
}

const claimsSchema = z.object({
  typ: z.literal("connect_token"),
  clientId: z.string(),
  itemId: z.string().nullable().optional(),
  jti: z.string(),
  options: z
    .looseObject({
      clientUserId: z.string().optional(),
      webhookUrl: z.string().optional(),
      oauthRedirectUri: z.string().optional(),
      avoidDuplicates: z.boolean().optional(),
    })
    .optional(),
});

/** The claims of a verified JWT when it is a connect token, else undefined. */
export function connectTokenClaims(payload: Record<string, unknown> | undefined): ConnectTokenClaims | undefined {
  const parsed = claimsSchema.safeParse(payload);
  if (!parsed.success) return undefined;
  const { clientId, itemId, jti, options } = parsed.data;
  return { clientId, itemId: itemId ?? null, jti, options: options ?? {} };
}

const CONNECT_TOKEN_ROUTES: ReadonlyArray<[string, RegExp]> = [
  ["GET", /^\/connectors\/?$/],
  ["GET", /^\/connectors\/[^/]+\/?$/],
  ["POST", /^\/items\/?$/],
  ["GET", /^\/items\/[^/]+\/?$/],
  ["PATCH", /^\/items\/[^/]+\/?$/],
  ["POST", /^\/items\/[^/]+\/mfa\/?$/],
];

/** Pluggy limits a connect token to what the Connect widget needs; everything else is a 403. */
export const connectTokenMayCall = (method: string, path: string): boolean => CONNECT_TOKEN_ROUTES.some(([m, pattern]) => m === method && pattern.test(path));

export interface ConnectApiDeps {
  state: SimState;
  /** Runs a task after the response (waitUntil in a Worker). */
  background: (c: Context<SimHonoEnv>, task: Promise<unknown>) => void;
  /** Sends a signed webhook about an item to the app; a no-op when automatic webhooks are off. */
  notify: (origin: string, event: string, itemId: string, extra: Record<string, unknown>) => Promise<void>;
  /** How long a login (or an MFA check) takes. */
  loginDelayMs?: number;
}

const LOGIN_DELAY_MS = 600;
const MFA_TTL_MS = 5 * 60_000;
const ACCOUNTS_PER_ITEM = 2;
const TRANSACTIONS_PER_ACCOUNT = 60;
const DAY_MS = 86_400_000;

type Verdict = { ok: true } | { ok: false; status: "LOGIN_ERROR" | "OUTDATED"; code: string; message: string };

const failure = (status: "LOGIN_ERROR" | "OUTDATED", code: string, message: string): Verdict => ({ ok: false, status, code, message });

/** Pluggy's sandbox users (docs.pluggy.ai "Sandbox"): the user name picks the outcome, with the right password. */
const SANDBOX_USERS: Record<string, Verdict> = {
  [SANDBOX_USER_OK]: { ok: true },
  "user-logged": failure("LOGIN_ERROR", "ALREADY_LOGGED_IN", "The user already has an open session at the institution; log out there and try again"),
  "user-locked": failure("LOGIN_ERROR", "ACCOUNT_LOCKED", "The account is locked at the institution; unlock it there and try again"),
  "user-error": failure("OUTDATED", "UNEXPECTED_ERROR", "Unexpected error while connecting to the institution; try again"),
  "user-unavailable": failure("OUTDATED", "SITE_NOT_AVAILABLE", "The institution's site is not available right now; try again later"),
  "user-connection-error": failure("OUTDATED", "CONNECTION_ERROR", "There was a connection error with the institution; try again"),
};
const INVALID_CREDENTIALS = failure("LOGIN_ERROR", "INVALID_CREDENTIALS", "Invalid credentials: check your user and password and try again");
const INVALID_MFA = failure("LOGIN_ERROR", "INVALID_CREDENTIALS_MFA", "The token is not valid; start again and enter the latest code");
const MFA_TIMEOUT = failure("LOGIN_ERROR", "USER_INPUT_TIMEOUT", "The token was not sent in time; start again");

/** An OAuth (Open Finance) connector logs in with the consent given in Connect; the others by sandbox credentials. */
function judgeLogin(connector: SimConnector, parameters: Record<string, string>): Verdict {
  if (connector.oauth) return { ok: true };
  if (parameters.password !== SANDBOX_PASSWORD_OK) return INVALID_CREDENTIALS;
  return SANDBOX_USERS[parameters.user ?? ""] ?? INVALID_CREDENTIALS;
}

interface ValidationDetail {
  code: string;
  parameter: string;
  message: string;
}

/** The connector's non-MFA credentials checked like Pluggy does before it tries the institution. */
function validateParameters(connector: SimConnector, parameters: Record<string, string>): ValidationDetail[] {
  const details: ValidationDetail[] = [];
  for (const credential of connector.credentials) {
    if (credential.mfa || credential.optional) continue;
    const value = parameters[credential.name];
    if (value === undefined || value === "") details.push({ code: "001", parameter: credential.name, message: `${credential.name} parameter is required` });
    else if (credential.validation && !new RegExp(credential.validation).test(value)) {
      details.push({ code: "002", parameter: credential.name, message: credential.validationMessage ?? `${credential.name} parameter is not valid` });
    }
  }
  return details;
}

const connectorValidationError = (details: ValidationDetail[]): Response =>
  Response.json({ code: 400, codeDescription: "CONNECTOR_VALIDATION_ERROR", message: "Connector parameters do not match validation rules", details }, { status: 400 });

const parameterValues = z.record(z.string(), z.string());

/** `POST /items`: pluggy-sdk `createItem(connectorId, parameters, options)` sends `{connectorId, parameters, ...options}`. */
const createItemBody = z.looseObject({
  connectorId: z.number().int().nonnegative(),
  parameters: parameterValues.optional(),
  clientUserId: z.string().min(1).optional(),
  webhookUrl: z.url().optional(),
  oauthRedirectUri: z.url().optional(),
  avoidDuplicates: z.boolean().optional(),
  products: z.array(z.string()).optional(),
});

/** `PATCH /items/{id}`: pluggy-sdk `updateItem(id, parameters, options)` sends `{id, parameters, ...options}`. */
const updateItemBody = z.looseObject({ parameters: parameterValues.optional() });

const booleanQuery = z.enum(["true", "false"]).transform((value) => value === "true");

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Login {
  kind: "create" | "update";
  triggeredBy: "USER" | "CLIENT";
}

/**
 * Adds the Connect routes to the simulator's Pluggy API. Call it before the API's other routes: the
 * `GET` and `PATCH /items/{id}` here only act for connect tokens and otherwise hand over to them.
 */
export function registerConnectApi(api: Hono<SimHonoEnv>, deps: ConnectApiDeps): void {
  const { state } = deps;
  const delayMs = deps.loginDelayMs ?? LOGIN_DELAY_MS;
  /** Which connect token created an item (a token may act on its own items). */
  const createdByToken = new Map<string, string>();
  /** The last credentials an item logged in with (update mode without new ones reuses them). */
  const lastParameters = new Map<string, Record<string, string>>();
  /** The login in progress or waiting for MFA: what to announce when it succeeds. */
  const logins = new Map<string, Login>();

  /** A connect token may touch only the item it was created for and the items it created. */
  function forbiddenItem(c: Context<SimHonoEnv>, itemId: string): Response | undefined {
    const claims = c.get("connectToken");
    if (!claims || claims.itemId === itemId || createdByToken.get(itemId) === claims.jti) return undefined;
    return pluggyError(403, "This connect token cannot access this item");
  }

  function setItem(itemId: string, fields: Partial<SimItem>): SimItem | undefined {
    const itemState = state.items.get(itemId);
    if (!itemState) return undefined;
    itemState.item = { ...itemState.item, ...fields, updatedAt: state.nowIso() };
    return itemState.item;
  }

  /** A first successful login collects the item's accounts and six months of transactions. */
  function collectAccounts(itemId: string): void {
    const itemState = state.items.get(itemId);
    if (!itemState || itemState.accountIds.length > 0) return;
    const random = seededRandom(crypto.randomUUID());
    const at = state.nowIso();
    for (const account of makeAccounts(random, itemId, ACCOUNTS_PER_ITEM)) {
      state.accounts.set(account.id, account);
      state.transactionsByAccount.set(account.id, new Map());
      for (const transaction of makeTransactions(random, account, TRANSACTIONS_PER_ACCOUNT, { untilMs: state.now(), days: 180, createdAt: at })) {
        state.putTransaction(transaction);
      }
      itemState.accountIds.push(account.id);
    }
  }

  async function finish(origin: string, itemId: string, verdict: Verdict): Promise<void> {
    const login = logins.get(itemId);
    const current = state.items.get(itemId)?.item;
    if (!login || !current) return;
    const extra = { triggeredBy: login.triggeredBy };
    if (!verdict.ok) {
      logins.delete(itemId);
      setItem(itemId, {
        status: verdict.status,
        executionStatus: verdict.code,
        error: { code: verdict.code, message: verdict.message },
        parameter: null,
        consecutiveFailedLoginAttempts: current.consecutiveFailedLoginAttempts + 1,
      });
      await deps.notify(origin, "item/error", itemId, extra);
      return;
    }
    if (current.connector.hasMFA && current.executionStatus === "LOGIN_IN_PROGRESS") {
      setItem(itemId, { status: "WAITING_USER_INPUT", executionStatus: "WAITING_USER_INPUT", parameter: mfaParameter(new Date(state.now() + MFA_TTL_MS).toISOString()) });
      await deps.notify(origin, "item/waiting_user_input", itemId, extra);
      return;
    }
    logins.delete(itemId);
    collectAccounts(itemId);
    const at = state.nowIso();
    setItem(itemId, {
      status: "UPDATED",
      executionStatus: "SUCCESS",
      error: null,
      parameter: null,
      lastUpdatedAt: at,
      consecutiveFailedLoginAttempts: 0,
      nextAutoSyncAt: new Date(state.now() + DAY_MS).toISOString(),
    });
    await deps.notify(origin, login.kind === "create" ? "item/created" : "item/updated", itemId, extra);
  }

  /** Starts a login (or an MFA check) now and settles it after `delayMs`, in the background. */
  function startLogin(c: Context<SimHonoEnv>, itemId: string, executionStatus: "LOGIN_IN_PROGRESS" | "LOGIN_MFA_IN_PROGRESS", decide: () => Verdict): SimItem | undefined {
    const item = setItem(itemId, { status: "UPDATING", executionStatus, error: null, parameter: null });
    const origin = new URL(c.req.url).origin;
    deps.background(
      c,
      (async () => {
        await sleep(delayMs);
        await finish(origin, itemId, decide());
      })(),
    );
    return item;
  }

  const triggeredBy = (c: Context<SimHonoEnv>): Login["triggeredBy"] => (c.get("connectToken") ? "USER" : "CLIENT");

  api.get("/connectors", (c) => {
    const list = (name: string) => {
      const values = (c.req.queries(name) ?? []).flatMap((value) => value.split(",")).map((value) => value.trim()).filter(Boolean);
      return values.length > 0 ? values : undefined;
    };
    const types = list("types");
    const unknownType = types?.find((type) => !(CONNECTOR_TYPES as readonly string[]).includes(type));
    if (unknownType) return pluggyError(400, `types: ${unknownType} is not one of ${CONNECTOR_TYPES.join(", ")}`, "INVALID_PARAMETERS");
    const flags: Record<string, boolean | undefined> = {};
    for (const name of ["sandbox", "isOpenFinance", "supportsPaymentInitiation", "supportsSmartTransfers", "supportsAutomaticPix"]) {
      const raw = c.req.query(name);
      if (raw === undefined) continue;
      const parsed = booleanQuery.safeParse(raw);
      if (!parsed.success) return pluggyError(400, `${name}: must be true or false`, "INVALID_PARAMETERS");
      flags[name] = parsed.data;
    }
    const results = filterConnectors({
      name: c.req.query("name"),
      countries: list("countries"),
      types,
      sandbox: flags.sandbox,
      isOpenFinance: flags.isOpenFinance,
      supportsPaymentInitiation: flags.supportsPaymentInitiation,
      supportsSmartTransfers: flags.supportsSmartTransfers,
      supportsAutomaticPix: flags.supportsAutomaticPix,
    });
    return c.json({ page: 1, total: results.length, totalPages: results.length > 0 ? 1 : 0, results });
  });

  api.get("/connectors/:id", (c) => {
    const id = c.req.param("id");
    const connector = /^\d+$/.test(id) ? findConnector(Number(id)) : undefined;
    return connector ? c.json(connector) : pluggyError(404, "Connector not found", "CONNECTOR_NOT_FOUND");
  });

  api.post("/items", (c) => {
    const parsed = createItemBody.safeParse(c.get("json") ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return pluggyError(400, issue ? `${issue.path.join(".") || "body"}: ${issue.message}` : "invalid request", "INVALID_PARAMETERS");
    }
    const body = parsed.data;
    const connector = findConnector(body.connectorId);
    if (!connector) return pluggyError(404, "Connector not found", "CONNECTOR_NOT_FOUND");
    const parameters = body.parameters ?? {};
    const invalid = validateParameters(connector, parameters);
    if (invalid.length > 0) return connectorValidationError(invalid);

    // Items made through Connect belong to the token's user, with the token's options.
    const claims = c.get("connectToken");
    const options = claims?.options ?? {};
    const clientUserId = options.clientUserId ?? body.clientUserId ?? null;
    if ((options.avoidDuplicates ?? body.avoidDuplicates) && clientUserId) {
      const duplicates = [...state.items.values()]
        .map((itemState) => itemState.item)
        .filter((item) => item.clientUserId === clientUserId && item.connector.id === connector.id && item.status !== "LOGIN_ERROR")
        .map((item) => item.id);
      if (duplicates.length > 0) {
        return c.json({ message: "There are other items with the same credentials, you can't create a new one", codeDescription: "ITEM_USER_ALREADY_EXISTS", items: duplicates }, 400);
      }
    }

    const { item } = state.createItem({ clientUserId: clientUserId ?? "", connectorId: connector.id, accounts: 0, status: "UPDATING", executionStatus: "LOGIN_IN_PROGRESS" });
    setItem(item.id, {
      clientUserId,
      webhookUrl: options.webhookUrl ?? body.webhookUrl ?? null,
      products: body.products ?? connector.products.filter((product) => ["ACCOUNTS", "CREDIT_CARDS", "TRANSACTIONS"].includes(product)),
      lastUpdatedAt: null,
      nextAutoSyncAt: null,
    });
    if (claims) createdByToken.set(item.id, claims.jti);
    lastParameters.set(item.id, parameters);
    logins.set(item.id, { kind: "create", triggeredBy: triggeredBy(c) });
    return c.json(startLogin(c, item.id, "LOGIN_IN_PROGRESS", () => judgeLogin(connector, parameters)), 200);
  });

  api.get("/items/:id", async (c, next) => {
    const forbidden = forbiddenItem(c, c.req.param("id"));
    if (forbidden) return forbidden;
    await next();
  });

  // Update mode: with a connect token, PATCH re-authenticates with the credentials the user typed in
  // Connect. With an apiKey it is an ordinary refresh, answered by the simulator's other PATCH route.
  api.patch("/items/:id", async (c, next) => {
    if (!c.get("connectToken")) return next();
    const itemId = c.req.param("id");
    const forbidden = forbiddenItem(c, itemId);
    if (forbidden) return forbidden;
    const current = state.getItem(itemId);
    if (!current) return pluggyError(404, "Item not found", "ITEM_NOT_FOUND");
    if (current.status === "UPDATING") return pluggyError(409, "Item is already updating", "ITEM_IS_ALREADY_UPDATING");
    const parsed = updateItemBody.safeParse(c.get("json") ?? {});
    if (!parsed.success) return pluggyError(400, "parameters: must be an object of strings", "INVALID_PARAMETERS");
    const connector = findConnector(current.connector.id) ?? current.connector;
    const parameters = parsed.data.parameters ?? lastParameters.get(itemId) ?? {};
    const invalid = validateParameters(connector, parameters);
    if (invalid.length > 0) return connectorValidationError(invalid);
    lastParameters.set(itemId, parameters);
    // A retry after a failed first login is still the item's creation; otherwise it is an update.
    const kind: Login["kind"] = createdByToken.has(itemId) && current.lastUpdatedAt === null ? "create" : "update";
    logins.set(itemId, { kind, triggeredBy: "USER" });
    return c.json(startLogin(c, itemId, "LOGIN_IN_PROGRESS", () => judgeLogin(connector, parameters)), 200);
  });

  api.post("/items/:id/mfa", (c) => {
    const itemId = c.req.param("id");
    const forbidden = forbiddenItem(c, itemId);
    if (forbidden) return forbidden;
    const current = state.getItem(itemId);
    if (!current) return pluggyError(404, "Item not found", "ITEM_NOT_FOUND");
    const parameter: SimCredential | null = current.parameter;
    if (current.status !== "WAITING_USER_INPUT" || !parameter) return pluggyError(400, "Item is not waiting for user input", "ITEM_NOT_WAITING_USER_INPUT");
    const parsed = parameterValues.safeParse(c.get("json") ?? {});
    const value = parsed.success ? parsed.data[parameter.name] : undefined;
    if (!value) return connectorValidationError([{ code: "001", parameter: parameter.name, message: `${parameter.name} parameter is required` }]);
    const expired = parameter.expiresAt !== undefined && Date.parse(parameter.expiresAt) <= state.now();
    return c.json(startLogin(c, itemId, "LOGIN_MFA_IN_PROGRESS", () => (expired ? MFA_TIMEOUT : value === SANDBOX_MFA_TOKEN_OK ? { ok: true } : INVALID_MFA)), 200);
  });
}
