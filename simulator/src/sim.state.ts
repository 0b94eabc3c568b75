import {
  completeTransaction,
  connectorFor,
  makeAccounts,
  makeTransactions,
  seededRandom,
  uuidFrom,
  type SimAccount,
  type SimItem,
  type SimItemError,
  type SimTransaction,
} from "./sim.data.ts";

/*
 * The simulator's whole world, in memory. Everything is keyed by its own id (items, accounts,
 * transactions, webhooks by client), so parallel test files that use unique ids never see each other.
 */

export interface SimConfig {
  /** Added to every Pluggy API answer (benchmarks). */
  latencyMs: number;
  /** Page size of `GET /v2/transactions` (Pluggy: 500). */
  pageSize: number;
  /** Per item: a `PATCH /items/{id}` sooner than this after the previous one → CLIENT_IS_UPDATING_BEFORE_ALLOWED_FREQUENCY. */
  minRefreshIntervalSeconds: number;
  /** How long an update started by `PATCH /items/{id}` stays UPDATING. */
  updateDurationMs: number;
  /** New transactions an update finds (added to the item's first account). */
  transactionsPerUpdate: number;
  /** `PATCH /items/{id}` calls per minute per source IP before a 429 (Pluggy: 20). */
  itemUpdatesPerMinute: number;
  /**
   * Pluggy's per-endpoint, per-IP limits (sim.rate-limits.ts). Load runs that hit the simulator from one
   * address far harder than one client would (bench, reliability suite, the in-process test simulator)
   * turn them off.
   */
  rateLimits: boolean;
  /** Send item/created, item/updated, transactions/created and item/deleted to the app on their own. */
  autoWebhooks: boolean;
}

export const DEFAULT_CONFIG: SimConfig = {
  latencyMs: 0,
  pageSize: 500,
  minRefreshIntervalSeconds: 60,
  updateDurationMs: 1500,
  transactionsPerUpdate: 2,
  itemUpdatesPerMinute: 20,
  rateLimits: true,
  autoWebhooks: true,
};

export interface SimFault {
  id: string;
  path: RegExp;
  pathSource: string;
  method: string | undefined;
  /** Only requests whose raw body matches (e.g. a test's unique clientUserId). */
  body: RegExp | undefined;
  /** Only requests of this tenant (the apiKey's clientId, or `/auth`'s), e.g. `client-id+<uuid>`. */
  clientId: string | undefined;
  /** A label to count by (`GET /__sim/faults?tag=`): what a test injected, as the simulator applied it. */
  tag: string | undefined;
  status: number | undefined;
  /** Requests this fault answered (or delayed) so far. */
  hits: number;
  remaining: number;
  delayMs: number;
  rateLimitReset: number | undefined;
  codeDescription: string | undefined;
  message: string | undefined;
}

export interface SimRequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  at: string;
  /** The client id of the apiKey (or of the `/auth` body), when there was one. */
  clientId: string | null;
  status: number | null;
  /** The id of the injected fault that answered or delayed this request, if one did. */
  fault?: string;
}

export interface SimWebhook {
  id: string;
  url: string;
  event: string;
  headers: Record<string, string> | null;
  createdAt: string;
  updatedAt: string;
  disabledAt: string | null;
}

interface ItemState {
  item: SimItem;
  accountIds: string[];
  lastRefreshAt: number | undefined;
  updateFinishesAt: number | undefined;
  /** When the last update finished and what it found (for the webhooks that follow it). */
  lastSettled?: { at: number; added: SimTransaction[] };
}

const MAX_REQUEST_LOG = 20_000;
/** Faults remembered (active and spent) for their hit counts. */
const MAX_FAULT_RECORDS = 20_000;
const DAY_MS = 86_400_000;

export const SANDBOX_USER = "sandbox-user";

export interface CreateItemInput {
  clientUserId: string;
  connectorId?: number;
  /** Default 2: checking + credit card. */
  accounts?: number;
  /** Default 20. */
  transactionsPerAccount?: number;
  status?: string;
  executionStatus?: string;
  /** Deterministic ids and data (the startup sandbox uses this). */
  seed?: string;
  /** Ties data dates to a fixed day (the startup sandbox). */
  nowMs?: number;
}

