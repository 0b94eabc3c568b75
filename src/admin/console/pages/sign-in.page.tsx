import type { FC } from "hono/jsx";

export interface SignInPageProps {
  /** HMAC of the sign-in nonce cookie: the login form's CSRF token. */
  csrfToken: string;
  next: string;
  error?: string | undefined;
}

/** The sign-in form: paste an admin JWT. Says where to get one, locally and in production. */
export const SignInPage: FC<SignInPageProps> = ({ csrfToken, next, error }) => (
  <div class="sign-in stack">
    {error ? (
      <div class="flash flash--error" role="alert" id="sign-in-error">
        <p>{error}</p>
      </div>
    ) : null}
    <form method="post" action="/admin/sign-in" class="card stack" aria-describedby={error ? "sign-in-error" : undefined}>
      <input type="hidden" name="_csrf" value={csrfToken} />
      <input type="hidden" name="next" value={next} />
      <div class="field">
        <label for="token">Admin token (JWT)</label>
        <input
          type="password"
          id="token"
          name="token"
          required
          autocomplete="off"
          spellcheck={false}
          aria-describedby="token-hint"
          autofocus
        />
        <span class="hint" id="token-hint">
          A JWT signed for this deployment whose claims include <code>"role": "admin"</code>. It stays in an HttpOnly
          cookie for this console only, until it expires (at most 12 hours).
        </span>
      </div>
      <div class="actions">
        <button type="submit">Sign in</button>
      </div>
    </form>
    <section class="card" aria-labelledby="get-token-title">
      <h2 id="get-token-title">Getting a token</h2>
      <ol class="steps">
        <li>
          Locally (with <code>npm run dev</code>): run <code>npm run token -- --user you --admin</code> and paste what it
          prints.
        </li>
        <li>
          On a deployed instance: ask your identity provider for a token carrying the admin role, or mint one with{" "}
          <code>AUTH_JWT_SECRET=… npm run token -- --user you --admin --ttl 3600</code>.
        </li>
      </ol>
    </section>
  </div>
);
