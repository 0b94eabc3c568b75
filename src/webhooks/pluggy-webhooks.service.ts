import { PluggyError } from "../pluggy/pluggy.errors.ts";
import { pluggyErrorToAppError } from "../pluggy/pluggy.http.ts";
import type { PluggyWebhook } from "../pluggy/pluggy.schemas.ts";
import { notFound, validationError } from "../platform/errors.ts";
import type { Services } from "../platform/services.ts";

/*
 * The app-level webhook subscription at Pluggy (`POST /webhooks`), managed through our admin API so the
 * ops CLI never needs Pluggy keys. Only a subscription made this way carries custom headers: Pluggy does
 * not send them for a `webhookUrl` set on an item or connect token. So this is where
 * PLUGGY_WEBHOOK_AUTH_TOKEN reaches Pluggy, as `X-Webhook-Token` — which is why a subscription may only
 * point at our own webhook origin (PLUGGY_WEBHOOK_URL's, else this API's): anywhere else, Pluggy would
 * hand the token to a stranger. Subscription ids are Pluggy's UUIDs and nothing else reaches its path.
 * Pluggy's failures are answered like on every other route (`pluggyErrorToAppError`); only a 404 on
 * delete means something here.
 */

/** Pluggy's webhook ids are UUIDs; anything else (`..`, a path) is refused before Pluggy is called. */
export const PLUGGY_WEBHOOK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Pluggy, and optionally a logger for its failures. */
export type PluggyWebhookDeps = Pick<Services, "pluggy"> & Partial<Pick<Services, "logger">>;

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

/**
 * Subscribes `url` to `event` at Pluggy, sending our auth token (when configured) on every delivery.
 * `url` must be on `allowedOrigin` (400 on `url` otherwise).
 */
export async function createPluggyWebhook(
  { pluggy, logger }: PluggyWebhookDeps,
  input: { url: string; event: string; authToken: string | undefined; allowedOrigin: string },
): Promise<PluggyWebhookView> {
  let origin: string;
  try {
    origin = new URL(input.url).origin;
  } catch {
    throw validationError("url", "must be a URL");
  }
  if (origin !== input.allowedOrigin) {
    throw validationError("url", `must be on ${input.allowedOrigin} (PLUGGY_WEBHOOK_URL's origin): Pluggy sends the webhook token to this URL`);
  }
  try {
    const hook = await pluggy.createWebhook({
      url: input.url,
      event: input.event,
      ...(input.authToken ? { headers: { "X-Webhook-Token": input.authToken } } : {}),
    });
    return toView(hook);
  } catch (error) {
    throw pluggyErrorToAppError(error, logger);
  }
}

/** Our application's webhook subscriptions at Pluggy (custom headers are never shown by Pluggy). */
export async function listPluggyWebhooks({ pluggy, logger }: PluggyWebhookDeps): Promise<PluggyWebhookView[]> {
  try {
    return (await pluggy.listWebhooks()).map(toView);
  } catch (error) {
    throw pluggyErrorToAppError(error, logger);
  }
}

/** Removes a subscription at Pluggy; one Pluggy does not know answers 404. */
export async function deletePluggyWebhook({ pluggy, logger }: PluggyWebhookDeps, id: string): Promise<void> {
  if (!PLUGGY_WEBHOOK_ID.test(id)) throw notFound("webhook");
  try {
    await pluggy.deleteWebhook(id);
  } catch (error) {
    if (error instanceof PluggyError && error.status === 404) throw notFound("webhook");
    throw pluggyErrorToAppError(error, logger);
  }
}
