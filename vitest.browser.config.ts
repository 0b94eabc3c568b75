import { defineConfig } from "vitest/config";

/**
 * Browser tests run in Node (not workerd): each file starts its own local instance (`scripts/dev.ts`
 * on spare ports with fresh state) and drives Debian's Chromium through playwright-core. Run with
 * `npm run test:browser`, which installs Chromium first when it is missing.
 */
export default defineConfig({
  test: {
    include: ["test-browser/**/*.test.ts"],
    environment: "node",
    // One instance and one browser at a time: the files share fixed ports.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