export class SimState {
  config: SimConfig = { ...DEFAULT_CONFIG };
  readonly items = new Map<string, ItemState>();
  readonly accounts = new Map<string, SimAccount>();
  /** accountId → transactions by id. */
  readonly transactionsByAccount = new Map<string, Map<string, SimTransaction>>();
  readonly transactionAccount = new Map<string, string>();
  /** clientId → webhooks of that client. */
  readonly webhooks = new Map<string, Map<string, SimWebhook>>();
  readonly faults: SimFault[] = [];
  /** Every fault injected (active and spent, the latest MAX_FAULT_RECORDS), for counting what was applied. */
  readonly faultRecords = new Map<string, SimFault>();
  readonly requests: SimRequestRecord[] = [];
  /** accountId → `createdAt` of the last batch added through the control API. */
  readonly lastAddedAt = new Map<string, string>();

  constructor(readonly now: () => number = Date.now) {}

  nowIso(): string {
    return new Date(this.now()).toISOString();
  }

  createItem(input: CreateItemInput): { item: SimItem; accounts: SimAccount[]; transactions: SimTransaction[] } {
    const random = seededRandom(input.seed ?? crypto.randomUUID());
    const nowMs = input.nowMs ?? this.now();
    const createdAt = new Date(nowMs).toISOString();
    const id = input.seed ? uuidFrom(random) : crypto.randomUUID();
    const item: SimItem = {
      id,
      connector: connectorFor(input.connectorId ?? 0),
      status: input.status ?? "UPDATED",
      statusDetail: null,
      error: null,
      executionStatus: input.executionStatus ?? "SUCCESS",
      createdAt,
      updatedAt: createdAt,
      lastUpdatedAt: createdAt,
      parameter: null,
      webhookUrl: null,
      clientUserId: input.clientUserId,
      userAction: null,
      consecutiveFailedLoginAttempts: 0,
      nextAutoSyncAt: new Date(nowMs + DAY_MS).toISOString(),
      consentExpiresAt: null,
      products: ["ACCOUNTS", "CREDIT_CARDS", "TRANSACTIONS"],
    };
    const accounts = makeAccounts(random, id, input.accounts ?? 2);
    const transactions: SimTransaction[] = [];
    for (const account of accounts) {
      this.accounts.set(account.id, account);
      this.transactionsByAccount.set(account.id, new Map());
      const made = makeTransactions(random, account, input.transactionsPerAccount ?? 20, { untilMs: nowMs, days: 180, createdAt });
      for (const transaction of made) this.putTransaction(transaction);
      transactions.push(...made);
    }
    this.items.set(id, { item, accountIds: accounts.map((account) => account.id), lastRefreshAt: undefined, updateFinishesAt: undefined });
    return { item, accounts, transactions };
  }

  putTransaction(transaction: SimTransaction): void {
    const previous = this.transactionAccount.get(transaction.id);
    if (previous && previous !== transaction.accountId) this.transactionsByAccount.get(previous)?.delete(transaction.id);
    this.transactionAccount.set(transaction.id, transaction.accountId);
    let byId = this.transactionsByAccount.get(transaction.accountId);
    if (!byId) {
      byId = new Map();
      this.transactionsByAccount.set(transaction.accountId, byId);
    }
    byId.set(transaction.id, transaction);
  }

  /** The item, after finishing an update whose time has come. */
  getItem(id: string): SimItem | undefined {
    const state = this.items.get(id);
    if (!state) return undefined;
    this.settle(state);
    return state.item;
  }

  itemState(id: string): ItemState | undefined {
    const state = this.items.get(id);
    if (state) this.settle(state);
    return state;
  }

  /** Finishes a due update: UPDATED/SUCCESS and the new transactions it found. Returns what it added. */
  settle(state: ItemState): { finished: boolean; added: SimTransaction[] } {
    if (state.updateFinishesAt === undefined || state.updateFinishesAt > this.now()) return { finished: false, added: [] };
    state.updateFinishesAt = undefined;
    const at = this.nowIso();
    state.item = { ...state.item, status: "UPDATED", executionStatus: "SUCCESS", error: null, lastUpdatedAt: at, updatedAt: at };
    const firstAccount = state.accountIds[0];
    const account = firstAccount ? this.accounts.get(firstAccount) : undefined;
    const added = account && this.config.transactionsPerUpdate > 0 ? this.addTransactions(state.item.id, account.id, this.config.transactionsPerUpdate, []) : [];
    state.lastSettled = { at: this.now(), added };
    return { finished: true, added };
  }

  accountsOf(itemId: string): SimAccount[] {
    const state = this.items.get(itemId);
    return (state?.accountIds ?? []).flatMap((id) => {
      const account = this.accounts.get(id);
      return account ? [account] : [];
    });
  }

  transactionsOf(accountId: string): SimTransaction[] {
    return [...(this.transactionsByAccount.get(accountId)?.values() ?? [])].sort(compareTransactions);
  }

