import type { z } from "zod";
import { backoffSeconds, type BackoffOptions } from "../platform/backoff.ts";
import type { AppBindings } from "../platform/env.ts";
import type { Logger } from "../platform/logger.ts";
import { PluggyError } from "./pluggy.errors.ts";
import {
  cursorPageOf,
  pageOf,
  pluggyAccount,
  pluggyAuthResponse,
  pluggyCategory,
  pluggyConnectTokenResponse,
  pluggyErrorBody,
  pluggyItem,
  pluggyTransaction,
  pluggyWebhook,
  type PluggyAccount,
  type PluggyCategory,
  type PluggyItem,
  type PluggyTransaction,
  type PluggyWebhook,
} from "./pluggy.schemas.ts";

/** Options of `POST /connect_token` (only token options; widget filters are not sent). */
export interface ConnectTokenOptions {
  itemId?: string;
  clientUserId: string;
  avoidDuplicates?: boolean;
  oauthRedirectUri?: string;
  webhookUrl?: string;
}

export interface TransactionQuery {
  accountId: string;
  /** Mutually exclusive with createdAtFrom. */
  dateFrom?: string;
  dateTo?: string;
  /** Mutually exclusive with dateFrom. */
  createdAtFrom?: string;
  /** Chunked into groups of ≤ 500 by the client. */
  ids?: string[];
}

/**
 * Everything this service asks of Pluggy. Implemented over `fetch` in this folder; errors are
 * `PluggyError`. Reads retry 429/5xx/timeouts with bounded jittered backoff; writes do not.
 */
export interface PluggyApi {
  createConnectToken(options: ConnectTokenOptions): Promise<{ accessToken: string }>;
  getItem(itemId: string): Promise<PluggyItem>;
  /** `PATCH /items/{id}`: ask Pluggy to sync the item now. */
  updateItem(itemId: string): Promise<PluggyItem>;
  deleteItem(itemId: string): Promise<void>;
  listAccounts(itemId: string): Promise<PluggyAccount[]>;
  /** `GET /v2/transactions`, following `next` until null. */
  listTransactions(query: TransactionQuery): Promise<PluggyTransaction[]>;
  /** Same as listTransactions but page by page (for large syncs that write as they go). */
  iterateTransactions(query: TransactionQuery): AsyncIterable<PluggyTransaction[]>;
  getTransaction(transactionId: string): Promise<PluggyTransaction>;
  updateTransactionCategory(transactionId: string, categoryId: string): Promise<PluggyTransaction>;
  listCategories(): Promise<PluggyCategory[]>;
  createWebhook(input: { url: string; event: string; headers?: Record<string, string> }): Promise<PluggyWebhook>;
  listWebhooks(): Promise<PluggyWebhook[]>;
  updateWebhook(webhookId: string, input: { url?: string; event?: string; headers?: Record<string, string>; enabled?: boolean }): Promise<PluggyWebhook>;
  deleteWebhook(webhookId: string): Promise<void>;
}

/**
 * How patient a client is with Pluggy. Two profiles, defined once in PLUGGY_PROFILES: `background` for
 * queue consumers and crons (nobody waits; the queue retries beyond this), `interactive` for requests a
 * person is waiting on (a tight total budget and one retry at most, then the route answers 503 and the
 * client can try again).
 */
export type PluggyProfileName = "background" | "interactive";

export interface PluggyProfile {
  /** Per-attempt timeout in milliseconds. */
  timeoutMs: number;
  /** Attempts for an idempotent read (first try included); writes always make one. */
  maxReadAttempts: number;
  /** A 429 asking to wait longer than this is thrown instead of waited on (the caller retries later). */
  maxRateLimitWaitSeconds: number;
  /** Backoff between read retries, in seconds (see platform/backoff.ts). */
  backoff: BackoffOptions;
  /**
   * Wall-clock budget of one call, in milliseconds: attempts, backoff and any wait for an apiKey
   * included. An attempt never outlives it, and no retry starts that could not finish within it.
   */
  budgetMs: number;
}

