import type { Context } from "hono";
import { html } from "hono/html";
import type { Child } from "hono/jsx";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { Layout, type NavKey } from "./components/layout.tsx";
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
    >
      {body}
    </Layout>
  );
  return c.html(html`<!DOCTYPE html>${page}`, options.status ?? 200);
}
