import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { splitList } from "../../src/platform/env.ts";

/*
 * What wrangler.toml deploys, read by vitest.config.ts with wrangler's own parser (the suite's bindings
 * override some of these vars, so the deployed values are checked here, not through the app).
 */

const LOCAL_ORIGIN = /^https?:\/\/(localhost|127(\.\d+){3}|\[::1\]|0\.0\.0\.0)(:\d+)?$/i;

describe("deployed configuration (wrangler.toml)", () => {
  const deployed = env.TEST_DEPLOYED_VARS;

  it("has a production environment and a staging one", () => {
    expect(Object.keys(deployed).sort()).toEqual(["production", "staging"]);
  });

  it.each(Object.keys(env.TEST_DEPLOYED_VARS))("%s allows no local origin: local origins come from .dev.vars / npm run dev", (name) => {
    const origins = splitList(deployed[name]?.ALLOWED_ORIGINS);
    expect(origins.length).toBeGreaterThan(0);
    expect(origins.filter((origin) => LOCAL_ORIGIN.test(origin))).toEqual([]);
    expect(origins.filter((origin) => !origin.startsWith("https://"))).toEqual([]);
  });
});
