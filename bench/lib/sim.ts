/**
 * The Pluggy simulator's control API (/__sim), as the bench and the reliability suite use it.
 */
import { api, expectStatus, NotMeasurable, type JsonAnswer } from "./context.ts";

export interface SimItemCreated {
  item: { id: string; clientUserId: string | null };
  accounts: Array<{ id: string }>;
  transactionIds: string[];
  notification?: { eventId: string; status: number } | { error: string };
}

export interface SimItemState {
  item: { id: string; createdAt: string; clientUserId: string | null };
  accounts: Array<{ id: string }>;
  transactions: Array<{ id: string; categoryId: string | null; accountId: string }>;
}

export interface SimFaultView {
  id: string;
  tag: string | null;
  path: string;
  status: number | null;
  hits: number;
  remaining: number;
  active: boolean;
}

export interface SimRequestRecord {
  method: string;
  path: string;
  query?: Record<string, string>;
  status?: number;
  at?: string;
  /** The injected fault that answered this request, if one did. */
  fault?: string;
  [key: string]: unknown;
}

export class SimClient {
  readonly url: string;
  constructor(url: string | undefined) {
    if (!url) throw new NotMeasurable("no simulator in this tree");
    this.url = url;
  }

  private async call<T>(method: string, path: string, json?: unknown, expected = [200, 201, 204]): Promise<JsonAnswer<T>> {
    const answer = await api<T>(this.url, `/__sim${path}`, { method, ...(json !== undefined ? { json } : {}), timeoutMs: 120_000 });
    expectStatus(answer, expected, `simulator ${method} ${path}`);
    return answer;
  }

  async createItem(input: { clientUserId: string; accounts?: number; transactionsPerAccount?: number; notify?: boolean }): Promise<SimItemCreated> {
    return (await this.call<SimItemCreated>("POST", "/items", input)).body;
  }

  async config(patch: Record<string, number | boolean>): Promise<void> {
    await this.call("PUT", "/config", patch);
  }

  async fault(input: { path: string; method?: string; status?: number; times?: number; delayMs?: number; rateLimitReset?: number; body?: string; clientId?: string; tag?: string }): Promise<string> {
    return (await this.call<{ id: string }>("POST", "/faults", input)).body.id;
  }

  async clearFault(id: string): Promise<void> {
    await this.call("DELETE", `/faults/${id}`);
  }

  /** One injected fault as the simulator applied it (`hits`: requests it answered or delayed). */
  async faultState(id: string): Promise<SimFaultView> {
    return (await this.call<SimFaultView>("GET", `/faults/${id}`)).body;
  }

  /** Faults injected under `tag` (active and spent) with the requests each answered, counted by the simulator. */
  async faults(tag: string): Promise<{ data: SimFaultView[]; hits: number }> {
    return (await this.call<{ data: SimFaultView[]; hits: number }>("GET", `/faults?tag=${encodeURIComponent(tag)}`)).body;
  }

  async requests(filter: { path?: string; method?: string } = {}): Promise<SimRequestRecord[]> {
    const query = new URLSearchParams();
    if (filter.path) query.set("path", filter.path);
    if (filter.method) query.set("method", filter.method);
    return (await this.call<{ data: SimRequestRecord[] }>("GET", `/requests?${query.toString()}`)).body.data;
  }

  async itemState(itemId: string): Promise<SimItemState> {
    return (await this.call<SimItemState>("GET", `/items/${itemId}`)).body;
  }
}
