import { hc, type ClientResponse, type InferRequestType, type InferResponseType } from "hono/client";
import type { AppType } from "../app.ts";

/*
 * `finance-hub-edge/client`: the typed client the frontend uses. Every request and response type comes
 * from the Worker's own routes (`AppType` through `hono/client`), so a change in the API's zod schemas
 * shows up here as a type change. It signs each call with the user's JWT, carries the latest
 * `X-D1-Bookmark` (the catalog's read-your-writes; a user's banking data is fresh without it), turns the
 * error envelope into an `ApiError`, and repeats a call that is safe to repeat after a 429/503, waiting
 * `Retry-After` (bounded).
 */

/** Every route of the API as `hono/client` sees it (an escape hatch: prefer the functions below). */
function createRawClient(baseUrl: string, fetch: typeof globalThis.fetch) {
  return hc<AppType>(baseUrl, { fetch });
}
export type RawClient = ReturnType<typeof createRawClient>;
type Banking = RawClient["api"]["banking"];

/** A transaction (`GET /api/banking/transactions/{id}/`). */
export type Transaction = InferResponseType<Banking["transactions"][":id"]["$get"], 200>["data"];
/** An account (`GET /api/banking/accounts/`). */
export type Account = InferResponseType<Banking["accounts"]["$get"], 200>["data"][number];
/** A bank connection, Pluggy's item (`GET /api/banking/items/`). */
export type Item = InferResponseType<Banking["items"]["$get"], 200>["data"][number];
/** A category of the shared tree (`GET /api/banking/categories/`). */
export type Category = InferResponseType<Banking["categories"]["$get"], 200>["data"][number];
/** What `POST /api/banking/pluggy/connect-token/` answers: the token, the Connect URL and the widget options. */
export type ConnectToken = InferResponseType<Banking["pluggy"]["connect-token"]["$post"], 200>["data"];
/** Its body: update mode (`item_id`), `avoid_duplicates`, connector filters, `oauth_redirect_uri`, `include_sandbox`. */
export type ConnectTokenRequest = InferRequestType<Banking["pluggy"]["connect-token"]["$post"]>["json"];
/** `DELETE /api/banking/me/`: the erasure is queued. */
export type Erasure = InferResponseType<Banking["me"]["$delete"], 202>["data"];
/** Transaction filters (`account_id`, `item_id`, `category_id` or `"none"`, `date_from`, `date_to`, `search`). */
export type TransactionFilters = Omit<InferRequestType<Banking["transactions"]["$get"]>["query"], "limit" | "cursor">;

/** One page of a list: follow `next_cursor` (opaque) until it is null. */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** `limit` (1–200, default 50) and the previous page's `next_cursor`. */
export interface PageOptions {
  limit?: number;
  cursor?: string;
}

/** Where the latest `X-D1-Bookmark` lives (default: in memory; `sessionStorage` keeps it across reloads). */
export interface BookmarkStore {
  get(): string | undefined;
  set(bookmark: string): void;
}

export interface ClientOptions {
  /** The API's origin, e.g. `https://api.financehub.example` or `http://localhost:8787`. */
  baseUrl: string;
  /** The user's JWT, or a function returning it (called before every request, so it can refresh). */
  token?: string | (() => string | undefined | Promise<string | undefined>);
  /** `fetch` to use (default: the global one). Tests pass the Worker's own `fetch`. */
  fetch?: (input: Request | string | URL, init?: RequestInit) => Promise<Response>;
  bookmarks?: BookmarkStore;
  /**
   * Repeats of a call that is safe to repeat after 429/503 (reads, registering an item, setting a
   * category, deleting an item, erasing). Waits `Retry-After` (1 s without one) and gives up at once,
   * with an ApiError carrying `retryAfterSeconds`, when the wait would be longer than `maxWaitSeconds`.
   * Default `{ attempts: 2, maxWaitSeconds: 10 }`; `false` turns it off.
   */
  retry?: { attempts?: number; maxWaitSeconds?: number } | false;
  /** How to wait between repeats (tests replace it). */
  sleep?: (ms: number) => Promise<void>;
}

