import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const migrations = await readD1Migrations("./migrations");

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
          AUTH_JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789",
          PLUGGY_API_URL: "http://pluggy.test",
          PLUGGY_CLIENT_ID: "sim-client-id",
          PLUGGY_CLIENT_SECRET: "sim-client-secret",
          PLUGGY_WEBHOOK_SECRET: "test-webhook-secret-new,test-webhook-secret-old",
          PLUGGY_WEBHOOK_AUTH_TOKEN: "",
          ALLOWED_ORIGINS: "https://app.example.com,http://localhost:5173",
        },
        queueConsumers: {
          "finance-hub-events": { maxBatchTimeout: 0.05 },
          "finance-hub-category-sync": { maxBatchTimeout: 0.05 },
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
