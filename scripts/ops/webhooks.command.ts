import { parseArgs } from "node:util";
import { api, CliError, EXIT, resolveTarget, table } from "./api.ts";
import type { Command } from "./commands.ts";

const HELP = `usage: npm run ops -- webhooks <register|list|delete> [options]

Our application's webhook subscription at Pluggy (POST/GET/DELETE /webhooks), through this instance's admin
API, so no Pluggy keys are needed here. Only such a subscription carries PLUGGY_WEBHOOK_AUTH_TOKEN (as the
X-Webhook-Token header); a webhookUrl on an item or connect token does not.

  webhooks register --url <public https url> [--event all]
      Subscribe the URL (normally https://<host>/api/banking/pluggy/webhook/) to every event (default "all").
      The instance accepts only a URL on its PLUGGY_WEBHOOK_URL origin (its own origin when that is unset),
      so the token never goes anywhere else.
  webhooks list [--json]
      Subscriptions at Pluggy (Pluggy never shows their headers).
  webhooks delete <id>
      Remove a subscription (the id is the UUID that list shows).

common: --api <instance base url> --token <admin jwt> (or FINANCE_HUB_URL / FINANCE_HUB_ADMIN_TOKEN)
        (here --url is the webhook's URL, so the instance is --api)
exit codes: 0 ok, 1 failed, 2 usage, 3 unreachable, 4 the API answered an error`;

interface PluggyWebhook {
  id: string;
  url: string;
  event: string;
  created_at: string | null;
  updated_at: string | null;
  disabled_at: string | null;
}

function httpsUrl(value: string | undefined): string {
  if (!value) throw new CliError("register needs --url <public https url>, e.g. https://api.example.com/api/banking/pluggy/webhook/", EXIT.usage);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`--url is not a URL: ${value}`, EXIT.usage);
  }
  if (url.protocol !== "https:") throw new CliError("--url must be https: Pluggy delivers only to public HTTPS endpoints (use a tunnel for local tests)", EXIT.usage);
  return url.toString();
}

export const webhooksCommand: Command = {
  summary: "Pluggy webhook subscription: register --url, list, delete <id>",
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        url: { type: "string" },
        event: { type: "string", default: "all" },
        api: { type: "string" },
        json: { type: "boolean", default: false },
        token: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help) return void console.log(HELP);
    const [action, ...rest] = positionals;
    if (!action) throw new CliError(`missing subcommand\n\n${HELP}`, EXIT.usage);
    // `--url` is the webhook's URL here, so the instance is `--api` (or FINANCE_HUB_URL).
    if (action !== "register" && values.url !== undefined) throw new CliError("--url is only for register; point at the instance with --api", EXIT.usage);
    const connect = () => resolveTarget({ ...(values.api ? { url: values.api } : {}), ...(values.token ? { token: values.token } : {}) });

    if (action === "register") {
      if (rest.length > 0) throw new CliError(`unexpected argument: ${rest[0]}`, EXIT.usage);
      const url = httpsUrl(values.url);
      const answer = await api<{ data: PluggyWebhook }>(await connect(), "POST", "/api/admin/pluggy-webhooks/", { url, event: values.event });
      if (values.json) console.log(JSON.stringify(answer, null, 2));
      else console.log(`registered ${answer.data.id}: ${answer.data.event} → ${answer.data.url}`);
      return EXIT.ok;
    }
    if (action === "list") {
      if (rest.length > 0) throw new CliError(`unexpected argument: ${rest[0]}`, EXIT.usage);
      const answer = await api<{ data: PluggyWebhook[] }>(await connect(), "GET", "/api/admin/pluggy-webhooks/");
      if (values.json) console.log(JSON.stringify(answer, null, 2));
      else console.log(table(answer.data.map((hook) => ({ id: hook.id, event: hook.event, url: hook.url, created_at: hook.created_at, disabled_at: hook.disabled_at }))));
      return EXIT.ok;
    }
    if (action === "delete") {
      const [id, extra] = rest;
      if (!id || extra) throw new CliError("usage: npm run ops -- webhooks delete <id>", EXIT.usage);
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
        throw new CliError(`not a webhook id: ${id} (Pluggy's ids are UUIDs; see npm run ops -- webhooks list)`, EXIT.usage);
      }
      await api(await connect(), "DELETE", `/api/admin/pluggy-webhooks/${encodeURIComponent(id)}/`);
      console.log(`deleted ${id}`);
      return EXIT.ok;
    }
    throw new CliError(`unknown subcommand: ${action}\n\n${HELP}`, EXIT.usage);
  },
};