export interface FinanceHubClient {
  /** `POST /api/banking/pluggy/connect-token/`. Open `connect_url` (or the widget with `widget_options`). Not repeated on 429. */
  createConnectToken(request?: ConnectTokenRequest): Promise<ConnectToken>;
  /** `GET /api/banking/items/`: the user's bank connections, newest first. */
  listItems(options?: PageOptions): Promise<Page<Item>>;
  /** `POST /api/banking/items/`: register the item Pluggy Connect's `onSuccess` handed over. `created` is false when it already was the user's. */
  registerItem(itemId: string): Promise<{ item: Item; created: boolean }>;
  /** `POST /api/banking/items/{id}/refresh/`: ask Pluggy to update it now. Not repeated (Pluggy may already be updating). */
  refreshItem(itemId: string): Promise<Item>;
  /** `DELETE /api/banking/items/{id}/`: disconnect a bank, at Pluggy and here. */
  deleteItem(itemId: string): Promise<void>;
  /** `GET /api/banking/accounts/`, optionally of one connection. */
  listAccounts(options?: { item_id?: string } & PageOptions): Promise<Page<Account>>;
  /** `GET /api/banking/transactions/`: one page, newest first. */
  listTransactions(filters?: TransactionFilters & PageOptions): Promise<Page<Transaction>>;
  /** Every page of `GET /api/banking/transactions/` for these filters, following `next_cursor` until null. */
  transactionPages(filters?: TransactionFilters & { limit?: number }): AsyncGenerator<Page<Transaction>, void, undefined>;
  /** `GET /api/banking/transactions/{id}/`. */
  getTransaction(id: string): Promise<Transaction>;
  /** `PATCH /api/banking/transactions/{id}/`: set (or clear, with null) the category; `category_sync` tells whether Pluggy got it. */
  setTransactionCategory(id: string, categoryId: string | null): Promise<Transaction>;
  /** `GET /api/banking/categories/`: the whole tree at once (build it from `parent_id`). */
  listCategories(): Promise<Category[]>;
  /** `DELETE /api/banking/me/`: erase the user, here and at Pluggy. */
  eraseMe(): Promise<Erasure>;
  /** The latest `X-D1-Bookmark` received (sent back on every request). */
  readonly bookmark: string | undefined;
  /** The underlying `hono/client` over every route. */
  readonly raw: RawClient;
}

const BOOKMARK_HEADER = "X-D1-Bookmark";
const DEFAULT_RETRY = { attempts: 2, maxWaitSeconds: 10 };
const RETRY_STATUSES = new Set([429, 503]);

function memoryBookmarks(): BookmarkStore {
  let latest: string | undefined;
  return {
    get: () => latest,
    set: (bookmark) => {
      latest = bookmark;
    },
  };
}

const query = (values: Record<string, string | number | undefined>): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) if (value !== undefined) out[name] = String(value);
  return out;
};

