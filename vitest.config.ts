import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { experimental_readRawConfig } from "wrangler";
import { createSimulator } from "./simulator/src/sim.app.ts";
import { createJwksServer, JWKS_HOST } from "./test/helpers/jwks-server.ts";

const migrations = await readD1Migrations("./migrations");

/**
 * One in-memory Pluggy simulator for the whole run; tests reach it at http://pluggy.test. Every test
 * file's traffic reaches it from the same (absent) address, so Pluggy's per-IP rate limits are off here;
 * the simulator's own tests check them on instances of their own.
 */
const pluggySimulator = createSimulator({
  clientId: "sim-client-id",
  clientSecret: "sim-client-secret",
  webhookSecret: "test-webhook-secret-new",
  rateLimits: false,
});

/** A stand-in identity provider's JWKS endpoint (counts its fetches); tests reach it at http://jwks.test. */
const jwksServer = createJwksServer();

/**
 * The `[vars]` of every environment as wrangler.toml declares them (the bindings below override some for
 * the tests), so the suite can check the deployed configuration itself (test/platform/production-config.test.ts).
 */
const { rawConfig } = experimental_readRawConfig({ config: "./wrangler.toml" });
const deployedVars: Record<string, Record<string, string>> = { production: stringVars(rawConfig.vars) };
for (const [name, environment] of Object.entries(rawConfig.env ?? {})) deployedVars[name] = stringVars((environment as { vars?: unknown }).vars);

function stringVars(vars: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(vars ?? {}).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]));
}

/**
 * Tests run inside workerd against real local D1, R2 and Queues (Miniflare). Pluggy is the only
 * thing faked: outbound requests go to the project's Pluggy simulator, running here in Node.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: migrations,
          TEST_DEPLOYED_VARS: deployedVars,
          AUTH_JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789",
          CONSOLE_SESSION_SECRET: "test-console-session-secret-0123456789abcdef",
          PLUGGY_API_URL: "http://pluggy.test",
          PLUGGY_CLIENT_ID: "sim-client-id",
          PLUGGY_CLIENT_SECRET: "sim-client-secret",
          PLUGGY_WEBHOOK_SECRET: "test-webhook-secret-new,test-webhook-secret-old",
          PLUGGY_WEBHOOK_AUTH_TOKEN: "",
          ALLOWED_ORIGINS: "https://app.example.com,http://localhost:5173",
          // Queue delays are real time in workerd: keep category-sync coalescing and retries short.
          CATEGORY_SYNC_SEND_DELAY_SECONDS: "1",
          CATEGORY_SYNC_RETRY_BASE_SECONDS: "1",
          CATEGORY_SYNC_RETRY_CAP_SECONDS: "1",
          EVENTS_QUEUE_RETRY_BASE_SECONDS: "1",
          EVENTS_QUEUE_RETRY_CAP_SECONDS: "1",
        },
        outboundService: (request) => {
          const url = new URL(request.url);
          if (url.hostname === "pluggy.test") return pluggySimulator.fetch(request as unknown as Request);
          if (url.hostname === JWKS_HOST) return jwksServer.fetch(request as unknown as Request);
          return new Response(`outbound request to ${url.origin} refused in tests: only http://pluggy.test (the Pluggy simulator) and http://${JWKS_HOST} (a JWKS) are reachable`, { status: 502 });
        },
        queueConsumers: {
          // An entry here replaces wrangler.toml's whole consumer entry (shallow merge, no DLQ and default
          // retries otherwise): repeat the DLQ. 3 retries (production 8) → 4 deliveries, about a second apart.
          "finance-hub-events": { maxBatchTimeout: 0.05, maxBatchSize: 10, maxRetries: 3, deadLetterQueue: "finance-hub-events-dlq" },
          "finance-hub-category-sync": { maxBatchTimeout: 0.05, maxBatchSize: 10, maxRetries: 3, deadLetterQueue: "finance-hub-category-sync-dlq" },
          "finance-hub-events-dlq": { maxBatchTimeout: 0.05 },
          "finance-hub-category-sync-dlq": { maxBatchTimeout: 0.05 },
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts", "simulator/test/**/*.test.ts"],
    setupFiles: ["./test/setup/apply-migrations.ts"],
    silent: "passed-only",
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
