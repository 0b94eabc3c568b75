import type { Context } from "hono";
import { html, raw } from "hono/html";

/*
 * /docs/swagger: Swagger UI for trying requests, loaded from jsDelivr at one pinned version with
 * Subresource Integrity, under a CSP that lets this page run exactly those two files plus its own
 * nonce'd initializer. This page shares its origin with the operator console, so a script that
 * changed at the CDN must not run here: the browser refuses any byte that does not match the hash.
 *
 * Updating: pick the version, then for swagger-ui-bundle.js and swagger-ui.css of that exact npm
 * package (`npm pack swagger-ui-dist@<version>`) take `openssl dgst -sha384 -binary <file> | base64`.
 */

export const SWAGGER_UI_VERSION = "5.35.0";
const CDN_BASE = `https://cdn.jsdelivr.net/npm/swagger-ui-dist@${SWAGGER_UI_VERSION}`;

export const SWAGGER_UI_ASSETS = {
  script: { url: `${CDN_BASE}/swagger-ui-bundle.js`, integrity: "sha384-gjRm0bEPMeTmMh5jT2cHccIwCUZSTd8YC+j0d0sXw0MdGEfScduGpSyF3ZSSLkX9" },
  stylesheet: { url: `${CDN_BASE}/swagger-ui.css`, integrity: "sha384-WlYgdmXYOOBWL5apwjDEZwN+U3HmXSSu5R6V5aGxEcf7z+KuRNwBhoxKVN1i3D5I" },
} as const;

function nonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes));
}

/** Renders the Swagger UI page for `specUrl` with its CSP. */
export function swaggerUiPage(c: Context, specUrl: string): Response | Promise<Response> {
  const scriptNonce = nonce();
  const { script, stylesheet } = SWAGGER_UI_ASSETS;
  c.header(
    "Content-Security-Policy",
    [
      "default-src 'none'",
      `script-src 'nonce-${scriptNonce}' ${script.url}`,
      // Swagger UI sets inline styles on its elements; styles cannot run code.
      `style-src ${stylesheet.url} 'unsafe-inline'`,
      "img-src 'self' data:",
      "font-src data:",
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
  );
  c.header("Referrer-Policy", "no-referrer");
  // `<` escaped so the JSON can never close the script element.
  const options = JSON.stringify({ url: specUrl, dom_id: "#swagger-ui", validatorUrl: null, deepLinking: true }).replaceAll("<", "\\u003c");
  return c.html(html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Finance Hub Edge API — Swagger UI</title>
        <link rel="stylesheet" href="${stylesheet.url}" integrity="${stylesheet.integrity}" crossorigin="anonymous" />
      </head>
      <body>
        <div id="swagger-ui"></div>
        <script src="${script.url}" integrity="${script.integrity}" crossorigin="anonymous"></script>
        <script nonce="${scriptNonce}">
          window.ui = SwaggerUIBundle(${raw(options)});
        </script>
      </body>
    </html>`);
}