export function createClient(options: ClientOptions): FinanceHubClient {
  const baseFetch = options.fetch ?? ((input: Request | string | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const bookmarks = options.bookmarks ?? memoryBookmarks();
  const retry = options.retry === false ? { attempts: 0, maxWaitSeconds: 0 } : { ...DEFAULT_RETRY, ...options.retry };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  /** Adds the JWT and the latest bookmark to every request; keeps the bookmark every response brings. */
  const signedFetch = async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    const token = typeof options.token === "function" ? await options.token() : options.token;
    if (token) headers.set("Authorization", `Bearer ${token}`);
    const bookmark = bookmarks.get();
    if (bookmark) headers.set(BOOKMARK_HEADER, bookmark);
    const response = await baseFetch(input, { ...init, headers });
    const received = response.headers.get(BOOKMARK_HEADER);
    if (received) bookmarks.set(received);
    return response;
  };

  const raw = createRawClient(options.baseUrl.replace(/\/+$/, ""), signedFetch as typeof globalThis.fetch);
  const banking = raw.api.banking;

  /**
   * Runs `call` until it answers one of `expected`, repeating it (only when `repeatable`) after a
   * 429/503 within the retry bounds; anything else becomes an ApiError.
   */
  async function send<R extends ClientResponse<unknown, number, string>, S extends R["status"]>(
    call: () => Promise<R>,
    expected: readonly S[],
    repeatable: boolean,
  ): Promise<Extract<R, { status: S }>> {
    for (let attempt = 0; ; attempt++) {
      const response = await call();
      if ((expected as readonly number[]).includes(response.status)) return response as Extract<R, { status: S }>;
      const waitSeconds = retryAfterSecondsOf(response.headers) ?? 1;
      if (repeatable && RETRY_STATUSES.has(response.status) && attempt < retry.attempts && waitSeconds <= retry.maxWaitSeconds) {
        await response.body?.cancel();
        await sleep(waitSeconds * 1000);
        continue;
      }
      throw await ApiError.fromResponse(response as unknown as Response);
    }
  }

  const listTransactions = async (filters: TransactionFilters & PageOptions = {}): Promise<Page<Transaction>> => {
    const { limit, ...rest } = filters;
    const response = await send(() => banking.transactions.$get({ query: { ...query(rest), ...query({ limit }) } }), [200], true);
    return response.json();
  };

  return {
    async createConnectToken(request = {}) {
      const response = await send(() => banking.pluggy["connect-token"].$post({ json: request, header: {} }), [200], false);
      return (await response.json()).data;
    },

    async listItems(page = {}) {
      const response = await send(() => banking.items.$get({ query: query({ limit: page.limit, cursor: page.cursor }) }), [200], true);
      return response.json();
    },

    async registerItem(itemId) {
      const response = await send(() => banking.items.$post({ json: { item_id: itemId }, header: {} }), [200, 201], true);
      return { item: (await response.json()).data, created: response.status === 201 };
    },

    async refreshItem(itemId) {
      const response = await send(() => banking.items[":id"].refresh.$post({ param: { id: itemId }, header: {} }), [202], false);
      return (await response.json()).data;
    },

    async deleteItem(itemId) {
      const response = await send(() => banking.items[":id"].$delete({ param: { id: itemId }, header: {} }), [204], true);
      await response.body?.cancel();
    },

    async listAccounts(filters = {}) {
      const response = await send(() => banking.accounts.$get({ query: query({ item_id: filters.item_id, limit: filters.limit, cursor: filters.cursor }) }), [200], true);
      return response.json();
    },

    listTransactions,

    async *transactionPages(filters = {}) {
      let cursor: string | undefined;
      do {
        const page = await listTransactions({ ...filters, ...(cursor ? { cursor } : {}) });
        yield page;
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
    },

    async getTransaction(id) {
      const response = await send(() => banking.transactions[":id"].$get({ param: { id } }), [200], true);
      return (await response.json()).data;
    },

    async setTransactionCategory(id, categoryId) {
      const response = await send(() => banking.transactions[":id"].$patch({ param: { id }, json: { category: categoryId }, header: {} }), [200], true);
      return (await response.json()).data;
    },

    async listCategories() {
      const response = await send(() => banking.categories.$get({ query: {} }), [200], true);
      return (await response.json()).data;
    },

    async eraseMe() {
      const response = await send(() => banking.me.$delete(), [202], true);
      return (await response.json()).data;
    },

    get bookmark() {
      return bookmarks.get();
    },

    raw,
  };
}

// ---------------------------------------------------------------- errors

/** One entry of an error's `details`: which input was wrong (`limit`, `category`, `X-D1-Bookmark`, ...) and why. */
export interface ApiErrorDetail {
  field: string;
  message: string;
}

/**
 * A failed API call: the error envelope's `code`, `message`, `details` and `request_id`, with the HTTP
 * status and, on 429/503, the `Retry-After` seconds. Switch on `code` (`validation_error`, `not_found`,
 * `rate_limited`, `upstream_unavailable`, ...) and `details[].field`; `message` is for people.
 * `code` is `unexpected_response` when the body was not the API's envelope (e.g. a proxy's error page).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ApiErrorDetail[];
  /** The envelope's `request_id` (else the `X-Request-Id` header): quote it when reporting a problem. */
  readonly requestId: string | null;
  /** `Retry-After` in seconds, when the API sent one. */
  readonly retryAfterSeconds: number | null;

  constructor(init: { status: number; code: string; message: string; details?: ApiErrorDetail[]; requestId?: string | null; retryAfterSeconds?: number | null }) {
    super(init.message);
    this.name = "ApiError";
    this.status = init.status;
    this.code = init.code;
    this.details = init.details ?? [];
    this.requestId = init.requestId ?? null;
    this.retryAfterSeconds = init.retryAfterSeconds ?? null;
  }

  /** Reads a failed response (consuming its body). */
  static async fromResponse(response: Response): Promise<ApiError> {
    const text = await response.text().catch(() => "");
    const retryAfterSeconds = retryAfterSecondsOf(response.headers);
    const headerRequestId = response.headers.get("X-Request-Id");
    const envelope = parseEnvelope(text);
    if (!envelope) {
      return new ApiError({ status: response.status, code: "unexpected_response", message: `HTTP ${response.status} without the API's error envelope`, requestId: headerRequestId, retryAfterSeconds });
    }
    return new ApiError({
      status: response.status,
      code: envelope.code,
      message: envelope.message,
      details: envelope.details,
      requestId: envelope.request_id ?? headerRequestId,
      retryAfterSeconds,
    });
  }
}

interface Envelope {
  code: string;
  message: string;
  details: ApiErrorDetail[];
  request_id: string | null;
}

function parseEnvelope(text: string): Envelope | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const error = typeof parsed === "object" && parsed !== null && "error" in parsed ? (parsed as { error: unknown }).error : undefined;
  if (typeof error !== "object" || error === null) return undefined;
  const { code, message, details, request_id } = error as Record<string, unknown>;
  if (typeof code !== "string" || typeof message !== "string") return undefined;
  return {
    code,
    message,
    details: Array.isArray(details)
      ? details.filter((d): d is ApiErrorDetail => typeof d === "object" && d !== null && typeof (d as ApiErrorDetail).field === "string" && typeof (d as ApiErrorDetail).message === "string")
      : [],
    request_id: typeof request_id === "string" ? request_id : null,
  };
}

/** `Retry-After` as seconds: a whole number of seconds, or an HTTP date (seconds from now, at least 0). */
export function retryAfterSecondsOf(headers: Headers, now: number = Date.now()): number | null {
  const value = headers.get("Retry-After")?.trim();
  if (!value) return null;
  if (/^\d+$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}
