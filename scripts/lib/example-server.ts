/**
 * Serves the example frontend (examples/web) for `npm run dev`: Vite compiles its TypeScript on the
 * fly, `finance-hub-edge/client` resolves to the client's source (no build step), and one
 * development-only endpoint hands the page a session. That endpoint lives here, in the dev script,
 * never in the Worker: `POST /dev/session {"user": "alice"}` answers a JWT for that user signed with
 * .dev.vars' AUTH_JWT_SECRET (what `npm run token -- --user alice` prints) and the API's URL.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer, type Plugin, type ViteDevServer } from "vite";
import { devToken } from "./jwt.ts";

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SESSION_TTL_SECONDS = 8 * 3600;
const USER_ID = /^[A-Za-z0-9._@-]{1,64}$/;

export interface ExampleServerOptions {
  port: number;
  /** The API the page calls (its origin must be in the API's ALLOWED_ORIGINS). */
  apiUrl: string;
  jwtSecret: string;
}

async function readBody(request: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of request) {
    text += String(chunk);
    if (text.length > 4096) break;
  }
  return text;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
  response.end(JSON.stringify(body));
}

/** `POST /dev/session`: a development JWT for the user the page names. */
function devSessionPlugin(options: ExampleServerOptions): Plugin {
  return {
    name: "finance-hub-dev-session",
    configureServer(server) {
      server.middlewares.use("/dev/session", (request, response) => {
        void (async () => {
          if (request.method !== "POST") return send(response, 405, { error: "POST {\"user\": \"...\"}" });
          let user: unknown;
          try {
            user = (JSON.parse(await readBody(request)) as { user?: unknown }).user;
          } catch {
            return send(response, 400, { error: "body must be JSON" });
          }
          if (typeof user !== "string" || !USER_ID.test(user)) return send(response, 400, { error: "user: 1-64 letters, digits, . _ @ -" });
          const token = await devToken(options.jwtSecret, user, { ttlSeconds: SESSION_TTL_SECONDS });
          send(response, 200, { user, token, api_url: options.apiUrl });
        })().catch((error: unknown) => send(response, 500, { error: String(error) }));
      });
    },
  };
}

export async function startExampleServer(options: ExampleServerOptions): Promise<ViteDevServer> {
  const server = await createServer({
    configFile: false,
    root: join(PROJECT_ROOT, "examples", "web"),
    // One optimizer cache per port: several instances (dev, browser tests) may run at once.
    cacheDir: join(PROJECT_ROOT, "node_modules", ".vite", `examples-web-${options.port}`),
    logLevel: "warn",
    clearScreen: false,
    resolve: { alias: { "finance-hub-edge/client": join(PROJECT_ROOT, "src", "client", "index.ts") } },
    server: { port: options.port, strictPort: true, host: "localhost", fs: { allow: [PROJECT_ROOT] } },
    plugins: [devSessionPlugin(options)],
  });
  await server.listen();
  return server;
}
