/**
 * `npm run ops -- <command> [options]`: the operator CLI. It talks to a local or deployed instance:
 * `--url`/`--token`, or FINANCE_HUB_URL / FINANCE_HUB_ADMIN_TOKEN (local default: http://localhost:8787
 * with an admin token minted from .dev.vars). Exit codes: 0 ok, 1 failed, 2 usage, 3 unreachable,
 * 4 the API answered an error.
 */
import { CliError, EXIT } from "./ops/api.ts";
import { COMMANDS } from "./ops/commands.ts";

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(12)} ${command.summary}`);
  return ["usage: npm run ops -- <command> [options]   (npm run ops -- <command> --help for details)", "", "commands:", ...lines].join("\n");
}

const [name, ...rest] = process.argv.slice(2);
if (!name || name === "--help" || name === "-h" || name === "help") {
  console.log(usage());
  process.exit(name ? EXIT.ok : EXIT.usage);
}
const command = COMMANDS[name];
if (!command) {
  console.error(`unknown command: ${name}\n\n${usage()}`);
  process.exit(EXIT.usage);
}
try {
  process.exitCode = (await command.run(rest)) ?? EXIT.ok;
} catch (error) {
  if (error instanceof CliError) {
    console.error(`error: ${error.message}`);
    process.exitCode = error.exitCode;
  } else if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
    console.error(`error: ${error.message}\n(npm run ops -- ${name} --help)`);
    process.exitCode = EXIT.usage;
  } else {
    console.error(error);
    process.exitCode = EXIT.failed;
  }
}