export const PLUGGY_PROFILES: Readonly<Record<PluggyProfileName, Readonly<PluggyProfile>>> = {
  background: { timeoutMs: 15_000, maxReadAttempts: 3, maxRateLimitWaitSeconds: 5, backoff: { baseSeconds: 1, capSeconds: 4 }, budgetMs: Number.POSITIVE_INFINITY },
  // 4 s + ≈1 s backoff + the 3 s left: a slow Pluggy costs a user about 8 s, never the 48 s of three 15 s timeouts.
  interactive: { timeoutMs: 4_000, maxReadAttempts: 2, maxRateLimitWaitSeconds: 2, backoff: { baseSeconds: 1, capSeconds: 1 }, budgetMs: 8_000 },
};

export interface PluggyClientOptions extends Partial<PluggyProfile> {
  /** Defaults for every field of PluggyProfile; fields given here override it. Default `background`. */
  profile?: PluggyProfileName;
  logger?: Logger;
  /** Injectable for tests. */
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** The clock of the apiKey cache (the call budget runs on real time, like the timers that enforce it). */
  now?: () => number;
}

const DEFAULT_BASE_URL = "https://api.pluggy.ai";
/** A retry is not started with less than this left of the call's budget. */
const MIN_ATTEMPT_MS = 1_000;
/** Refresh the apiKey this long before its `exp`. */
const API_KEY_REFRESH_MARGIN_MS = 5 * 60_000;
/** Pluggy documents a 2-hour apiKey; used when the key's `exp` cannot be read. */
const API_KEY_FALLBACK_LIFETIME_MS = 2 * 60 * 60_000;
/** A fresh key is used at least this long, so a skewed clock cannot turn every call into a `POST /auth`. */
const API_KEY_MIN_CACHE_MS = 60_000;
/**
 * `ids` per `GET /v2/transactions`. Pluggy accepts up to 500, but 500 uuids make an ~18 KB URL that
 * common proxies and servers refuse (431/414); 200 keep it under 8 KB.
 */
export const TRANSACTION_IDS_PER_REQUEST = 200;
const MAX_TRANSACTION_PAGES = 10_000;
const MAX_LIST_PAGES = 100;

interface CachedApiKey {
  apiKey: string;
  /** When to stop using it (ms since epoch): `exp` minus the refresh margin. */
  refreshAtMs: number;
}

/* Per isolate: every request in this isolate shares one apiKey and one in-flight refresh per client. */
const apiKeyCache = new Map<string, CachedApiKey>();
const apiKeyRefreshes = new Map<string, Promise<CachedApiKey>>();

/** Reads `exp` (seconds) from a JWT payload without verifying it; undefined when it is not a JWT. */
export function jwtExpiryMs(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "=");
    const decoded: unknown = JSON.parse(atob(base64));
    if (decoded && typeof decoded === "object" && "exp" in decoded && typeof decoded.exp === "number") return decoded.exp * 1000;
  } catch {
    return undefined;
  }
  return undefined;
}

function parseSeconds(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  if (Number.isFinite(date)) return Math.max(0, Math.ceil((date - Date.now()) / 1000));
  return undefined;
}

type Query = Record<string, string | undefined>;

