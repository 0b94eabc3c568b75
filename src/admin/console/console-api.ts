import type { ExecutionContext } from "hono";
import type { AppBindings } from "../../platform/env.ts";
import type { CallApi } from "./console.env.ts";

/** A failed admin API call, as an operator should read it: the envelope's message and request id. */
export interface ApiError {
  status: number;
  code: string;
  message: string;
  requestId: string | null;
  details: Array<{ field: string; message: string }>;
}

export type ApiResult<T> =
  | { ok: true; status: number; data: T; nextCursor: string | null }
  | { ok: false; error: ApiError };

type Query = Record<string, string | number | boolean | undefined | null>;

/** The admin API seen from the console: JSON in, `{data}` or the error envelope out. */
export interface AdminApiClient {
  get<T>(path: string, query?: Query): Promise<ApiResult<T>>;
  send<T>(method: "POST" | "PUT" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<ApiResult<T>>;
  /** The untouched response, for byte-exact downloads. */
  raw(path: string): Promise<Response>;
}

export interface AdminApiClientOptions {
  callApi: CallApi;
  env: AppBindings;
  ctx: ExecutionContext | undefined;
  /** Origin of the console request; the in-process call needs an absolute URL. */
  origin: string;
  token: string;
  /** The page's request id, passed on so API log lines and the page share it. */
  requestId: string | undefined;
}

/** Builds `/api/admin/<path>?<query>`, leaving out empty values (the API refuses unknown or empty parameters). */
export function apiPath(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    params.set(key, String(value));
  }
  const search = params.toString();
  return `/api/admin${path}${search ? `?${search}` : ""}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads an admin API response: `{data, next_cursor?}` on success, the error envelope otherwise. */
export async function readResult<T>(response: Response): Promise<ApiResult<T>> {
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  const headerRequestId = response.headers.get("X-Request-Id");
  if (response.ok) {
    const body = isRecord(json) ? json : {};
    const nextCursor = typeof body["next_cursor"] === "string" ? body["next_cursor"] : null;
    return { ok: true, status: response.status, data: (body["data"] ?? null) as T, nextCursor };
  }
  const envelope = isRecord(json) && isRecord(json["error"]) ? json["error"] : {};
  const details = Array.isArray(envelope["details"])
    ? envelope["details"].filter(isRecord).map((d) => ({ field: String(d["field"] ?? ""), message: String(d["message"] ?? "") }))
    : [];
  return {
    ok: false,
    error: {
      status: response.status,
      code: typeof envelope["code"] === "string" ? envelope["code"] : "http_error",
      message: typeof envelope["message"] === "string" ? envelope["message"] : `the admin API answered HTTP ${response.status}`,
      requestId: typeof envelope["request_id"] === "string" ? envelope["request_id"] : headerRequestId,
      details,
    },
  };
}

/**
 * A client for the app's own `/api/admin` routes, called in-process with the operator's token. The
 * console holds no business logic of its own: whatever the API allows, refuses or validates is what
 * the console shows.
 */
export function createAdminApiClient(options: AdminApiClientOptions): AdminApiClient {
  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const headers = new Headers({ Authorization: `Bearer ${options.token}`, Accept: "application/json" });
    if (options.requestId) headers.set("X-Request-Id", options.requestId);
    if (body !== undefined) headers.set("Content-Type", "application/json");
    const request = new Request(new URL(path, options.origin), {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return await options.callApi(request, options.env, options.ctx);
  };
  return {
    async get<T>(path: string, query?: Query) {
      return readResult<T>(await call("GET", apiPath(path, query)));
    },
    async send<T>(method: "POST" | "PUT" | "PATCH" | "DELETE", path: string, body?: unknown) {
      return readResult<T>(await call(method, apiPath(path), body));
    },
    raw(path: string) {
      return call("GET", apiPath(path));
    },
  };
}
