import { defineConfig } from "vitest/config";

/**
 * `npm run test:reliability`: load with faults, category sync through failures, fuzzing and the auth
 * matrix, from Node against the app and the Pluggy simulator on local `wrangler dev`
 * (test-reliability/global-setup.ts starts them on fresh state and stops them). Files run one at a
 * time: they share one app, and the load test's accounting must not see another file's traffic.
 */
export default defineConfig({
  test: {
    include: ["test-reliability/**/*.test.ts"],
    environment: "node",
    globalSetup: ["./test-reliability/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 420_000,
    hookTimeout: 300_000,
  },
});
