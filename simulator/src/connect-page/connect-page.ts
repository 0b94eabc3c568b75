import type { Hono } from "hono";
import type { SimHonoEnv } from "../sim.app.ts";
import { CONNECT_PAGE_SCRIPT } from "./connect-page.script.ts";
import { CONNECT_PAGE_STYLES } from "./connect-page.styles.ts";

/*
 * A local stand-in for Pluggy Connect (https://connect.pluggy.ai), served by the simulator at /connect.
 * It reads the query our `connect_url` carries (connect_token, countries, connector_types,
 * connector_ids, products, with_sandbox, update_item) and talks to the simulator's Pluggy API with the
 * connect token as X-API-KEY, the way the real widget talks to Pluggy: list connectors, create the
 * item, send the MFA token, update an item. It finishes like Pluggy Connect: a `postMessage` of
 * `{type: "pluggy-connect", event: "onSuccess", item}` to the window that opened it, or, with no
 * opener, a redirect to the token's oauthRedirectUri with `?item_id=`.
 */

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pluggy Connect (simulator)</title>
<link rel="icon" href="data:,">
<style>${CONNECT_PAGE_STYLES}</style>
</head>
<body>
<div class="card">
  <header>
    <span class="brand">Pluggy Connect</span>
    <span class="badge" title="A local simulator: no bank and no Pluggy account is contacted">simulator</span>
    <button type="button" class="close" id="close" aria-label="Close">&times;</button>
  </header>
  <main id="main" aria-live="polite"><p class="muted">Loading…</p></main>
  <footer>Sandbox logins: <code>user-ok</code> / <code>password-ok</code>, MFA token <code>123456</code></footer>
</div>
<script>${CONNECT_PAGE_SCRIPT}</script>
</body>
</html>
`;

const HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  "Cache-Control": "no-store",
  "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'",
  "Referrer-Policy": "no-referrer",
};

/** GET /connect (and /connect/): the page. Everything it shows comes from the Pluggy API calls it makes. */
export function registerConnectPage(app: Hono<SimHonoEnv>): void {
  app.get("/connect", () => new Response(PAGE, { headers: HEADERS }));
  app.get("/connect/", () => new Response(PAGE, { headers: HEADERS }));
}
