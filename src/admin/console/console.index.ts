import { Hono } from "hono";
import { createLogger } from "../../platform/logger.ts";
import type { CallApi, ConsoleEnv } from "./console.env.ts";
import { consoleBodyLimit, consoleHeaders, requireConsoleSecret, requireConsoleSession, requireSameOrigin } from "./console-guard.tsx";
import { categoryMappingRoutes } from "./pages/category-mappings.routes.tsx";
import { categorySyncRoutes } from "./pages/category-syncs.routes.tsx";
import { overviewRoutes } from "./pages/overview.routes.tsx";
import { signInRoutes, signOutRoutes } from "./pages/sign-in.routes.tsx";
import { renderNotFound, renderServerError } from "./pages/status.page.tsx";
import { webhookEventRoutes } from "./pages/webhook-events.routes.tsx";

export type { CallApi } from "./console.env.ts";

/**
 * The operator console at /admin: server-rendered pages (hono/jsx, no scripts) that are a client of
 * the admin API. Every page and action calls the app's own `/api/admin` routes in-process through
 * `callApi`, with the signed-in operator's token, so authorization, validation and behaviour live in
 * one place. Mounted alone at /admin, so its `use("*")` middleware touches only console pages.
 */
export function createConsoleRoutes(callApi: CallApi): Hono<ConsoleEnv> {
  const routes = new Hono<ConsoleEnv>({ strict: false });

  // The body limit comes before anything that could read a body (the CSRF checks parse the form).
  routes.use("*", consoleHeaders, consoleBodyLimit, requireConsoleSecret, requireSameOrigin);
  // Public: the sign-in form. Everything registered after the session check needs an admin session.
  routes.route("/", signInRoutes);
  routes.use("*", requireConsoleSession(callApi));
  routes.route("/", signOutRoutes);
  routes.route("/", overviewRoutes);
  routes.route("/", categoryMappingRoutes);
  routes.route("/", webhookEventRoutes);
  routes.route("/", categorySyncRoutes);
  routes.all("*", renderNotFound);

  routes.onError((error, c) => {
    (c.get("logger") ?? createLogger({ request_id: c.get("requestId") })).error("console page failed", {
      error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error),
    });
    return renderServerError(c);
  });

  return routes;
}
