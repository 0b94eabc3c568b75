/**
 * Proves `import { createClient } from "finance-hub-edge/client"` type-checks in a separate TypeScript
 * project that depends on this package by path (test/client-package: its own package.json with
 * `"finance-hub-edge": "file:../.."` and a frontend's tsconfig). Offline and fast: instead of
 * `npm install` it links node_modules/finance-hub-edge to the repository, which is what npm does for a
 * `file:` dependency. Needs the built client (`npm run build:client`; `npm run typecheck` runs both).
 */
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const consumer = join(root, "test", "client-package");
const link = join(consumer, "node_modules", "finance-hub-edge");
const target = join("..", "..", "..");

if (!existsSync(join(root, "dist", "client", "index.d.ts"))) {
  console.error("check-client-package: dist/client is missing; run `npm run build:client` first");
  process.exit(1);
}

mkdirSync(dirname(link), { recursive: true });
const linked = (() => {
  try {
    return lstatSync(link).isSymbolicLink() && readlinkSync(link) === target;
  } catch {
    return false;
  }
})();
if (!linked) {
  rmSync(link, { recursive: true, force: true });
  symlinkSync(target, link, "dir");
}

const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const result = spawnSync(process.execPath, [tsc, "-p", join(consumer, "tsconfig.json")], { stdio: "inherit" });
if (result.status !== 0) {
  console.error("check-client-package: finance-hub-edge/client does not type-check in test/client-package (see above)");
  process.exit(result.status ?? 1);
}
console.log("✓ finance-hub-edge/client type-checks in a separate project (test/client-package)");
