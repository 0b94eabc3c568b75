import type { PluggyAccount, PluggyCategory, PluggyItem, PluggyTransaction, PluggyWebhook } from "./pluggy.schemas.ts";

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
