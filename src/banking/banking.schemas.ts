import { z } from "@hono/zod-openapi";
import { CATEGORY_SYNC_REASON_CODES } from "../category-sync/category-sync.reasons.ts";

/*
 * The user API's resource shapes (docs/http-api.md, "User banking API"), defined once: they document the responses in OpenAPI
 * and type the serializers that build them. Every field is present; unknown values are null.
 */

const uuid = z.uuid();
const isoInstant = z.string().openapi({ example: "2026-11-29T12:00:00.000Z" });
const money = z.string().regex(/^-?\d+\.\d{2}$/).openapi({ example: "-123.45", description: "Decimal string, two places" });

export const categoryRefSchema = z.object({ id: z.string(), name: z.string() }).openapi("CategoryRef");

export const categorySyncSchema = z
  .object({
    status: z.enum(["pending", "synced", "skipped", "failed", "dead"]),
    reason_code: z
      .enum(CATEGORY_SYNC_REASON_CODES)
      .nullable()
      .openapi({ description: "Why the change is skipped, failed or dead, as a stable code (null otherwise). Pluggy's own error text is only on the admin API." }),
    reason: z.string().nullable().openapi({ description: "The same reason as a short sentence (null when there is none)" }),
    attempts: z.number().int(),
    updated_at: isoInstant,
  })
  .openapi("CategorySync");

export const transactionSchema = z
  .object({
    id: uuid,
    pluggy_id: z.string().nullable(),
    account_id: z.string(),
    item_id: z.string().nullable(),
    date: z.string().openapi({ example: "2026-11-28" }),
    description: z.string(),
    amount: money,
    currency_code: z.string(),
    type: z.enum(["DEBIT", "CREDIT"]),
    status: z.enum(["POSTED", "PENDING"]),
    category: categoryRefSchema.nullable(),
    pluggy_category: categoryRefSchema.nullable(),
    category_sync: categorySyncSchema.nullable(),
    created_at: isoInstant,
    updated_at: isoInstant,
  })
  .openapi("Transaction");
export type TransactionDto = z.infer<typeof transactionSchema>;

export const categorySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    parent_id: z.string().nullable(),
    pluggy_category_id: z.string().nullable().openapi({ example: "05080000" }),
  })
  .openapi("Category");
export type CategoryDto = z.infer<typeof categorySchema>;

export const accountSchema = z
  .object({
    id: z.string(),
    pluggy_id: z.string(),
    item_id: z.string(),
    name: z.string().nullable(),
    type: z.string().nullable(),
    subtype: z.string().nullable(),
    number: z.string().nullable(),
    balance: money.nullable(),
    currency_code: z.string().nullable(),
    updated_at: isoInstant,
  })
  .openapi("Account");
export type AccountDto = z.infer<typeof accountSchema>;

export const itemSchema = z
  .object({
    id: z.string(),
    connector: z.object({ id: z.number().int().nullable(), name: z.string().nullable(), image_url: z.string().nullable() }),
    status: z.string().nullable(),
    execution_status: z.string().nullable(),
    error: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
    last_updated_at: isoInstant.nullable(),
    created_at: isoInstant,
  })
  .openapi("Item");
export type ItemDto = z.infer<typeof itemSchema>;

/** `limit`: 1..200, default 50 (query strings arrive as text). */
const LIMIT_MESSAGE = "must be a whole number from 1 to 200";
export const limitParam = z.coerce
  .number({ error: LIMIT_MESSAGE })
  .int(LIMIT_MESSAGE)
  .min(1, LIMIT_MESSAGE)
  .max(200, LIMIT_MESSAGE)
  .default(50).openapi({ param: { name: "limit", in: "query" }, example: 50 });

/** `cursor`: the opaque `next_cursor` of the previous page. */
export const cursorParam = z.string().min(1).max(512).optional().openapi({ description: "The `next_cursor` of the previous page" });

export const idParams = z.object({ id: z.string().min(1).max(128).openapi({ param: { name: "id", in: "path" } }) });
