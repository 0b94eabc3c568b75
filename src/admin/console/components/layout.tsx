import type { Child, FC } from "hono/jsx";
import { CONSOLE_CSS } from "../console.styles.ts";
import type { Flash } from "../console-session.ts";
import { CsrfField, FlashMessage } from "./ui.tsx";

export type NavKey = "overview" | "category-mappings" | "webhook-events" | "category-syncs";

const NAV: Array<{ key: NavKey; href: string; label: string }> = [
  { key: "overview", href: "/admin", label: "Overview" },
  { key: "category-mappings", href: "/admin/category-mappings", label: "Category mappings" },
  { key: "webhook-events", href: "/admin/webhook-events", label: "Webhook events" },
  { key: "category-syncs", href: "/admin/category-syncs", label: "Category syncs" },
];

export interface LayoutProps {
  title: string;
  /** CSP nonce for the inline stylesheet (the only style the policy allows). */
  nonce: string | undefined;
  /** Present once signed in: shows the navigation and the sign-out form. */
  session?: { userId: string; csrfToken: string } | undefined;
  active?: NavKey | undefined;
  flash?: Flash | null | undefined;
  requestId?: string | undefined;
  /** Shown above the heading (e.g. a link back to a list). */
  breadcrumb?: Child;
  /** Configuration warnings shown on every signed-in page (e.g. webhook signatures not checked). */
  warnings?: readonly string[] | undefined;
  children?: Child;
}

/** The page frame: landmarks, skip link, navigation with `aria-current`, flash message, footer with the request id. */
export const Layout: FC<LayoutProps> = ({ title, nonce, session, active, flash, requestId, breadcrumb, warnings, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="robots" content="noindex, nofollow" />
      <meta name="color-scheme" content="light dark" />
      {/* Forms then carry a real Origin header (the app-wide no-referrer policy would send "null") for the CSRF origin check. */}
      <meta name="referrer" content="same-origin" />
      <title>{`${title} · Finance Hub console`}</title>
      <style nonce={nonce} dangerouslySetInnerHTML={{ __html: CONSOLE_CSS }} />
    </head>
    <body>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="site-header">
        <div class="site-header__inner">
          <a class="brand" href="/admin">
            Finance Hub <span>operator console</span>
          </a>
          {session ? (
            <>
              <nav class="nav" aria-label="Console sections">
                <ul>
                  {NAV.map((item) => (
                    <li>
                      <a href={item.href} aria-current={item.key === active ? "page" : undefined}>
                        {item.label}
                      </a>
                    </li>
                  ))}
                </ul>
              </nav>
              <div class="who">
                <span>
                  <span class="visually-hidden">Signed in as </span>
                  <span class="mono user-id" title={session.userId}>
                    {session.userId}
                  </span>
                </span>
                <form method="post" action="/admin/sign-out">
                  <CsrfField token={session.csrfToken} />
                  <button type="submit" class="secondary small">
                    Sign out
                  </button>
                </form>
              </div>
            </>
          ) : null}
        </div>
      </header>
      <main id="main" tabindex={-1}>
        {breadcrumb ? <p class="breadcrumb">{breadcrumb}</p> : null}
        <h1>{title}</h1>
        {session && warnings && warnings.length > 0 ? (
          <aside class="flash flash--warn" aria-label="Configuration warnings">
            {warnings.map((warning) => (
              <p>{warning}</p>
            ))}
          </aside>
        ) : null}
        {flash ? <FlashMessage flash={flash} /> : null}
        {children}
      </main>
      <footer class="site-footer">
        {requestId ? (
          <p>
            Request id <span class="mono">{requestId}</span>
          </p>
        ) : null}
      </footer>
    </body>
  </html>
);