  getTransaction(id: string): SimTransaction | undefined {
    const accountId = this.transactionAccount.get(id);
    return accountId ? this.transactionsByAccount.get(accountId)?.get(id) : undefined;
  }

  addTransactions(itemId: string, accountId: string, count: number, partials: Partial<SimTransaction>[]): SimTransaction[] {
    const account = this.accounts.get(accountId);
    if (!account || account.itemId !== itemId) return [];
    const at = this.nowIso();
    const random = seededRandom(crypto.randomUUID());
    const created = [
      ...partials.map((partial) => completeTransaction(random, account, partial, at)),
      ...makeTransactions(random, account, count, { untilMs: this.now(), days: 1, createdAt: at }),
    ];
    for (const transaction of created) this.putTransaction(transaction);
    this.lastAddedAt.set(accountId, at);
    return created;
  }

  updateTransaction(id: string, fields: Partial<SimTransaction>): SimTransaction | undefined {
    const current = this.getTransaction(id);
    if (!current) return undefined;
    const next: SimTransaction = { ...current, ...fields, id, accountId: current.accountId, updatedAt: fields.updatedAt ?? this.nowIso() };
    this.putTransaction(next);
    return next;
  }

  deleteTransaction(id: string): boolean {
    const accountId = this.transactionAccount.get(id);
    if (!accountId) return false;
    this.transactionAccount.delete(id);
    return this.transactionsByAccount.get(accountId)?.delete(id) ?? false;
  }

  patchItem(id: string, fields: { status?: string; executionStatus?: string; error?: SimItemError | null }): SimItem | undefined {
    const state = this.itemState(id);
    if (!state) return undefined;
    if (fields.status !== undefined && fields.status !== "UPDATING") state.updateFinishesAt = undefined;
    state.item = { ...state.item, ...fields, updatedAt: this.nowIso() };
    return state.item;
  }

  deleteItem(id: string): SimItem | undefined {
    const state = this.items.get(id);
    if (!state) return undefined;
    for (const accountId of state.accountIds) {
      for (const transactionId of this.transactionsByAccount.get(accountId)?.keys() ?? []) this.transactionAccount.delete(transactionId);
      this.transactionsByAccount.delete(accountId);
      this.accounts.delete(accountId);
      this.lastAddedAt.delete(accountId);
    }
    this.items.delete(id);
    return state.item;
  }

  logRequest(record: SimRequestRecord): SimRequestRecord {
    this.requests.push(record);
    if (this.requests.length > MAX_REQUEST_LOG) this.requests.splice(0, this.requests.length - MAX_REQUEST_LOG);
    return record;
  }

  /** Adds a fault (and remembers it for its hit count). */
  addFault(fault: SimFault): void {
    this.faults.push(fault);
    this.faultRecords.set(fault.id, fault);
    if (this.faultRecords.size > MAX_FAULT_RECORDS) {
      const oldest = this.faultRecords.keys().next();
      if (!oldest.done) this.faultRecords.delete(oldest.value);
    }
  }

  /** The first fault matching this request (its `times` decremented, removed at zero; its hits counted). */
  takeFault(method: string, pathname: string, pathWithQuery: string, body: string, clientId: string | null = null): SimFault | undefined {
    const index = this.faults.findIndex(
      (fault) =>
        (!fault.method || fault.method === method) &&
        (fault.path.test(pathname) || fault.path.test(pathWithQuery)) &&
        (!fault.body || fault.body.test(body)) &&
        (!fault.clientId || fault.clientId === clientId),
    );
    if (index < 0) return undefined;
    const fault = this.faults[index] as SimFault;
    fault.remaining -= 1;
    fault.hits += 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }

  webhooksOf(clientId: string): Map<string, SimWebhook> {
    let hooks = this.webhooks.get(clientId);
    if (!hooks) {
      hooks = new Map();
      this.webhooks.set(clientId, hooks);
    }
    return hooks;
  }

  /** The sandbox user's two items (checking + credit card each), the same on every start. */
  seedSandbox(): void {
    const day = Math.floor(this.now() / DAY_MS) * DAY_MS;
    this.createItem({ clientUserId: SANDBOX_USER, connectorId: 0, transactionsPerAccount: 90, seed: "sandbox-item-1", nowMs: day });
    this.createItem({ clientUserId: SANDBOX_USER, connectorId: 212, transactionsPerAccount: 70, seed: "sandbox-item-2", nowMs: day });
  }
}

/** v2 transactions order: date, then id (stable for keyset cursors). */
export function compareTransactions(a: SimTransaction, b: SimTransaction): number {
  if (a.date !== b.date) return a.date < b.date ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
