import { z } from "zod";
import { decodeCursor, encodeCursor } from "../platform/cursor.ts";
import { toMinor } from "../platform/money.ts";
import type { PluggyAccount, PluggyItem, PluggyTransaction } from "../pluggy/pluggy.schemas.ts";

/*
 * What the Worker sends to a user's ledger and reads back besides rows: the shapes of the sync writes
 * (Pluggy's data already normalized here, in the Worker, so the ledger never sees Pluggy's wire format)
 * and the list cursors. Pure code, no storage: the Worker imports it without the Durable Object.
 */

// ---------------------------------------------------------------------------------------------------
// Normalizing Pluggy's values

/** Lower-case and strip accents so "cafe" finds "Café" (SQLite's lower() and LIKE are ASCII-only). */
export function foldForSearch(text: string): string {
  return text.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase();
}

/** Pluggy's `date` (ISO instant or plain date) → our booking date: its calendar part as Pluggy wrote it. */
export function bookingDate(pluggyDate: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})/.exec(pluggyDate);
  if (match?.[1]) return match[1];
  const parsed = new Date(pluggyDate);
  if (Number.isNaN(parsed.getTime())) throw new RangeError(`not a date: ${pluggyDate}`);
  return parsed.toISOString().slice(0, 10);
}

/** An instant from Pluggy normalized to `toISOString()` form, so stored instants compare as text. */
export function normalizeInstant(value: string | null | undefined): string | null {
  if (!value) return null;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? null : parsed.toISOString();
}

// ---------------------------------------------------------------------------------------------------
// Sync inputs

/** A Pluggy item as the ledger stores it (`applyItem`). */
export interface ItemInput {
  id: string;
  connectorId: number | null;
  connectorName: string | null;
  connectorImageUrl: string | null;
  status: string | null;
  executionStatus: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  lastUpdatedAt: string | null;
  pluggyCreatedAt: string | null;
}

export function itemInputFromPluggy(item: PluggyItem): ItemInput {
  return {
    id: item.id,
    connectorId: item.connector.id,
    connectorName: item.connector.name,
    connectorImageUrl: item.connector.imageUrl ?? null,
    status: item.status,
    executionStatus: item.executionStatus ?? null,
    errorCode: item.error?.code ?? null,
    errorMessage: item.error?.message ?? null,
    lastUpdatedAt: normalizeInstant(item.lastUpdatedAt),
    pluggyCreatedAt: normalizeInstant(item.createdAt),
  };
}

/** A Pluggy account as the ledger stores it (`applyAccounts`); balance in minor units. */
export interface AccountInput {
  pluggyId: string;
  name: string | null;
  type: string | null;
  subtype: string | null;
  number: string | null;
  balanceMinor: number | null;
  currencyCode: string | null;
}

export function accountInputFromPluggy(account: PluggyAccount): AccountInput {
  return {
    pluggyId: account.id,
    name: account.name ?? account.marketingName ?? null,
    type: account.type,
    subtype: account.subtype ?? null,
    number: account.number ?? null,
    balanceMinor: typeof account.balance === "number" ? toMinor(account.balance) : null,
    currencyCode: account.currencyCode ?? null,
  };
}

/** Our row for a Pluggy account, as transaction writes need it. */
export interface LocalAccountRef {
  id: string;
  currencyCode: string | null;
}

/** An item's local accounts keyed by Pluggy account id (a record: it crosses RPC). */
export type LocalAccounts = Record<string, LocalAccountRef>;

/**
 * A Pluggy transaction as the ledger stores it (`applyTransactionsPage`). `categoryId` is our category,
 * already looked up by the Worker from Pluggy's through the catalog's mapping (null when unmapped).
 */
export interface TransactionInput {
  pluggyId: string;
  /** Pluggy's account id; a row whose account the ledger is not told about is skipped. */
  accountPluggyId: string;
  /** Booking date, YYYY-MM-DD. */
  date: string;
  description: string;
  amountMinor: number;
  /** Null: the account's currency, else BRL. */
  currencyCode: string | null;
  type: "DEBIT" | "CREDIT";
  status: "POSTED" | "PENDING";
  categoryId: string | null;
  pluggyCategoryId: string | null;
  pluggyCategoryName: string | null;
  /** Pluggy's `createdAt`, normalized (see `normalizeInstant`). */
  pluggyCreatedAt: string | null;
}

/** A Pluggy transaction → the ledger's input, with the local category the catalog maps its category to. */
export function transactionInputFromPluggy(t: PluggyTransaction, localCategoryId: string | null): TransactionInput {
  return {
    pluggyId: t.id,
    accountPluggyId: t.accountId,
    date: bookingDate(t.date),
    description: t.description ?? t.descriptionRaw ?? "",
    amountMinor: toMinor(t.amount),
    currencyCode: t.currencyCode ?? null,
    type: t.type,
    status: t.status ?? "POSTED",
    categoryId: localCategoryId,
    pluggyCategoryId: t.categoryId ?? null,
    pluggyCategoryName: t.category ?? null,
    pluggyCreatedAt: normalizeInstant(t.createdAt),
  };
}

export interface TransactionPageCounts {
  /** Rows that did not exist before. */
  added: number;
  /** Existing rows where something changed. */
  updated: number;
  /** Existing rows already identical (nothing written). */
  unchanged: number;
  /** Rows whose account is unknown locally (not written). */
  skipped: number;
  /** The largest Pluggy `createdAt` among the rows written or unchanged; null when none carried one. */
  maxCreatedAt: string | null;
}

// ---------------------------------------------------------------------------------------------------
// List cursors: the opaque strings of the HTTP API, decoded in the Worker (a bad one is a 400 there:
// an error thrown inside the ledger reaches the Worker as a plain Error) and encoded by the ledger.

const itemKey = z.object({ c: z.string().min(1).max(64), i: z.string().min(1).max(128) });
const accountKey = z.object({ t: z.string().min(1).max(128), i: z.string().min(1).max(128) });
const transactionKey = z.object({ d: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), i: z.string().min(1).max(128) });

/** Items: our row's (created_at, id), newest first. */
export type ItemCursor = z.infer<typeof itemKey>;
/** Accounts: (item_id, id), ascending. */
export type AccountCursor = z.infer<typeof accountKey>;
/** Transactions: (date, id), newest first. */
export type TransactionCursor = z.infer<typeof transactionKey>;

export const decodeItemCursor = (cursor: string): ItemCursor => decodeCursor(cursor, itemKey);
export const decodeAccountCursor = (cursor: string): AccountCursor => decodeCursor(cursor, accountKey);
export const decodeTransactionCursor = (cursor: string): TransactionCursor => decodeCursor(cursor, transactionKey);

// Keys are built in the order the cursor's JSON has always had, so cursors stay byte-identical.
export const itemCursorOf = (row: { createdAt: string; id: string }): string => encodeCursor({ c: row.createdAt, i: row.id });
export const accountCursorOf = (row: { itemId: string; id: string }): string => encodeCursor({ t: row.itemId, i: row.id });
export const transactionCursorOf = (row: { date: string; id: string }): string => encodeCursor({ d: row.date, i: row.id });
