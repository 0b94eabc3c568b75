import type { ExecutionContext } from "hono";
import type { AppBindings, AppVariables } from "../../platform/env.ts";
import type { AdminApiClient } from "./console-api.ts";
import type { Flash } from "./console-session.ts";

/**
 * How the console reaches the admin API: the app's own fetch, called in-process (no HTTP hop), so the
 * API stays the one source of truth for behaviour and authorization.
 */
export type CallApi = (request: Request, env: AppBindings, ctx: ExecutionContext | undefined) => Response | Promise<Response>;

/** The signed-in operator, resolved from the session cookie on every request. */
export interface ConsoleSession {
  /** The admin JWT itself; forwarded to the admin API as `Authorization: Bearer`. */
  token: string;
  userId: string;
  /** Per-session CSRF token (HMAC of the session token) every form must echo back. */
  csrfToken: string;
}

/** `session` and `api` are set only behind the sign-in check; `signedIn()` reads them. */
export interface ConsoleVariables extends AppVariables {
  session?: ConsoleSession;
  api?: AdminApiClient;
  flash?: Flash | null;
}

/** The Hono environment of the console's routers. */
export interface ConsoleEnv {
  Bindings: AppBindings;
  Variables: ConsoleVariables;
}
