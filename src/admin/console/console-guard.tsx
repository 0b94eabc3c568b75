import type { Context, ExecutionContext } from "hono";
import { bodyLimit } from "hono/body-limit";
import { csrf } from "hono/csrf";
import { createMiddleware } from "hono/factory";
import { HTTPException } from "hono/http-exception";
import { NONCE, secureHeaders } from "hono/secure-headers";
import { authenticate } from "../../platform/auth.ts";
import { AppError } from "../../platform/errors.ts";
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

/** The largest form the console reads: its biggest form (a pasted token, a bulk replay filter) is a few KiB. */
export const CONSOLE_BODY_LIMIT = 16 * 1024;

/**
 * Console bodies are capped before anything reads them: a declared `Content-Length` over the limit is
 * refused at once, and a body without one is cut off as soon as it passes the limit (413 page).
 */
export const consoleBodyLimit = createMiddleware<ConsoleEnv>((c, next) =>
  bodyLimit({
    maxSize: CONSOLE_BODY_LIMIT,
    onError: (limited) =>
      renderPage(
        limited as Context<ConsoleEnv>,
        { title: "Form too large", status: 413, flash: null },
        <div class="card card--narrow">
          <p>
            This form sent more than {CONSOLE_BODY_LIMIT / 1024} KiB, more than any console form needs, so it was refused unread. Nothing
            was changed. <a href="/admin">Back to the overview</a>
          </p>
        </div>,
      ),
  })(c, next),
);

/** The shortest CONSOLE_SESSION_SECRET accepted (an HMAC-SHA256 key as long as its output). */
export const MIN_CONSOLE_SECRET_BYTES = 32;

/** Why the console's own secret cannot be used, or undefined when it can. */
function consoleSecretProblem(env: ConsoleEnv["Bindings"]): string | undefined {
  const secret = env.CONSOLE_SESSION_SECRET;
  if (typeof secret !== "string" || secret.trim().length === 0) return "is not configured on this deployment";
  if (new TextEncoder().encode(secret).byteLength < MIN_CONSOLE_SECRET_BYTES) return `is shorter than ${MIN_CONSOLE_SECRET_BYTES} bytes`;
  if (secret === env.AUTH_JWT_SECRET) return "is the same as AUTH_JWT_SECRET (each secret has one use)";
  return undefined;
}

/**
 * The console's own key (CONSOLE_SESSION_SECRET), from which its CSRF tokens and flash signatures are
 * derived. Never AUTH_JWT_SECRET: the token issuer's key is not the console's, and with a JWKS there
 * may be none.
 */
export function consoleSecret(c: Context<ConsoleEnv>): string | undefined {
  return consoleSecretProblem(c.env) === undefined ? c.env.CONSOLE_SESSION_SECRET : undefined;
}

/** Without its own secret the console has no CSRF key: say so instead of serving forms that cannot be protected. */
export const requireConsoleSecret = createMiddleware<ConsoleEnv>(async (c, next) => {
  const problem = consoleSecretProblem(c.env);
  if (problem === undefined) return next();
  c.get("logger")?.warn("operator console unavailable: CONSOLE_SESSION_SECRET " + problem);
  return renderPage(
    c,
    { title: "Console unavailable", status: 503, flash: null },
    <div class="card card--narrow">
      <p>
        The operator console signs its CSRF tokens with its own secret, <code>CONSOLE_SESSION_SECRET</code>, which {problem}. Set
        it to a random value of at least {MIN_CONSOLE_SECRET_BYTES} bytes (<code>openssl rand -base64 48 | npx wrangler secret put CONSOLE_SESSION_SECRET</code>) or
        use the admin API directly.
      </p>
    </div>,
  );
});

/** A token the console cannot accept (the API would answer 401) → null; anything else (configuration, outage) is thrown. */
export function unlessUnauthorized(error: unknown): null {
  if (error instanceof AppError && error.code === "unauthorized") return null;
  throw error;
}

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
    const user = await authenticate(token, c.env).catch(unlessUnauthorized);
    if (!user) {
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
