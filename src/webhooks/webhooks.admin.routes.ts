import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin } from "../platform/auth.ts";
import { splitList } from "../platform/env.ts";
import { ConfigurationError } from "../platform/errors.ts";
import { adminAuthErrors, bearerSecurity, createRouter, dataOf, errorResponses, jsonContent, listOf } from "../platform/openapi.ts";
import { createPluggyWebhook, deletePluggyWebhook, listPluggyWebhooks } from "./pluggy-webhooks.service.ts";
import { getWebhookEvent, getWebhookEventRaw, listWebhookEvents, replayWebhookEvent, replayWebhookEvents } from "./webhook-events.service.ts";
import {
  bulkReplayBody,
  bulkReplayResultSchema,
  createPluggyWebhookBody,
  eventIdParams,
  pluggyWebhookIdParams,
  pluggyWebhookSchema,
  replayQueuedSchema,
  webhookEventDetailSchema,
  webhookEventListQuery,
  webhookEventSchema,
} from "./webhooks.schemas.ts";

const eventTags = ["Admin: webhook events"];
const subscriptionTags = ["Admin: Pluggy webhooks"];
const jsonBody = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } }, required: true });

const listRoute = createRoute({
  method: "get",
  path: "/webhook-events",
  tags: eventTags,
  summary: "Webhook events, newest first (filters: status, event, item_id, received_from, received_to; keyset cursor)",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { query: webhookEventListQuery },
  responses: { 200: jsonContent(listOf(webhookEventSchema), "A page of events"), 400: errorResponses[400], ...adminAuthErrors },
});

const bulkReplayRoute = createRoute({
  method: "post",
  path: "/webhook-events/replay",
  tags: eventTags,
  summary: "Replay every event matching a filter (oldest first, ≤ 1000 per call; dry_run queues nothing)",
  description:
    "Rejected deliveries, purged bodies and events being processed right now are never selected. Each event goes back to " +
    "`received` with `replay_count + 1` and is queued; the consumer checks the archived body against `body_sha256` before use. " +
    "`matched` counts every replayable match from the cursor on; continue with `next_cursor` while it is not null.",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { body: jsonBody(bulkReplayBody) },
  responses: {
    202: jsonContent(dataOf(bulkReplayResultSchema), "Matched, queued (0 on a dry run) and the selected event ids"),
    400: errorResponses[400],
    ...adminAuthErrors,
    415: errorResponses[415],
    503: errorResponses[503],
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/webhook-events/{event_id}",
  tags: eventTags,
  summary: "One webhook event with its parsed payload",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { params: eventIdParams },
  responses: { 200: jsonContent(dataOf(webhookEventDetailSchema), "The event"), ...adminAuthErrors, 404: errorResponses[404] },
});

const rawRoute = createRoute({
  method: "get",
  path: "/webhook-events/{event_id}/raw",
  tags: eventTags,
  summary: "The exact bytes received, with their original content type",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { params: eventIdParams },
  responses: {
    200: {
      description: "The archived body, byte for byte (`X-Body-Sha256` carries its hex SHA-256)",
      content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } },
    },
    ...adminAuthErrors,
    404: errorResponses[404],
    410: errorResponses[410],
  },
});

const replayRoute = createRoute({
  method: "post",
  path: "/webhook-events/{event_id}/replay",
  tags: eventTags,
  summary: "Re-process one event from its R2 copy (checked against body_sha256)",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { params: eventIdParams },
  responses: {
    202: jsonContent(dataOf(replayQueuedSchema), "Queued"),
    ...adminAuthErrors,
    404: errorResponses[404],
    409: jsonContent(errorResponses[409].content["application/json"].schema, "A rejected delivery, an event being processed right now, or a corrupt copy"),
    410: errorResponses[410],
    503: errorResponses[503],
  },
});

/** What a Pluggy failure can answer (pluggyErrorToAppError, the mapping every route shares). */
const pluggyErrors = { 409: errorResponses[409], 429: errorResponses[429], 502: errorResponses[502], 503: errorResponses[503] };

/** Where subscriptions may point: PLUGGY_WEBHOOK_URL's origin, or this API's own when it is unset. */
function webhookOrigin(configured: string | undefined, requestUrl: string): string {
  const url = configured?.trim();
  if (!url) return new URL(requestUrl).origin;
  try {
    return new URL(url).origin;
  } catch {
    throw new ConfigurationError(`PLUGGY_WEBHOOK_URL is not a URL: "${url}"`);
  }
}

