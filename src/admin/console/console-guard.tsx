import type { Context, ExecutionContext } from "hono";
import { csrf } from "hono/csrf";
import { createMiddleware } from "hono/factory";
import { HTTPException } from "hono/http-exception";
import { NONCE, secureHeaders } from "hono/secure-headers";
import { authenticate } from "../../platform/auth.ts";
import { createAdminApiClient, type AdminApiClient } from "./console-api.ts";
import type { CallApi, ConsoleEnv, ConsoleSession } from "./console.env.ts";
import { renderPage } from "./console-render.tsx";
import { CSRF_FIELD, deriveToken, endSession, readSessionToken, setFlash, takeFlash, verifyDerivedToken } from "./console-session.ts";

const strictHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    styleSrc: [NONCE],
    imgSrc: ["'self'", "data:"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  xFrameOptions: "DENY",
});

/**
 * Security headers for console pages: a strict CSP (no scripts at all, only the nonce'd inline
 * stylesheet, forms may post only to this origin, no framing) and no caching of operator data.
 */
export const consoleHeaders = createMiddleware<ConsoleEnv>(async (c, next) => {
  await strictHeaders(c, next);
  c.header("Cache-Control", "no-store");
});

/** The secret the CSRF tokens and flash signatures are derived from; without it the console cannot run. */
export function consoleSecret(c: Context<ConsoleEnv>): string | undefined {
  const secret = c.env.AUTH_JWT_SECRET;
  return typeof secret === "string" && secret.length > 0 ? secret : undefined;
}

/** Without AUTH_JWT_SECRET there is no CSRF key: say so instead of serving forms that cannot be protected. */
export const requireConsoleSecret = createMiddleware<ConsoleEnv>(async (c, next) => {
  if (consoleSecret(c)) return next();
  return renderPage(
    c,
    { title: "Console unavailable", status: 503, flash: null },
    <div class="card card--narrow">
      <p>
        The operator console derives its CSRF tokens from <code>AUTH_JWT_SECRET</code>, which is not configured on
        this deployment. Set it (<code>wrangler secret put AUTH_JWT_SECRET</code>) or use the admin API directly.
      </p>
    </div>,
  );
});

const originCheck = csrf();

/** Plain-language page for a refused form post; says how to recover. */
function csrfRefused(c: Context<ConsoleEnv>, why: string): Response | Promise<Response> {
  return renderPage(
    c,
    { title: "Form refused", status: 403, flash: null },
    <div class="card card--narrow">
      <p>{why}</p>
      <p>
        Nothing was changed. Go back, reload the page and submit the form again. <a href="/admin">Back to the overview</a>
      </p>
    </div>,
  );
}

/**
 * First half of CSRF protection, for every form post (sign-in included): hono/csrf's check that the
 * request comes from this origin (`Origin`, or `Sec-Fetch-Site: same-origin`).
 */
export const requireSameOrigin = createMiddleware<ConsoleEnv>(async (c, next) => {
  if (c.req.method === "GET" || c.req.method === "HEAD") return next();
  try {
    await originCheck(c, async () => undefined);
  } catch (error) {
    if (error instanceof HTTPException && error.status === 403) {
      return csrfRefused(c, "This form was submitted from another site, so it was refused (cross-site request forgery protection).");
    }
    throw error;
  }
  return next();
});

function signInRedirect(c: Context<ConsoleEnv>): Response {
  const url = new URL(c.req.url);
  const next = c.req.method === "GET" ? `${url.pathname}${url.search}` : "/admin";
  return c.redirect(`/admin/sign-in?next=${encodeURIComponent(next)}`, 303);
}

/**
 * Everything but the sign-in page is behind this: a valid admin JWT in the HttpOnly session cookie
 * (none or expired → the sign-in page; valid but not admin → 403), and for form posts the second
 * half of CSRF protection, the session's HMAC-derived token in a hidden field. Sets the admin API
 * client that calls the app in-process with the operator's token.
 */
export function requireConsoleSession(callApi: CallApi) {
  return createMiddleware<ConsoleEnv>(async (c, next) => {
    const secret = consoleSecret(c) ?? "";
    const token = readSessionToken(c);
    if (!token) return signInRedirect(c);
    let user;
    try {
      user = await authenticate(token, c.env);
    } catch {
      endSession(c);
      await setFlash(c, secret, { kind: "error", message: "Your session has expired or its token is no longer valid. Sign in again." });
      return signInRedirect(c);
    }
    if (!user.isAdmin) {
      endSession(c);
      return forbiddenPage(c, user.id);
    }
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      const form = await c.req.parseBody();
      const candidate = form[CSRF_FIELD];
      if (typeof candidate !== "string" || !(await verifyDerivedToken(secret, "csrf", token, candidate))) {
        return csrfRefused(c, "This form did not carry a valid security token for your session (it may be from an older session).");
      }
    }
    let ctx: ExecutionContext | undefined;
    try {
      ctx = c.executionCtx;
    } catch {
      ctx = undefined;
    }
    c.set("user", user);
    c.set("session", { token, userId: user.id, csrfToken: await deriveToken(secret, "csrf", token) });
    c.set(
      "api",
      createAdminApiClient({ callApi, env: c.env, ctx, origin: new URL(c.req.url).origin, token, requestId: c.get("requestId") }),
    );
    c.set("flash", c.req.method === "GET" ? await takeFlash(c, secret) : null);
    await next();
  });
}

/** 403 for a valid token without the admin role. */
export function forbiddenPage(c: Context<ConsoleEnv>, userId: string): Response | Promise<Response> {
  return renderPage(
    c,
    { title: "Admin role required", status: 403, flash: null },
    <div class="card card--narrow">
      <p>
        The token for <code>{userId}</code> is valid, but it does not carry the admin role (<code>"role": "admin"</code> or{" "}
        <code>"roles": ["admin"]</code>), so the console is not available to it.
      </p>
      <p>
        <a href="/admin/sign-in">Sign in with an admin token</a>
      </p>
    </div>,
  );
}

/** The signed-in operator and their API client; only valid behind `requireConsoleSession`. */
export function signedIn(c: Context<ConsoleEnv>): { session: ConsoleSession; api: AdminApiClient; secret: string } {
  const session = c.get("session");
  const api = c.get("api");
  if (!session || !api) throw new Error("console route reached without a session");
  return { session, api, secret: consoleSecret(c) ?? "" };
}
