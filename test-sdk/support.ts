import { PluggyClient, type Item } from "pluggy-sdk";
import { inject } from "vitest";

/** The simulator global-setup.ts started. */
export interface SdkSimulator {
  url: string;
  clientId: string;
  clientSecret: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    pluggySimulator: SdkSimulator;
  }
}

export const simulator = (): SdkSimulator => inject("pluggySimulator");

/** The official client, configured as Pluggy's docs tell a new user: keys, and PLUGGY_API_URL for the base URL. */
export function sdkClient(): PluggyClient {
  const { url, clientId, clientSecret } = simulator();
  // The SDK ignores a base URL passed to its constructor and reads only this variable.
  process.env.PLUGGY_API_URL = url;
  return new PluggyClient({ clientId, clientSecret });
}

/** The simulator's control API (test data only; everything under test goes through the SDK). */
export async function control<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${simulator().url}/__sim${path}`, {
    method,
    ...(body !== undefined ? { headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) } : {}),
  });
  if (!response.ok) throw new Error(`simulator ${method} ${path} → ${response.status}: ${await response.text()}`);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

export interface CreatedItem {
  item: { id: string };
  accounts: Array<{ id: string; type: "BANK" | "CREDIT" }>;
  transactionIds: string[];
}

export const createItem = (input: { clientUserId: string; accounts?: number; transactionsPerAccount?: number }): Promise<CreatedItem> =>
  control<CreatedItem>("POST", "/items", input);

/** What a rejected SDK call rejects with: Pluggy's error body, as the SDK hands it over. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the SDK call to fail, and it succeeded");
}

/**
 * Awaits an SDK call that must succeed. pluggy-sdk rejects a POST/PATCH/DELETE answered with anything but
 * 200 with its own request body, which says nothing; this names the call and the simulator's answer.
 */
export async function succeeds<T>(what: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (rejection) {
    const { data } = await control<{ data: Array<{ method: string; path: string; status: number | null }> }>("GET", "/requests");
    const last = data[data.length - 1];
    const answer = last ? `the simulator answered ${last.method} ${last.path} with ${last.status}` : "no request reached the simulator";
    throw new Error(`${what} failed in pluggy-sdk: ${answer} (the SDK fails any POST/PATCH/DELETE not answered 200); it rejected with ${JSON.stringify(rejection)}`, { cause: rejection });
  }
}

/**
 * Reads an item with fetchItem until its login settles (status no longer UPDATING), as an integration
 * polls after createItem or updateItemMFA: at most `attempts` reads, `intervalMs` apart.
 */
export async function settled(client: PluggyClient, itemId: string, attempts = 200, intervalMs = 50): Promise<Item> {
  for (let read = 1; ; read++) {
    const item = await client.fetchItem(itemId);
    if (item.status !== "UPDATING") return item;
    if (read >= attempts) throw new Error(`item ${itemId} still UPDATING (${item.executionStatus}) after ${attempts} reads`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
