import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { api, CliError, EXIT, resolveTarget } from "./api.ts";
import type { Command } from "./commands.ts";

const HELP = `usage: npm run ops -- erase-user <user id> [--yes]

Erases a user exactly as their own DELETE /api/banking/me/ would (DELETE /api/admin/users/{id}/): each of
their items is deleted at Pluggy, then all their data here — items, accounts, transactions, category-sync
jobs, and the webhook events about their items with the raw bodies in R2. It runs in the background;
repeating it is harmless. There is no undo: without --yes you are asked to type the user id again
(and a non-interactive run without --yes refuses).

common: --url <base> --token <admin jwt> (or FINANCE_HUB_URL / FINANCE_HUB_ADMIN_TOKEN)
exit codes: 0 ok, 1 failed or not confirmed at the prompt, 2 usage (also: --yes missing when not interactive),
3 unreachable, 4 the API answered an error`;

async function confirmed(userId: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new CliError("erasure cannot be undone: pass --yes to confirm when not running interactively", EXIT.usage);
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`Erase every trace of user "${userId}" here and at Pluggy? Type the user id to confirm: `);
    return answer.trim() === userId;
  } finally {
    prompt.close();
  }
}

export const eraseUserCommand: Command = {
  summary: "erase a user here and at Pluggy, like their DELETE /api/banking/me/ (<user id> [--yes])",
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        yes: { type: "boolean", default: false },
        url: { type: "string" },
        token: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help) return void console.log(HELP);
    const [userId, ...extra] = positionals;
    if (!userId) throw new CliError("which user? usage: npm run ops -- erase-user <user id> [--yes]", EXIT.usage);
    if (extra.length > 0) throw new CliError(`unexpected argument: ${extra[0]}`, EXIT.usage);
    if (!values.yes && !(await confirmed(userId))) {
      console.error("not confirmed; nothing was erased");
      return EXIT.failed;
    }
    const target = await resolveTarget({ ...(values.url ? { url: values.url } : {}), ...(values.token ? { token: values.token } : {}) });
    const { data } = await api<{ data: { status: string } }>(target, "DELETE", `/api/admin/users/${encodeURIComponent(userId)}/`);
    console.log(`erasure of user ${userId}: ${data.status} (runs in the background; repeat the command if in doubt, it is harmless)`);
    return EXIT.ok;
  },
};