const listSubscriptionsRoute = createRoute({
  method: "get",
  path: "/pluggy-webhooks",
  tags: subscriptionTags,
  summary: "Our application's webhook subscriptions at Pluggy",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  // A list like every other (every list in the API carries `next_cursor`); Pluggy returns them all, so it is always null.
  responses: {
    200: jsonContent(listOf(pluggyWebhookSchema), "Subscriptions (all of them: `next_cursor` is always null)"),
    ...adminAuthErrors,
    ...pluggyErrors,
  },
});

const createSubscriptionRoute = createRoute({
  method: "post",
  path: "/pluggy-webhooks",
  tags: subscriptionTags,
  summary: "Subscribe our webhook URL at Pluggy (event `all` by default), sending PLUGGY_WEBHOOK_AUTH_TOKEN as X-Webhook-Token",
  description:
    "The URL must be https and on PLUGGY_WEBHOOK_URL's origin (this API's own origin when it is unset); any other URL is a 400 on `url`, so the token is never sent elsewhere.",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { body: jsonBody(createPluggyWebhookBody) },
  responses: {
    201: jsonContent(dataOf(pluggyWebhookSchema), "Created at Pluggy"),
    400: errorResponses[400],
    ...adminAuthErrors,
    415: errorResponses[415],
    ...pluggyErrors,
  },
});

const deleteSubscriptionRoute = createRoute({
  method: "delete",
  path: "/pluggy-webhooks/{id}",
  tags: subscriptionTags,
  summary: "Remove a webhook subscription at Pluggy",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { params: pluggyWebhookIdParams },
  responses: { 204: { description: "Deleted" }, 400: errorResponses[400], ...adminAuthErrors, 404: errorResponses[404], ...pluggyErrors },
});

/** Admin: webhook events (list, inspect, raw bytes, replay) and the webhook subscription at Pluggy. */
export const webhookAdminRoutes = createRouter()
  .openapi(listRoute, async (c) => {
    const query = c.req.valid("query");
    const { data, nextCursor } = await listWebhookEvents(
      c.var.services,
      { status: query.status, event: query.event, itemId: query.item_id, receivedFrom: query.received_from, receivedTo: query.received_to },
      { limit: query.limit, cursor: query.cursor },
    );
    return c.json({ data, next_cursor: nextCursor }, 200);
  })
  .openapi(bulkReplayRoute, async (c) => {
    const body = c.req.valid("json");
    const result = await replayWebhookEvents(c.var.services, {
        status: body.status,
        event: body.event,
        itemId: body.item_id,
        receivedFrom: body.received_from,
        receivedTo: body.received_to,
        limit: body.limit,
        dryRun: body.dry_run,
        cursor: body.cursor,
      });
    return c.json({ data: result }, 202);
  })
  .openapi(getRoute, async (c) => {
    const event = await getWebhookEvent(c.var.services, c.req.valid("param").event_id);
    return c.json({ data: event }, 200);
  })
  .openapi(rawRoute, async (c) => {
    const raw = await getWebhookEventRaw(c.var.services, c.req.valid("param").event_id);
    return c.body(raw.body, 200, {
      "Content-Type": raw.contentType,
      "Content-Length": String(raw.size),
      "X-Body-Sha256": raw.sha256,
      "Cache-Control": "no-store",
    });
  })
  .openapi(replayRoute, async (c) => {
    const eventId = c.req.valid("param").event_id;
    await replayWebhookEvent(c.var.services, eventId);
    return c.json({ data: { event_id: eventId, status: "queued" as const } }, 202);
  })
  .openapi(listSubscriptionsRoute, async (c) => {
    const data = await listPluggyWebhooks(c.var.services);
    return c.json({ data, next_cursor: null }, 200);
  })
  .openapi(createSubscriptionRoute, async (c) => {
    const body = c.req.valid("json");
    const hook = await createPluggyWebhook(c.var.services, {
        url: body.url,
        event: body.event,
        // During a token rotation the list is "new,old": Pluggy gets the new one.
        authToken: splitList(c.env.PLUGGY_WEBHOOK_AUTH_TOKEN)[0],
        allowedOrigin: webhookOrigin(c.env.PLUGGY_WEBHOOK_URL, c.req.url),
      });
    return c.json({ data: hook }, 201);
  })
  .openapi(deleteSubscriptionRoute, async (c) => {
    await deletePluggyWebhook(c.var.services, c.req.valid("param").id);
    return c.body(null, 204);
  });
