import { defineConfig } from "vitest/config";

/**
 * `npm run test:sdk` (part of `npm test`): Pluggy's official Node SDK (`pluggy-sdk`, a devDependency)
 * against the Pluggy simulator, on Node — the SDK needs Node's http stack, not workerd.
 * test-sdk/global-setup.ts starts the simulator as `npm run dev` does (wrangler dev, port SDK_TEST_PORT,
 * default 8897) and stops it afterwards.
 */
export default defineConfig({
  test: {
    include: ["test-sdk/**/*.test.ts"],
    environment: "node",
    globalSetup: ["./test-sdk/global-setup.ts"],
    // One simulator; the files use their own items, but one at a time keeps the log readable.
    fileParallelism: false,
    // The SDK logs every refused call to the console; show that only for failing tests.
    silent: "passed-only",
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
