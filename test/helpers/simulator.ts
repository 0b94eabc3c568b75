import type { SimAccount, SimItem, SimItemError, SimTransaction } from "../../simulator/src/sim.data.ts";
import type { CreateItemInput as SimCreateItemInput, SimConfig, SimRequestRecord } from "../../simulator/src/sim.state.ts";

/*
 * The Pluggy simulator's control API, typed, for tests running inside workerd. Outbound requests to
 * http://pluggy.test reach the simulator (vitest.config.ts `outboundService`). Its state is shared by
 * every test file running in parallel, so always work with ids you created (uniqueUser(), createItem()).
 */

export const SIM_URL = "http://pluggy.test";

export type { SimAccount, SimItem, SimTransaction, SimRequestRecord, SimConfig };

async function control<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${SIM_URL}/__sim${path}`, {
    method,
    ...(body !== undefined ? { headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) } : {}),
  });
  if (!response.ok) throw new Error(`simulator ${method} ${path} → ${response.status}: ${await response.text()}`);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** What POST /__sim/items takes from a test (the simulator's own input, without its startup-only fields). */
export type CreateItemInput = Omit<SimCreateItemInput, "seed" | "nowMs"> & {
  /** Also deliver item/created to the app (needs SIM_APP_WEBHOOK_URL; dev only). */
  notify?: boolean;
};

export interface FaultInput {
  /** Regex tested against the request path, and against path + "?" + query. */
  path: string;
  method?: string;
  /** Regex on the raw request body: only matching requests fail (e.g. your unique clientUserId). */
  body?: string;
  /** Only requests of this tenant (`sim-client-id+<uuid>`: a Pluggy client or app env of your own). */
  clientId?: string;
  /** A label the simulator counts this fault's hits under (`sim.faults(tag)`). */
  tag?: string;
  /** Omit to only delay (a slow but correct answer). */
  status?: number;
  /** Default 1. */
  times?: number;
  delayMs?: number;
  /** 429 only: RateLimit-Reset seconds (default 60). */
  rateLimitReset?: number;
  codeDescription?: string;
  message?: string;
}

export interface SimFaultView {
  id: string;
  tag: string | null;
  path: string;
  method: string | null;
  clientId: string | null;
  status: number | null;
  hits: number;
  remaining: number;
  active: boolean;
}

export const sim = {
  createItem: (input: CreateItemInput) => control<{ item: SimItem; accounts: SimAccount[]; transactionIds: string[] }>("POST", "/items", input),

  addTransactions: async (itemId: string, input: { accountId?: string; count?: number; transactions?: Partial<SimTransaction>[] } = {}) =>
    (await control<{ transactions: SimTransaction[] }>("POST", `/items/${itemId}/transactions`, input)).transactions,

  updateTransaction: async (id: string, fields: Partial<SimTransaction>) =>
    (await control<{ transaction: SimTransaction }>("PATCH", `/transactions/${id}`, fields)).transaction,

  deleteTransaction: (id: string) => control<void>("DELETE", `/transactions/${id}`),

  updateItem: async (id: string, fields: { status?: string; executionStatus?: string; error?: SimItemError | null }) =>
    (await control<{ item: SimItem }>("PATCH", `/items/${id}`, fields)).item,

  /** Removes the item at the simulator silently (no webhook). */
  deleteItem: (id: string) => control<void>("DELETE", `/items/${id}`),

  /** A client user's items at the simulator (e.g. the seeded "sandbox-user"). */
  itemsOf: async (clientUserId: string) =>
    (await control<{ data: { item: SimItem; accounts: SimAccount[] }[] }>("GET", `/items?clientUserId=${encodeURIComponent(clientUserId)}`)).data,

  getItemState: (id: string) => control<{ item: SimItem; accounts: SimAccount[]; transactions: SimTransaction[] }>("GET", `/items/${id}`),

  /** Injects a fault; returns its id (for clearFault). */
  fault: async (input: FaultInput) => (await control<{ id: string }>("POST", "/faults", input)).id,

  clearFault: (id: string) => control<void>("DELETE", `/faults/${id}`),

  /** One injected fault as the simulator applied it: `hits` requests answered (or delayed) so far. */
  faultState: (id: string) => control<SimFaultView>("GET", `/faults/${id}`),

  /** Faults injected under `tag` (active and spent), and the requests they answered in total. */
  faults: (tag: string) => control<{ data: SimFaultView[]; hits: number }>("GET", `/faults?tag=${encodeURIComponent(tag)}`),

  /** Pluggy API requests the simulator received, oldest first. */
  requests: async (filter: { path?: string; method?: string; clientId?: string } = {}) => {
    const query = new URLSearchParams(Object.entries(filter).filter((entry): entry is [string, string] => entry[1] !== undefined));
    return (await control<{ data: SimRequestRecord[] }>("GET", `/requests?${query.toString()}`)).data;
  },

  /** The exact body and headers Pluggy would send for `payload` (signed with the test webhook secret unless `secret`). */
  signWebhook: (payload: Record<string, unknown>, secret?: string) =>
    control<{ body: string; headers: Record<string, string> }>("POST", "/webhooks/sign", { payload, ...(secret !== undefined ? { secret } : {}) }),

  /** Global: affects every test running now. Prefer per-item state; restore what you change. */
  setConfig: async (config: Partial<SimConfig>) => (await control<{ config: SimConfig }>("PUT", "/config", config)).config,
};

/** A request path regex that matches exactly this path (ids contain no regex metacharacters but `-`). */
export const exactPath = (path: string): string => `^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
