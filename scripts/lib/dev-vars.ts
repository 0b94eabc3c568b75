import { appendFileSync, copyFileSync, existsSync, readFileSync } from "node:fs";

/** Reads a dotenv-style file (`KEY=value`, `#` comments) into a map; missing file → empty map. */
export function readDevVars(path = ".dev.vars"): Record<string, string> {
  if (!existsSync(path)) return {};
  const vars: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match || line.trimStart().startsWith("#")) continue;
    const [, key = "", raw = ""] = match;
    vars[key] = raw.replace(/^"(.*)"$/, "$1").replace(/^'(.*)'$/, "$1");
  }
  return vars;
}

/**
 * Keys added since .dev.vars files were first created: without them the console is unavailable (it
 * needs its own secret) or the local frontend is refused by CORS (production's wrangler.toml lists no
 * localhost origin).
 */
export const LATER_LOCAL_KEYS = ["CONSOLE_SESSION_SECRET", "ALLOWED_ORIGINS"];

/**
 * Creates `.dev.vars` from the example when missing; otherwise appends the LATER_LOCAL_KEYS it lacks,
 * with the example's values (a developer's own values are never changed).
 */
export function ensureDevVars(path = ".dev.vars", examplePath = ".dev.vars.example"): { created: boolean; added: string[] } {
  if (!existsSync(path)) {
    copyFileSync(examplePath, path);
    return { created: true, added: [] };
  }
  const present = readDevVars(path);
  const example = readDevVars(examplePath);
  const added = LATER_LOCAL_KEYS.filter((key) => present[key] === undefined && example[key] !== undefined);
  if (added.length > 0) {
    const text = readFileSync(path, "utf8");
    const lines = added.map((key) => `${key}=${example[key] ?? ""}`).join("\n");
    appendFileSync(path, `${text.endsWith("\n") || text.length === 0 ? "" : "\n"}# Added by npm run dev from ${examplePath}\n${lines}\n`);
  }
  return { created: false, added };
}
