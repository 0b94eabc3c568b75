import { createRoute, z } from "@hono/zod-openapi";
import { requireUser } from "../platform/auth.ts";
import { bookmarkParameter, bookmarkResponseHeaders, readSession } from "../platform/d1-session.ts";
import { notFound } from "../platform/errors.ts";
import { createRouter, dataOf, errorResponses, jsonContent, listOf } from "../platform/openapi.ts";
import { cursorParam, idParams, limitParam, transactionSchema } from "./banking.schemas.ts";
import { getTransaction, listTransactions } from "./transactions.service.ts";

const isoDate = z.iso.date();

/** Query of the transaction list; unknown parameters are refused, not ignored. */
export const transactionListQuery = z
  .object({
    account_id: z.guid().optional(),
    item_id: z.guid().optional(),
    category_id: z.union([z.literal("none"), z.uuid()]).optional().openapi({ description: 'A category uuid, or "none" for uncategorized' }),
    date_from: isoDate.optional(),
    date_to: isoDate.optional(),
    search: z.string().min(1).max(200).optional(),
    limit: limitParam,
    cursor: cursorParam,
  })
  .strict()
  .refine((q) => !q.date_from || !q.date_to || q.date_from <= q.date_to, { message: "date_from must not be after date_to", path: ["date_from"] });

const listRoute = createRoute({
  method: "get",
  path: "/transactions",
  tags: ["Transactions"],
  summary: "The caller's transactions, newest first (keyset cursor)",
  security: [{ bearerAuth: [] }],
  middleware: [requireUser, readSession] as const,
  parameters: [bookmarkParameter],
  request: { query: transactionListQuery },
  responses: {
    200: { ...jsonContent(listOf(transactionSchema), "A page of transactions"), headers: bookmarkResponseHeaders },
    400: errorResponses[400],
    401: errorResponses[401],
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/transactions/{id}",
  tags: ["Transactions"],
  summary: "One transaction",
  security: [{ bearerAuth: [] }],
  middleware: [requireUser, readSession] as const,
  parameters: [bookmarkParameter],
  request: { params: idParams },
  responses: {
    200: { ...jsonContent(dataOf(transactionSchema), "The transaction"), headers: bookmarkResponseHeaders },
    401: errorResponses[401],
    404: errorResponses[404],
  },
});

export const transactionRoutes = createRouter()
  .openapi(listRoute, async (c) => {
    const query = c.req.valid("query");
    const { data, nextCursor } = await listTransactions(c.var.services, c.var.user.id, {
      accountId: query.account_id,
      itemId: query.item_id,
      categoryId: query.category_id,
      dateFrom: query.date_from,
      dateTo: query.date_to,
      search: query.search,
      limit: query.limit,
      cursor: query.cursor,
    });
    return c.json({ data, next_cursor: nextCursor }, 200);
  })
  .openapi(getRoute, async (c) => {
    const transaction = await getTransaction(c.var.services, c.var.user.id, c.req.valid("param").id);
    if (!transaction) throw notFound("transaction");
    return c.json({ data: transaction }, 200);
  });
