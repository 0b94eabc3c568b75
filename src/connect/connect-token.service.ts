import { ownerOfItem } from "../catalog/directory.repo.ts";
import type { Db } from "../db/client.ts";
import { splitList } from "../platform/env.ts";
import { notFound, validationError } from "../platform/errors.ts";
import type { Logger } from "../platform/logger.ts";
import type { PluggyApi } from "../pluggy/pluggy.client.ts";
import { PluggyError } from "../pluggy/pluggy.errors.ts";
import { pluggyErrorToAppError } from "../pluggy/pluggy.http.ts";
import type { ConnectTokenBody, ConnectTokenDto, WidgetOptions } from "./connect.schemas.ts";

/** Pluggy's connect token lifetime. */
export const CONNECT_TOKEN_TTL_MS = 30 * 60_000;
/** Pluggy Connect's hosted page; PLUGGY_CONNECT_URL replaces it (`npm run dev` points it at the simulator's /connect). */
export const CONNECT_WIDGET_URL = "https://connect.pluggy.ai/";

export interface ConnectTokenDeps {
  catalog: Db;
  pluggy: PluggyApi;
  /** ALLOWED_ORIGINS, parsed. */
  allowedOrigins: readonly string[];
  /** Sent as `options.webhookUrl` when set (see connectTokenWebhookUrl). */
  webhookUrl?: string | undefined;
  /** PLUGGY_CONNECT_URL, when set: where `connect_url` points. */
  connectUrl?: string | undefined;
  logger?: Logger;
  now?: () => Date;
}

/**
 * The `webhookUrl` connect tokens carry: PLUGGY_WEBHOOK_URL, unless PLUGGY_WEBHOOK_AUTH_TOKEN is set.
 * Pluggy sends custom headers only to subscriptions made with `POST /webhooks`, never to a `webhookUrl`
 * on an item or connect token, so with the header token required every item-level delivery would be
 * refused (401, which Pluggy does not retry) and would only duplicate the app-level subscription.
 */
export function connectTokenWebhookUrl(vars: { PLUGGY_WEBHOOK_URL?: string | undefined; PLUGGY_WEBHOOK_AUTH_TOKEN?: string | undefined }): string | undefined {
  if (splitList(vars.PLUGGY_WEBHOOK_AUTH_TOKEN).length > 0) return undefined;
  return vars.PLUGGY_WEBHOOK_URL?.trim() || undefined;
}

/** Widget filters asked for → Pluggy Connect widget props (only those asked). */
export function widgetOptionsFor(body: ConnectTokenBody): WidgetOptions {
  return {
    ...(body.connector_types ? { connectorTypes: body.connector_types } : {}),
    ...(body.country_codes ? { countries: body.country_codes } : {}),
    ...(body.connector_ids ? { connectorIds: body.connector_ids } : {}),
    ...(body.products_types ? { products: body.products_types } : {}),
    ...(body.include_sandbox !== undefined ? { includeSandbox: body.include_sandbox } : {}),
    ...(body.item_id ? { updateItem: body.item_id } : {}),
  };
}

/**
 * The hosted widget URL: the same filters as query parameters, named as Pluggy's own SDK names them
 * (arrays comma-joined), for clients that open Connect in a browser tab or webview.
 */
export function connectUrlFor(token: string, options: WidgetOptions, base: string = CONNECT_WIDGET_URL): string {
  const list = (values: ReadonlyArray<string | number>) => values.map((value) => encodeURIComponent(String(value))).join(",");
  const params: string[] = [`connect_token=${encodeURIComponent(token)}`];
  if (options.connectorTypes) params.push(`connector_types=${list(options.connectorTypes)}`);
  if (options.countries) params.push(`countries=${list(options.countries)}`);
  if (options.connectorIds) params.push(`connector_ids=${list(options.connectorIds)}`);
  if (options.products) params.push(`products=${list(options.products)}`);
  if (options.includeSandbox !== undefined) params.push(`with_sandbox=${String(options.includeSandbox)}`);
  if (options.updateItem) params.push(`update_item=${encodeURIComponent(options.updateItem)}`);
  const page = new URL(base);
  return `${page.origin}${page.pathname}?${params.join("&")}`;
}

/**
 * Creates a Pluggy Connect token for `userId` (their `sub` becomes Pluggy's `clientUserId`, which is how
 * items and webhooks are tied back to them). Only token options reach Pluggy; the connector filters are
 * widget options, returned for the frontend. Update mode (`item_id`) is allowed only for the caller's
 * own items, and an OAuth redirect only to an origin in ALLOWED_ORIGINS.
 */
export async function createConnectToken(deps: ConnectTokenDeps, userId: string, body: ConnectTokenBody): Promise<ConnectTokenDto> {
  if (body.oauth_redirect_uri !== undefined && !deps.allowedOrigins.includes(new URL(body.oauth_redirect_uri).origin)) {
    throw validationError("oauth_redirect_uri", "origin is not in ALLOWED_ORIGINS");
  }
  if (body.item_id !== undefined) {
    // The catalog's item directory says whose item it is; anyone else's answers like a missing one.
    if ((await ownerOfItem(deps.catalog, body.item_id)) !== userId) throw notFound("item");
  }
  let accessToken: string;
  try {
    ({ accessToken } = await deps.pluggy.createConnectToken({
      ...(body.item_id !== undefined ? { itemId: body.item_id } : {}),
      clientUserId: userId,
      ...(body.avoid_duplicates !== undefined ? { avoidDuplicates: body.avoid_duplicates } : {}),
      ...(body.oauth_redirect_uri !== undefined ? { oauthRedirectUri: body.oauth_redirect_uri } : {}),
      ...(deps.webhookUrl ? { webhookUrl: deps.webhookUrl } : {}),
    }));
  } catch (error) {
    if (body.item_id !== undefined && error instanceof PluggyError && error.status === 404) throw notFound("item");
    throw pluggyErrorToAppError(error, deps.logger);
  }
  const now = deps.now?.() ?? new Date();
  const widgetOptions = widgetOptionsFor(body);
  return {
    connect_token: accessToken,
    connect_url: connectUrlFor(accessToken, widgetOptions, deps.connectUrl || CONNECT_WIDGET_URL),
    expires_at: new Date(now.getTime() + CONNECT_TOKEN_TTL_MS).toISOString(),
    widget_options: widgetOptions,
  };
}
