import { pluggyError } from "./sim.errors.ts";
import { compareTransactions, type SimState } from "./sim.state.ts";
import type { SimTransaction } from "./sim.data.ts";

/*
 * Pluggy's two transaction lists over the same data and the same filters:
 * - `GET /v2/transactions` — keyset cursor (`after`), `{results, next}` with a relative `next` link;
 * - `GET /transactions` — the older page-number list (`page`, `pageSize`), `{results, page, total, totalPages}`,
 *   still what the official SDK's `fetchTransactions` calls.
 * Both order by date, then id.
 */

const MAX_IDS = 500;
/** Pluggy's page-number lists: 20 by default, at most 500. */
const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 500;

type Query = Record<string, string | undefined>;

interface Filters {
  accountId: string;
  dateFrom: string | undefined;
  dateTo: string | undefined;
  createdAtFrom: string | undefined;
  ids: Set<string> | undefined;
}

const invalid = (message: string): Response => pluggyError(400, message, "INVALID_PARAMETERS");

/**
 * Checks the filters both lists share (the v1 list names the date range `from`/`to`). Pluggy documents
 * `dateFrom` and `createdAtFrom` as exclusive on v2 only, so only v2 refuses the pair.
 */
function parseFilters(query: Query, dateFromName: "dateFrom" | "from", dateToName: "dateTo" | "to", options: { exclusiveCreatedAtFrom: boolean }): Filters | Response {
  const accountId = query.accountId;
  if (!accountId) return invalid("accountId is required");
  const dateFrom = query[dateFromName];
  const dateTo = query[dateToName];
  if (options.exclusiveCreatedAtFrom && dateFrom && query.createdAtFrom) return invalid(`${dateFromName} and createdAtFrom cannot be used together`);
  for (const [name, value] of [[dateFromName, dateFrom], [dateToName, dateTo], ["createdAtFrom", query.createdAtFrom]] as const) {
    if (value !== undefined && Number.isNaN(Date.parse(value))) return invalid(`${name} must be an ISO date`);
  }
  const ids = query.ids ? new Set(query.ids.split(",").filter(Boolean)) : undefined;
  if (ids && ids.size > MAX_IDS) return invalid(`ids accepts at most ${MAX_IDS} values`);
  return { accountId, dateFrom, dateTo, createdAtFrom: query.createdAtFrom, ids };
}

/** A date bound: `YYYY-MM-DD` compares whole days, anything else the exact instant. */
function withinDates(transaction: SimTransaction, filters: Filters): boolean {
  const compared = (bound: string) => (bound.length === 10 ? [transaction.date.slice(0, 10), bound] : [transaction.date, new Date(bound).toISOString()]);
  if (filters.dateFrom) {
    const [value, bound] = compared(filters.dateFrom);
    if ((value ?? "") < (bound ?? "")) return false;
  }
  if (filters.dateTo) {
    const [value, bound] = compared(filters.dateTo);
    if ((value ?? "") > (bound ?? "")) return false;
  }
  return true;
}

function matching(state: SimState, filters: Filters): SimTransaction[] {
  const createdAtFrom = filters.createdAtFrom ? new Date(filters.createdAtFrom).toISOString() : undefined;
  return state.transactionsOf(filters.accountId).filter(
    (t) => withinDates(t, filters) && (!createdAtFrom || t.createdAt >= createdAtFrom) && (!filters.ids || filters.ids.has(t.id)),
  );
}

/**
 * The cursor is opaque to clients but must survive being sent back unencoded (the official SDK
 * string-joins its query without URL-encoding it, so a `+` would arrive as a space). Standard base64 of
 * today's content (ISO dates, uuids, JSON punctuation) happens never to contain `+`; base64url makes the
 * cursor URL-safe by construction, whatever it comes to hold.
 */
function encodeCursor(transaction: SimTransaction): string {
  return btoa(JSON.stringify([transaction.date, transaction.id])).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeCursor(cursor: string): [string, string] | undefined {
  try {
    const decoded: unknown = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
    if (!Array.isArray(decoded) || typeof decoded[0] !== "string" || typeof decoded[1] !== "string") return undefined;
    return [decoded[0], decoded[1]];
  } catch {
    return undefined;
  }
}

/** `GET /v2/transactions`: `pageSize` results after the cursor, and the relative link to the next page (or null). */
export function cursorTransactions(state: SimState, query: Query): Response {
  const filters = parseFilters(query, "dateFrom", "dateTo", { exclusiveCreatedAtFrom: true });
  if (filters instanceof Response) return filters;
  const after = query.after === undefined ? undefined : decodeCursor(query.after);
  if (query.after !== undefined && !after) return invalid("after: invalid cursor");
  const rest = matching(state, filters).filter((t) => !after || compareTransactions(t, { date: after[0], id: after[1] } as SimTransaction) > 0);
  const page = rest.slice(0, state.config.pageSize);
  const last = page[page.length - 1];
  let next: string | null = null;
  if (rest.length > page.length && last) {
    const params = new URLSearchParams();
    for (const name of ["accountId", "dateFrom", "dateTo", "createdAtFrom", "ids"] as const) {
      const value = query[name];
      if (value !== undefined) params.set(name, value);
    }
    params.set("after", encodeCursor(last));
    next = `/v2/transactions?${params.toString()}`;
  }
  return Response.json({ results: page, next });
}

const positiveInteger = (value: string | undefined, fallback: number): number | undefined => {
  if (value === undefined) return fallback;
  return /^\d+$/.test(value) && Number(value) >= 1 ? Number(value) : undefined;
};

/** `GET /transactions`: page `page` (from 1) of `pageSize` (default 20, at most 500). */
export function pagedTransactions(state: SimState, query: Query): Response {
  const filters = parseFilters(query, "from", "to", { exclusiveCreatedAtFrom: false });
  if (filters instanceof Response) return filters;
  const page = positiveInteger(query.page, 1);
  if (page === undefined) return invalid("page must be a positive integer");
  const pageSize = positiveInteger(query.pageSize, DEFAULT_PAGE_SIZE);
  if (pageSize === undefined || pageSize > MAX_PAGE_SIZE) return invalid(`pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  const all = matching(state, filters);
  return Response.json({ total: all.length, totalPages: Math.ceil(all.length / pageSize), page, results: all.slice((page - 1) * pageSize, page * pageSize) });
}
