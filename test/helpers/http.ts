import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import worker from "../../src/index.ts";
import type { AppBindings } from "../../src/platform/env.ts";

/** Sends a request to the Worker under test ("request in, response out"). */
export function call(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const { json, headers, ...rest } = init;
  const request = new Request(`https://api.test${path}`, {
    ...rest,
    headers: { ...(json !== undefined ? { "Content-Type": "application/json" } : {}), ...(headers as Record<string, string> | undefined) },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
  return exports.default.fetch(request);
}

/**
 * Sends a request to the Worker's own fetch handler with some bindings or vars replaced — a tenant of
 * the simulator of the test's own (`PLUGGY_CLIENT_ID: "sim-client-id+<uuid>"`), or a binding wrapped to
 * observe how the app uses it. Everything else is the real environment.
 */
export async function callWithEnv(path: string, init: RequestInit & { json?: unknown }, overrides: Partial<AppBindings>): Promise<Response> {
  const { json, headers, ...rest } = init;
  const request = new Request(`https://api.test${path}`, {
    ...rest,
    headers: { ...(json !== undefined ? { "Content-Type": "application/json" } : {}), ...(headers as Record<string, string> | undefined) },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, { ...(env as AppBindings), ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** Parses a JSON response body with a loose type for assertions. */
export async function body<T = Record<string, any>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}
