import { Hono, type Context } from "hono";
import { decode } from "hono/jwt";
import { authenticate } from "../../../platform/auth.ts";
import type { ConsoleEnv } from "../console.env.ts";
import { consoleSecret, forbiddenPage, signedIn, unlessUnauthorized } from "../console-guard.tsx";
import { renderPage } from "../console-render.tsx";
import {
  CONSOLE_PATH,
  CSRF_FIELD,
  deriveToken,
  endSession,
  issueSignInNonce,
  readSessionToken,
  readSignInNonce,
  safeNextPath,
  sessionMaxAge,
  setFlash,
  startSession,
  takeFlash,
  verifyDerivedToken,
} from "../console-session.ts";
import { SignInPage } from "./sign-in.page.tsx";

/** Renders the form with a fresh nonce (and its CSRF token), optionally with an error. */
async function showSignIn(c: Context<ConsoleEnv>, next: string, error?: string, status: 200 | 400 | 401 = 200) {
  const secret = consoleSecret(c) ?? "";
  const nonce = issueSignInNonce(c);
  const csrfToken = await deriveToken(secret, "sign-in", nonce);
  const flash = error ? null : await takeFlash(c, secret);
  return renderPage(c, { title: "Sign in", status, flash }, <SignInPage csrfToken={csrfToken} next={next} error={error} />);
}

/** Public: the sign-in form and its post. Login CSRF is stopped by a nonce cookie + its HMAC in the form. */
export const signInRoutes = new Hono<ConsoleEnv>({ strict: false })
  .get("/sign-in", async (c) => {
    const next = safeNextPath(c.req.query("next"));
    const existing = readSessionToken(c);
    if (existing) {
      const user = await authenticate(existing, c.env).catch(unlessUnauthorized);
      if (user?.isAdmin) return c.redirect(next, 303);
    }
    return showSignIn(c, next);
  })
  .post("/sign-in", async (c) => {
    const secret = consoleSecret(c) ?? "";
    const form = await c.req.parseBody();
    const next = safeNextPath(typeof form["next"] === "string" ? form["next"] : undefined);
    const nonce = readSignInNonce(c);
    const candidate = form[CSRF_FIELD];
    if (!nonce || typeof candidate !== "string" || !(await verifyDerivedToken(secret, "sign-in", nonce, candidate))) {
      return showSignIn(c, next, "The sign-in form expired or was not sent from this page. Paste your token again.", 400);
    }
    const raw = typeof form["token"] === "string" ? form["token"].trim().replace(/^Bearer\s+/i, "") : "";
    if (!raw) return showSignIn(c, next, "Paste an admin token to sign in.", 400);
    const user = await authenticate(raw, c.env).catch(unlessUnauthorized);
    if (!user) {
      return showSignIn(c, next, "That token is not valid here: it is malformed, expired, or signed with another key.", 401);
    }
    if (!user.isAdmin) return forbiddenPage(c, user.id);
    const maxAge = sessionMaxAge(raw);
    if (maxAge < 60) return showSignIn(c, next, "That token expires within a minute. Mint a longer-lived one.", 400);
    startSession(c, raw, maxAge);
    const hours = Math.round((maxAge / 3600) * 10) / 10;
    const exp = decode(raw).payload.exp;
    const until = typeof exp === "number" ? new Date(Math.min(exp * 1000, Date.now() + maxAge * 1000)).toISOString() : "";
    await setFlash(c, secret, {
      kind: "success",
      message: `Signed in as ${user.id}. The session lasts ${hours} h${until ? ` (until ${until.slice(0, 16).replace("T", " ")} UTC)` : ""}.`,
    });
    return c.redirect(next, 303);
  });

/** Sign-out is a CSRF-checked post like every other action; it clears the session cookie. */
export const signOutRoutes = new Hono<ConsoleEnv>({ strict: false }).post("/sign-out", async (c) => {
  const { secret } = signedIn(c);
  endSession(c);
  await setFlash(c, secret, { kind: "success", message: "Signed out." });
  return c.redirect(`${CONSOLE_PATH}/sign-in`, 303);
});
