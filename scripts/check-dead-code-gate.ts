/**
 * Shows that the dead-code gate (knip, in `npm run lint`) fails on dead code, so a config change that
 * silences it does not go unnoticed. `npm run lint:selfcheck` (run by `npm run lint`), three knip runs:
 * 1. the tree as it is: knip passes;
 * 2. a probe module in src/ imported by an entry, with one export nobody imports: knip fails and names it;
 * 3. a probe module in src/ that nothing imports: knip fails and names the file.
 * The probe files are deleted afterwards (also on failure or Ctrl-C).
 */
import { spawnSync } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const knip = join(root, "node_modules", "knip", "bin", "knip.js");
const probeModule = join(root, "src", "__knip_probe.ts");
const probeEntry = join(root, "scripts", "__knip_probe_entry.ts");
const probes = [probeModule, probeEntry];

for (const probe of probes) {
  if (existsSync(probe)) fail(`${probe} exists already; delete it (left over from an interrupted run?)`);
}

function cleanUp(): void {
  for (const probe of probes) rmSync(probe, { force: true });
}
process.on("SIGINT", () => {
  cleanUp();
  process.exit(130);
});

function fail(message: string): never {
  cleanUp();
  console.error(`check-dead-code-gate: ${message}`);
  process.exit(1);
}

function runKnip(): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [knip, "--no-progress", "--no-config-hints"], { cwd: root, encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

try {
  const clean = runKnip();
  if (clean.status !== 0) fail(`knip fails on the tree as it is; fix that first:\n${clean.output}`);

  writeFileSync(probeModule, "export const usedProbe = 1;\nexport function unusedProbe(): number {\n  return 2;\n}\n");
  writeFileSync(probeEntry, 'import { usedProbe } from "../src/__knip_probe.ts";\nconsole.log(usedProbe);\n');
  const unusedExport = runKnip();
  if (unusedExport.status === 0 || !/Unused exports[\s\S]*unusedProbe/.test(unusedExport.output) || /(^|\s)usedProbe\s/m.test(unusedExport.output)) {
    fail(`knip did not fail on exactly the unused export unusedProbe (exit ${unusedExport.status}):\n${unusedExport.output}`);
  }

  rmSync(probeEntry);
  const unusedFile = runKnip();
  if (unusedFile.status === 0 || !/Unused files[\s\S]*src\/__knip_probe\.ts/.test(unusedFile.output)) {
    fail(`knip did not fail on the unused file src/__knip_probe.ts (exit ${unusedFile.status}):\n${unusedFile.output}`);
  }
} finally {
  cleanUp();
}
console.log("check-dead-code-gate: knip passes on the tree and fails on an unused export and on an unused file");
