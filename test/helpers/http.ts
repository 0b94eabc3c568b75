import { exports } from "cloudflare:workers";

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

/** Parses a JSON response body with a loose type for assertions. */
export async function body<T = Record<string, any>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}
