import type { D1Migration } from "@cloudflare/vitest-plugin";
import type * as mainModule from "../src/index.ts";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
    }
    interface GlobalProps {
      mainModule: typeof mainModule;
    }
  }
}
