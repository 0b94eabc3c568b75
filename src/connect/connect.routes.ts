import { createRoute } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { itemSchema, idParams } from "../banking/banking.schemas.ts";
import { requireUser } from "../platform/auth.ts";
import { bookmarkRequestHeaders, bookmarkResponseHeaders, writeSession } from "../platform/d1-session.ts";
import { splitList, type AppEnv } from "../platform/env.ts";
import { AppError } from "../platform/errors.ts";
import { createRouter, dataOf, errorResponses, jsonContent } from "../platform/openapi.ts";
import { connectionLimit } from "../platform/rate-limit.ts";
import { connectTokenBody, connectTokenSchema, registerItemBody } from "./connect.schemas.ts";
import { connectTokenWebhookUrl, createConnectToken } from "./connect-token.service.ts";
import { deleteItem, refreshItem, registerItem } from "./connections.service.ts";

/** The CONNECT_TOKEN_RATE_LIMITER period (wrangler.toml `simple.period`). */
const CONNECT_TOKEN_RATE_PERIOD_SECONDS = 60;

/** Connect tokens per user are rate limited (Workers Rate Limiting binding): over the limit → 429 with Retry-After. */
const connectTokenRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const { success } = await c.env.CONNECT_TOKEN_RATE_LIMITER.limit({ key: c.var.user.id });
  if (!success) {
    throw new AppError("rate_limited", "too many connect tokens requested; try again in a minute", {
      headers: { "Retry-After": String(CONNECT_TOKEN_RATE_PERIOD_SECONDS) },
    });
  }
  await next();
});

const pluggyErrors = { 429: errorResponses[429], 502: errorResponses[502], 503: errorResponses[503] } as const;

const connectTokenRoute = createRoute({
  method: "post",
  path: "/pluggy/connect-token",
  tags: ["Connections"],
  summary: "Create a Pluggy Connect token for the caller",
  description:
    "Calls Pluggy `POST /connect_token` with only token options (`itemId`, `clientUserId` = the caller, `avoidDuplicates`, `oauthRedirectUri`, `webhookUrl` = PLUGGY_WEBHOOK_URL, only when PLUGGY_WEBHOOK_AUTH_TOKEN is not set). " +
    "Connector filters are widget options: they come back in `widget_options` (only those asked for) and as query parameters of `connect_url`. " +
    "Arrays must be non-empty and without duplicates. Rate limited per user.",
  security: [{ bearerAuth: [] }],
  middleware: [requireUser, connectTokenRateLimit, writeSession] as const,
  request: { headers: bookmarkRequestHeaders, body: { content: { "application/json": { schema: connectTokenBody } }, required: false } },
  responses: {
    200: { ...jsonContent(dataOf(connectTokenSchema), "A connect token, its widget URL and widget options"), headers: bookmarkResponseHeaders },
    400: errorResponses[400],
    401: errorResponses[401],
    404: errorResponses[404],
    415: errorResponses[415],
    ...pluggyErrors,
  },
});

const registerItemRoute = createRoute({
  method: "post",
  path: "/items",
  tags: ["Connections"],
  summary: "Register an item Pluggy Connect just created",
  description:
    "Reads the item from Pluggy and accepts it only if its `clientUserId` is the caller (else 404). 201 when newly registered, 200 when it already was the caller's " +
    "(of concurrent registrations of one item exactly one answers 201). The first registration queues the item's first data sync (accounts and transactions); a repeat only refreshes the item's state. " +
    "Rate limited per user (429 with Retry-After).",
  security: [{ bearerAuth: [] }],
  middleware: [requireUser, connectionLimit("items.register", "bank connection"), writeSession] as const,
  request: { headers: bookmarkRequestHeaders, body: { content: { "application/json": { schema: registerItemBody } }, required: true } },
  responses: {
    200: { ...jsonContent(dataOf(itemSchema), "Already registered to the caller"), headers: bookmarkResponseHeaders },
    201: { ...jsonContent(dataOf(itemSchema), "Registered"), headers: bookmarkResponseHeaders },
    400: errorResponses[400],
    401: errorResponses[401],
    404: errorResponses[404],
    415: errorResponses[415],
    ...pluggyErrors,
  },
});

const refreshItemRoute = createRoute({
  method: "post",
  path: "/items/{id}/refresh",
  tags: ["Connections"],
  summary: "Ask Pluggy to update one of the caller's items now",
  description: "Pluggy `PATCH /items/{id}`. 202 with the item as Pluggy reports it (usually `UPDATING`). Pluggy's rate limit → 429 with Retry-After; its frequency or already-updating refusals → 409; both quote Pluggy's reason. Rate limited per user (429 with Retry-After).",
  security: [{ bearerAuth: [] }],
  middleware: [requireUser, connectionLimit("items.refresh", "item refresh"), writeSession] as const,
  request: { params: idParams, headers: bookmarkRequestHeaders },
  responses: {
    202: { ...jsonContent(dataOf(itemSchema), "Update started"), headers: bookmarkResponseHeaders },
    401: errorResponses[401],
    404: errorResponses[404],
    409: errorResponses[409],
    ...pluggyErrors,
  },
});

const deleteItemRoute = createRoute({
  method: "delete",
  path: "/items/{id}",
  tags: ["Connections"],
  summary: "Delete one of the caller's items, at Pluggy and locally",
  description: "Deletes at Pluggy first (already gone at Pluggy counts as deleted), then the item with its accounts, transactions and category-sync jobs. If Pluggy fails, local data is kept and the answer is 502/503. Rate limited per user (429 with Retry-After).",
  security: [{ bearerAuth: [] }],
  middleware: [requireUser, connectionLimit("items.delete", "item deletion"), writeSession] as const,
  request: { params: idParams, headers: bookmarkRequestHeaders },
  responses: {
    204: { description: "Deleted", headers: bookmarkResponseHeaders },
    401: errorResponses[401],
    404: errorResponses[404],
    ...pluggyErrors,
  },
});

export const connectionRoutes = createRouter()
  .openapi(connectTokenRoute, async (c) => {
    const data = await createConnectToken(
      {
        catalog: c.var.services.catalog,
        pluggy: c.var.services.pluggy,
        allowedOrigins: splitList(c.env.ALLOWED_ORIGINS),
        webhookUrl: connectTokenWebhookUrl(c.env),
        connectUrl: c.env.PLUGGY_CONNECT_URL?.trim() || undefined,
        logger: c.var.services.logger,
      },
      c.var.user.id,
      c.req.valid("json"),
    );
    return c.json({ data }, 200);
  })
  .openapi(registerItemRoute, async (c) => {
    const { item, created } = await registerItem(
      c.var.services,
      c.var.user.id,
      c.req.valid("json").item_id,
    );
    return created ? c.json({ data: item }, 201) : c.json({ data: item }, 200);
  })
  .openapi(refreshItemRoute, async (c) => {
    const item = await refreshItem(c.var.services, c.var.user.id, c.req.valid("param").id);
    return c.json({ data: item }, 202);
  })
  .openapi(deleteItemRoute, async (c) => {
    await deleteItem(c.var.services, c.var.user.id, c.req.valid("param").id);
    return c.body(null, 204);
  });
