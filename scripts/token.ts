/**
 * Prints a development JWT: `npm run token -- --user alice [--admin] [--ttl 3600]`.
 * Signs with AUTH_JWT_SECRET from the environment or .dev.vars.
 */
import { parseArgs } from "node:util";
import { readDevVars } from "./lib/dev-vars.ts";
import { devToken } from "./lib/jwt.ts";

const { values } = parseArgs({
  options: {
    user: { type: "string", short: "u", default: "alice" },
    admin: { type: "boolean", default: false },
    ttl: { type: "string", default: "86400" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  console.log("usage: npm run token -- [--user <sub>] [--admin] [--ttl <seconds>]");
  process.exit(0);
}

const secret = process.env.AUTH_JWT_SECRET ?? readDevVars().AUTH_JWT_SECRET;
if (!secret) {
  console.error("AUTH_JWT_SECRET is not set (neither in the environment nor in .dev.vars). Run `npm run dev` once to create .dev.vars.");
  process.exit(2);
}
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl <= 0) {
  console.error("--ttl must be a positive number of seconds");
  process.exit(2);
}
console.log(await devToken(secret, values.user, { admin: values.admin, ttlSeconds: ttl }));
