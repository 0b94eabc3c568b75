import type { PluggyApi } from "../pluggy/pluggy.client.ts";
import { PluggyError } from "../pluggy/pluggy.errors.ts";
import type { PluggyWebhook } from "../pluggy/pluggy.schemas.ts";
import { AppError, notFound } from "../platform/errors.ts";

/*
 * The app-level webhook subscription at Pluggy (`POST /webhooks`), managed through our admin API so the
 * ops CLI never needs Pluggy keys. Only a subscription made this way carries custom headers: Pluggy does
 * not send them for a `webhookUrl` set on an item or connect token. So this is where
 * PLUGGY_WEBHOOK_AUTH_TOKEN reaches Pluggy, as `X-Webhook-Token`.
 */

export interface PluggyWebhookView {
  id: string;
  url: string;
  event: string;
  created_at: string | null;
  updated_at: string | null;
  disabled_at: string | null;
}

const toView = (hook: PluggyWebhook): PluggyWebhookView => ({
  id: hook.id,
  url: hook.url,
  event: hook.event,
  created_at: hook.createdAt ?? null,
  updated_at: hook.updatedAt ?? null,
  disabled_at: hook.disabledAt ?? null,
});

/** A Pluggy failure while answering an admin request: 404 stays 404, 429 stays 429, else 502/503. */
function upstream(error: unknown, what: string): AppError {
  if (!(error instanceof PluggyError)) return new AppError("upstream_error", "Pluggy call failed", { cause: error });
  if (error.status === 404) return notFound(what);
  if (error.status === 429) {
    return new AppError("rate_limited", `Pluggy: ${error.reason}`, { headers: { "Retry-After": String(error.retryAfterSeconds ?? 60) }, cause: error });
  }
  return new AppError(error.transient ? "upstream_unavailable" : "upstream_error", `Pluggy: ${error.reason}`, { cause: error });
}

/** Subscribes `url` to `event` at Pluggy, sending our auth token (when configured) on every delivery. */
export async function createPluggyWebhook(pluggy: PluggyApi, input: { url: string; event: string; authToken: string | undefined }): Promise<PluggyWebhookView> {
  try {
    const hook = await pluggy.createWebhook({
      url: input.url,
      event: input.event,
      ...(input.authToken ? { headers: { "X-Webhook-Token": input.authToken } } : {}),
    });
    return toView(hook);
  } catch (error) {
    throw upstream(error, "webhook");
  }
}

/** Our application's webhook subscriptions at Pluggy (custom headers are never shown by Pluggy). */
export async function listPluggyWebhooks(pluggy: PluggyApi): Promise<PluggyWebhookView[]> {
  try {
    return (await pluggy.listWebhooks()).map(toView);
  } catch (error) {
    throw upstream(error, "webhook");
  }
}

/** Removes a subscription at Pluggy. */
export async function deletePluggyWebhook(pluggy: PluggyApi, id: string): Promise<void> {
  try {
    await pluggy.deleteWebhook(id);
  } catch (error) {
    throw upstream(error, "webhook");
  }
}
