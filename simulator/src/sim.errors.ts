/** Pluggy's error body: `{code, codeDescription?, message}`. */
export function pluggyError(status: number, message: string, codeDescription?: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ code: status, ...(codeDescription ? { codeDescription } : {}), message }), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
  });
}

/**
 * Pluggy's 429: its documented body and exactly its three documented headers — `RateLimit-Limit`
 * (the endpoint's limit per minute), `RateLimit-Reset` (seconds until the window resets: what a client
 * should wait) and `Retry-After` (always 60).
 */
export function rateLimited(resetSeconds: number, limit: number, message?: string, codeDescription?: string): Response {
  return pluggyError(429, message ?? "Too many requests, please try again later. (see Retry-After header in seconds)", codeDescription, {
    "RateLimit-Limit": String(limit),
    "RateLimit-Reset": String(resetSeconds),
    "Retry-After": "60",
  });
}
