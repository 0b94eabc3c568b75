import { createRoute } from "@hono/zod-openapi";
import { requireUser } from "../platform/auth.ts";
import { bookmarkRequestHeaders, bookmarkResponseHeaders, writeSession } from "../platform/d1-session.ts";
import { notFound } from "../platform/errors.ts";
import { createRouter, dataOf, errorResponses, jsonContent } from "../platform/openapi.ts";
import { limitPerUser } from "../platform/rate-limit.ts";
import { idParams, transactionSchema } from "../banking/banking.schemas.ts";
import { getTransaction } from "../banking/transactions.service.ts";
import { sendDelaySeconds } from "./category-sync.config.ts";
import { transactionCategoryBody } from "./category-sync.schemas.ts";
import { changeTransactionCategory } from "./category-change.service.ts";

/** Generous: recategorizing is the app's everyday write (CATEGORY_CHANGE_RATE_LIMITER, per user and minute). */
const categoryChangeLimit = limitPerUser({
  limiter: (env) => env.CATEGORY_CHANGE_RATE_LIMITER,
  action: "transactions.category",
  message: "too many category changes; try again in a minute",
});

const patchRoute = createRoute({
  method: "patch",
  path: "/transactions/{id}",
  tags: ["Transactions"],
  summary: "Set or clear a transaction's category (saved now, synced to Pluggy through the queue)",
  description:
    "Saves the choice locally first, then syncs it to Pluggy (`PATCH /transactions/{pluggy_id}` with the mapped `categoryId`) through the category-sync queue. " +
    "`category_sync.status` is `pending` when a sync was queued, or `skipped` with a reason (`reason_code` `no_pluggy_id`, `no_pluggy_mapping` or `category_cleared`, and `reason`, a short sentence). " +
    "A sync that later fails says why the same way (`rejected_by_pluggy`, `pluggy_unavailable`, ...); Pluggy's own error text is only on the admin API. " +
    "Rapid changes coalesce: only the last one reaches Pluggy. Rate limited per user (429 with Retry-After).",
  security: [{ bearerAuth: [] }],
  middleware: [requireUser, categoryChangeLimit, writeSession] as const,
  request: {
    params: idParams,
    headers: bookmarkRequestHeaders,
    body: { content: { "application/json": { schema: transactionCategoryBody } }, required: true },
  },
  responses: {
    200: { ...jsonContent(dataOf(transactionSchema), "The updated transaction"), headers: bookmarkResponseHeaders },
    400: errorResponses[400],
    401: errorResponses[401],
    404: errorResponses[404],
    415: errorResponses[415],
    429: errorResponses[429],
  },
});

export const transactionCategoryRoutes = createRouter().openapi(patchRoute, async (c) => {
  const { id } = c.req.valid("param");
  const { category } = c.req.valid("json");
  const { catalog, ledger, categorySyncQueue, logger } = c.var.services;
  await changeTransactionCategory({ catalog, ledger, categorySyncQueue, logger, sendDelaySeconds: sendDelaySeconds(c.env) }, c.var.user.id, id, category);
  const transaction = await getTransaction(c.var.services, c.var.user.id, id);
  if (!transaction) throw notFound("transaction");
  return c.json({ data: transaction }, 200);
});