interface RequestSpec<T> {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  query?: Query;
  body?: unknown;
  schema: z.ZodType<T> | undefined;
  /** Reads retry; writes never do (except once after a re-auth, which Pluggy did not execute). */
  idempotent: boolean;
  /** `POST /auth` itself: no apiKey. */
  unauthenticated?: boolean;
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const segment = (id: string) => encodeURIComponent(id);

/**
 * Builds the Pluggy client for this environment: fetch-based, apiKey cached per isolate until shortly
 * before its `exp` (one refresh shared by concurrent callers), a timeout on every attempt, bounded
 * retries for idempotent reads, and every failure as a `PluggyError`. How long it waits comes from
 * `options.profile` (PLUGGY_PROFILES): routes answering a user pass `interactive`; queue consumers
 * and crons keep the default, `background`.
 */
export function createPluggyClient(env: AppBindings, options: PluggyClientOptions = {}): PluggyApi {
  const baseUrl = (env.PLUGGY_API_URL || DEFAULT_BASE_URL).replace(/\/+$/, "");
  const clientId = env.PLUGGY_CLIENT_ID ?? "";
  const clientSecret = env.PLUGGY_CLIENT_SECRET ?? "";
  const cacheKey = `${baseUrl}\n${clientId}`;
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const sleep = options.sleep ?? sleepMs;
  const now = options.now ?? Date.now;
  const profile = PLUGGY_PROFILES[options.profile ?? "background"];
  const timeoutMs = options.timeoutMs ?? profile.timeoutMs;
  const maxReadAttempts = Math.max(1, options.maxReadAttempts ?? profile.maxReadAttempts);
  const maxRateLimitWait = options.maxRateLimitWaitSeconds ?? profile.maxRateLimitWaitSeconds;
  const backoff = options.backoff ?? profile.backoff;
  const budgetMs = options.budgetMs ?? profile.budgetMs;
  const logger = options.logger;

  /** When a call starting now must be over (real time; Infinity without a budget). */
  const deadlineFromNow = () => Date.now() + budgetMs;
  const timeoutError = (ms: number, cause?: unknown) => new PluggyError(0, `Pluggy did not answer within ${ms} ms`, { codeDescription: "TIMEOUT", cause });

  /** `work`, or a TIMEOUT PluggyError once the deadline passes (work shared with other callers goes on for them). */
  async function beforeDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
    if (deadline === Number.POSITIVE_INFINITY) return work;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(timeoutError(budgetMs)), Math.max(0, deadline - Date.now()));
    });
    try {
      return await Promise.race([work, expired]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  function urlFor(path: string, query?: Query): string {
    const url = new URL(baseUrl + path);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    return url.toString();
  }

  /** One HTTP exchange, cut off at the attempt timeout or the deadline: a PluggyError for anything but a 2xx with the expected shape. */
  async function exchange<T>(spec: RequestSpec<T>, apiKey: string | undefined, deadline: number): Promise<T> {
    const attemptMs = Math.min(timeoutMs, deadline - Date.now());
    if (attemptMs <= 0) throw timeoutError(budgetMs);
    const headers: Record<string, string> = { Accept: "application/json" };
    if (apiKey) headers["X-API-KEY"] = apiKey;
    if (spec.body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await doFetch(urlFor(spec.path, spec.query), {
        method: spec.method,
        headers,
        ...(spec.body !== undefined ? { body: JSON.stringify(spec.body) } : {}),
        signal: AbortSignal.timeout(attemptMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      throw timedOut ? timeoutError(attemptMs, error) : new PluggyError(0, "could not reach Pluggy", { codeDescription: "NETWORK_ERROR", cause: error });
    }
    if (!response.ok) throw await errorFrom(response);
    if (!spec.schema) {
      await response.body?.cancel();
      return undefined as T;
    }
    let json: unknown;
    try {
      json = await response.json();
    } catch (error) {
      throw new PluggyError(502, `Pluggy sent a body that is not JSON for ${spec.method} ${spec.path}`, { codeDescription: "INVALID_RESPONSE", cause: error });
    }
    const parsed = spec.schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new PluggyError(502, `unexpected Pluggy response for ${spec.method} ${spec.path}: ${issue ? `${issue.path.join(".")} ${issue.message}` : "invalid"}`, {
        codeDescription: "INVALID_RESPONSE",
      });
    }
    return parsed.data;
  }

  async function errorFrom(response: Response): Promise<PluggyError> {
    let codeDescription: string | undefined;
    let message: string | undefined;
    try {
      const parsed = pluggyErrorBody.safeParse(await response.json());
      if (parsed.success) {
        codeDescription = parsed.data.codeDescription;
        message = parsed.data.message;
      }
    } catch {
      // A non-JSON error body carries nothing we can use.
    }
    const retryAfterSeconds =
      response.status === 429
        ? (parseSeconds(response.headers.get("RateLimit-Reset")) ?? parseSeconds(response.headers.get("Retry-After")))
        : parseSeconds(response.headers.get("Retry-After"));
    return new PluggyError(response.status, message || `Pluggy answered ${response.status}`, {
      ...(codeDescription ? { codeDescription } : {}),
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    });
  }

  /**
   * Runs `attempt` once for writes; up to maxReadAttempts for reads, honouring 429 resets within bounds,
   * and never starting a retry that the deadline would cut short.
   */
  async function withRetries<T>(spec: RequestSpec<T>, deadline: number, attempt: () => Promise<T>): Promise<T> {
    const attempts = spec.idempotent ? maxReadAttempts : 1;
    for (let tryNumber = 1; ; tryNumber++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof PluggyError) || tryNumber >= attempts) throw error;
        let delayMs: number;
        if (error.status === 429) {
          const reset = error.retryAfterSeconds ?? 1;
          if (reset > maxRateLimitWait) throw error;
          delayMs = backoffSeconds(tryNumber, backoff, reset) * 1000;
          delayMs = Math.min(delayMs, maxRateLimitWait * 1000);
        } else if (error.status === 0 || error.status >= 500) {
          if (error.codeDescription === "INVALID_RESPONSE") throw error;
          delayMs = backoffSeconds(tryNumber, backoff) * 1000;
        } else {
          throw error;
        }
        if (deadline - Date.now() - delayMs < MIN_ATTEMPT_MS) throw error;
        logger?.warn("pluggy read failed; retrying", { method: spec.method, path: spec.path, status: error.status, try: tryNumber, delay_ms: delayMs });
        await sleep(delayMs);
      }
    }
  }

  async function authenticate(): Promise<CachedApiKey> {
    if (!clientId || !clientSecret) throw new PluggyError(401, "Pluggy client keys are not configured", { codeDescription: "CLIENT_KEYS_UNAUTHORIZED" });
    const spec: RequestSpec<z.infer<typeof pluggyAuthResponse>> = {
      method: "POST",
      path: "/auth",
      body: { clientId, clientSecret },
      schema: pluggyAuthResponse,
      idempotent: true,
      unauthenticated: true,
    };
    const deadline = deadlineFromNow();
    const { apiKey } = await withRetries(spec, deadline, () => exchange(spec, undefined, deadline));
    const issuedAt = now();
    const expiresAt = jwtExpiryMs(apiKey) ?? issuedAt + API_KEY_FALLBACK_LIFETIME_MS;
    return { apiKey, refreshAtMs: Math.max(expiresAt - API_KEY_REFRESH_MARGIN_MS, issuedAt + API_KEY_MIN_CACHE_MS) };
  }

  async function currentApiKey(): Promise<string> {
    const cached = apiKeyCache.get(cacheKey);
    if (cached && cached.refreshAtMs > now()) return cached.apiKey;
    let refresh = apiKeyRefreshes.get(cacheKey);
    if (!refresh) {
      refresh = authenticate()
        .then((fresh) => {
          apiKeyCache.set(cacheKey, fresh);
          return fresh;
        })
        .finally(() => apiKeyRefreshes.delete(cacheKey));
      apiKeyRefreshes.set(cacheKey, refresh);
    }
    return (await refresh).apiKey;
  }

  function dropApiKey(apiKey: string): void {
    if (apiKeyCache.get(cacheKey)?.apiKey === apiKey) apiKeyCache.delete(cacheKey);
  }

  async function call<T>(spec: RequestSpec<T>): Promise<T> {
    const deadline = deadlineFromNow();
    return withRetries(spec, deadline, async () => {
      const apiKey = await beforeDeadline(currentApiKey(), deadline);
      try {
        return await exchange(spec, apiKey, deadline);
      } catch (error) {
        if (!(error instanceof PluggyError) || error.status !== 401) throw error;
        dropApiKey(apiKey);
        return exchange(spec, await beforeDeadline(currentApiKey(), deadline), deadline);
      }
    });
  }

  const get = <T>(path: string, schema: z.ZodType<T>, query?: Query) => call({ method: "GET", path, query, schema, idempotent: true });

  /** A v1 page envelope or a bare array; further pages fetched while `totalPages` says so. */
  async function listAll<T>(path: string, item: z.ZodType<T>, query: Query = {}): Promise<T[]> {
    const first = await get(path, pageOf(item).or(item.array()), query);
    if (Array.isArray(first)) return first;
    const results = [...first.results];
    const totalPages = Math.min(first.totalPages ?? 1, MAX_LIST_PAGES);
    for (let page = (first.page ?? 1) + 1; page <= totalPages; page++) {
      const next = await get(path, pageOf(item), { ...query, page: String(page) });
      results.push(...next.results);
    }
    return results;
  }

  function afterCursor(next: string): string {
    let after: string | null;
    try {
      after = new URL(next, `${baseUrl}/`).searchParams.get("after");
    } catch {
      after = null;
    }
    if (!after) throw new PluggyError(502, "Pluggy's transactions `next` link has no `after` cursor", { codeDescription: "INVALID_RESPONSE" });
    return after;
  }

  async function* pagesFor(query: Omit<TransactionQuery, "ids">, ids: string | undefined): AsyncGenerator<PluggyTransaction[]> {
    const base: Query = {
      accountId: query.accountId,
      dateFrom: query.dateFrom,
      dateTo: query.dateTo,
      createdAtFrom: query.createdAtFrom,
      ids,
    };
    let after: string | undefined;
    for (let page = 0; page < MAX_TRANSACTION_PAGES; page++) {
      const result = await get("/v2/transactions", cursorPageOf(pluggyTransaction), { ...base, after });
      yield result.results;
      if (!result.next) return;
      const nextAfter = afterCursor(result.next);
      if (nextAfter === after) throw new PluggyError(502, "Pluggy's transactions cursor did not advance", { codeDescription: "INVALID_RESPONSE" });
      after = nextAfter;
    }
    throw new PluggyError(502, `more than ${MAX_TRANSACTION_PAGES} transaction pages`, { codeDescription: "INVALID_RESPONSE" });
  }

  async function* iterateTransactions(query: TransactionQuery): AsyncGenerator<PluggyTransaction[]> {
    if (query.dateFrom && query.createdAtFrom) throw new RangeError("dateFrom and createdAtFrom are mutually exclusive in Pluggy's GET /v2/transactions");
    if (!query.accountId) throw new RangeError("accountId is required by GET /v2/transactions");
    const { ids, ...rest } = query;
    if (ids === undefined) {
      yield* pagesFor(rest, undefined);
      return;
    }
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += TRANSACTION_IDS_PER_REQUEST) {
      yield* pagesFor(rest, unique.slice(i, i + TRANSACTION_IDS_PER_REQUEST).join(","));
    }
  }

  return {
    async createConnectToken(tokenOptions) {
      const { itemId, clientUserId, avoidDuplicates, oauthRedirectUri, webhookUrl } = tokenOptions;
      const body = {
        ...(itemId !== undefined ? { itemId } : {}),
        options: {
          clientUserId,
          ...(avoidDuplicates !== undefined ? { avoidDuplicates } : {}),
          ...(oauthRedirectUri !== undefined ? { oauthRedirectUri } : {}),
          ...(webhookUrl !== undefined ? { webhookUrl } : {}),
        },
      };
      const { accessToken } = await call({ method: "POST", path: "/connect_token", body, schema: pluggyConnectTokenResponse, idempotent: false });
      return { accessToken };
    },
    getItem: (itemId) => get(`/items/${segment(itemId)}`, pluggyItem),
    updateItem: (itemId) => call({ method: "PATCH", path: `/items/${segment(itemId)}`, body: {}, schema: pluggyItem, idempotent: false }),
    deleteItem: (itemId) => call({ method: "DELETE", path: `/items/${segment(itemId)}`, schema: undefined, idempotent: false }),
    listAccounts: (itemId) => listAll("/accounts", pluggyAccount, { itemId }),
    async listTransactions(query) {
      const all: PluggyTransaction[] = [];
      for await (const page of iterateTransactions(query)) all.push(...page);
      return all;
    },
    iterateTransactions,
    getTransaction: (transactionId) => get(`/transactions/${segment(transactionId)}`, pluggyTransaction),
    updateTransactionCategory: (transactionId, categoryId) =>
      call({ method: "PATCH", path: `/transactions/${segment(transactionId)}`, body: { categoryId }, schema: pluggyTransaction, idempotent: false }),
    listCategories: () => listAll("/categories", pluggyCategory),
    createWebhook: (input) => call({ method: "POST", path: "/webhooks", body: input, schema: pluggyWebhook, idempotent: false }),
    listWebhooks: () => listAll("/webhooks", pluggyWebhook),
    updateWebhook: (webhookId, input) => call({ method: "PATCH", path: `/webhooks/${segment(webhookId)}`, body: input, schema: pluggyWebhook, idempotent: false }),
    deleteWebhook: (webhookId) => call({ method: "DELETE", path: `/webhooks/${segment(webhookId)}`, schema: undefined, idempotent: false }),
  };
}
