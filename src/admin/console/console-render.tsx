import type { Context } from "hono";
import { html } from "hono/html";
import type { Child } from "hono/jsx";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { Layout, type NavKey } from "./components/layout.tsx";
import { webhookAuthConfig, type AppBindings } from "../../platform/env.ts";
import type { ConsoleEnv } from "./console.env.ts";
import type { Flash } from "./console-session.ts";

export interface PageOptions {
  title: string;
  active?: NavKey;
  breadcrumb?: Child;
  status?: ContentfulStatusCode;
  /** Overrides the flash taken from the cookie (e.g. an error shown without a redirect). */
  flash?: Flash | null;
}

/** What an operator must know about this deployment's configuration, on every page. */
export function configurationWarnings(env: AppBindings): string[] {
  const warnings: string[] = [];
  if (webhookAuthConfig(env).signatures === "not_checked") {
    warnings.push(
      "Webhook signatures are not checked: PLUGGY_WEBHOOK_SECRET is not configured, so Pluggy's webhooks are accepted without verifying X-Pluggy-Signature. Set it (wrangler secret put PLUGGY_WEBHOOK_SECRET).",
    );
  }
  return warnings;
}

/**
 * Renders a console page in the layout, with the doctype (standards mode), the CSP nonce for the
 * stylesheet, and — when signed in — the navigation and sign-out form.
 */
export function renderPage(c: Context<ConsoleEnv>, options: PageOptions, body: Child): Response | Promise<Response> {
  const session = c.get("session");
  const flash = options.flash !== undefined ? options.flash : c.get("flash");
  const page = (
    <Layout
      title={options.title}
      nonce={c.get("secureHeadersNonce")}
      session={session ? { userId: session.userId, csrfToken: session.csrfToken } : undefined}
      active={options.active}
      flash={flash}
      requestId={c.get("requestId")}
      breadcrumb={options.breadcrumb}
      warnings={session ? configurationWarnings(c.env) : undefined}
    >
      {body}
    </Layout>
  );
  return c.html(html`<!DOCTYPE html>${page}`, options.status ?? 200);
}
