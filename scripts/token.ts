/**
 * Prints a development JWT: `npm run token -- --user alice [--admin] [--ttl 3600]`.
 * The same command as `npm run ops -- token` (one implementation: scripts/ops/token.command.ts).
 */
import { CliError, EXIT } from "./ops/api.ts";
import { tokenCommand } from "./ops/token.command.ts";

try {
  process.exitCode = (await tokenCommand.run(process.argv.slice(2))) ?? EXIT.ok;
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = error instanceof CliError ? error.exitCode : EXIT.usage;
}
