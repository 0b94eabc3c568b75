import type { D1Migration } from "@cloudflare/vitest-plugin";
import type * as mainModule from "../src/index.ts";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** Each wrangler.toml environment's `[vars]` as declared (production = the top level). */
      TEST_DEPLOYED_VARS: Record<string, Record<string, string>>;
    }
    interface GlobalProps {
      mainModule: typeof mainModule;
    }
  }
}
