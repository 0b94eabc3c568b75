import { parseArgs } from "node:util";
import { readDevVars } from "../lib/dev-vars.ts";
import { devToken } from "../lib/jwt.ts";
import { CliError, EXIT } from "./api.ts";
import type { Command } from "./commands.ts";

const HELP = `usage: npm run ops -- token [--user <sub>] [--admin] [--ttl <seconds>]

Prints a development JWT signed with AUTH_JWT_SECRET (environment or .dev.vars).`;

export const tokenCommand: Command = {
  summary: "print a development JWT (--user, --admin)",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        user: { type: "string", default: "alice" },
        admin: { type: "boolean", default: false },
        ttl: { type: "string", default: "86400" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help) return void console.log(HELP);
    const secret = process.env.AUTH_JWT_SECRET ?? readDevVars().AUTH_JWT_SECRET;
    if (!secret) throw new CliError("AUTH_JWT_SECRET is not set (environment or .dev.vars)", EXIT.usage);
    const ttl = Number(values.ttl);
    if (!Number.isInteger(ttl) || ttl <= 0) throw new CliError("--ttl must be a positive whole number of seconds", EXIT.usage);
    console.log(await devToken(secret, values.user, { admin: values.admin, ttlSeconds: ttl }));
    return EXIT.ok;
  },
};
