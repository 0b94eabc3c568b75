import { z } from "@hono/zod-openapi";
import { CATEGORY_SYNC_STATUSES } from "../ledger/ledger.schema.ts";

/*
 * Request and response shapes of this domain (the user's PATCH and the admin API), defined once for
 * validation, handler types and the OpenAPI document.
 */

const uuid = z.uuid();
const isoInstant = z.string().openapi({ example: "2026-11-29T12:00:00.000Z" });
const pluggyCategoryIdSchema = z
  .string()
  .regex(/^\d{8}$/, "must be Pluggy's 8-digit category id")
  .openapi({ example: "05080000", description: "Pluggy's 8-digit category id" });

/** `PATCH /api/banking/transactions/{id}/` — only `category`; anything else is a 400 naming it. */
export const transactionCategoryBody = z
  .object({
    category: uuid.nullable().openapi({ description: "A category uuid, or null to clear the category", example: "00000000-0000-4000-8000-000000000008" }),
  })
  .strict()
  .openapi("TransactionCategoryChange");

export const categoryIdParams = z.object({ id: uuid.openapi({ param: { name: "id", in: "path" } }) });
export const mappingParams = z.object({ category_id: uuid.openapi({ param: { name: "category_id", in: "path" } }) });
export const jobIdParams = z.object({ id: z.string().min(1).max(128).openapi({ param: { name: "id", in: "path" } }) });

const categoryName = z.string().trim().min(1).max(100);

export const createCategoryBody = z
  .object({ name: categoryName, parent_id: uuid.nullable().optional() })
  .strict()
  .openapi("CategoryCreate");

export const updateCategoryBody = z
  .object({ name: categoryName.optional(), parent_id: uuid.nullable().optional() })
  .strict()
  .refine((b) => b.name !== undefined || b.parent_id !== undefined, { message: "give name and/or parent_id", path: ["name"] })
  .openapi("CategoryUpdate");

export const noQuery = z.object({}).strict();

export const pluggyCategoriesQuery = z
  .object({
    refresh: z
      .enum(["true", "false"])
      .optional()
      .openapi({ description: "`true` fetches Pluggy's tree now instead of using the cached copy (refreshed daily)" }),
  })
  .strict();

export const pluggyCategorySchema = z
  .object({
    id: pluggyCategoryIdSchema,
    description: z.string(),
    description_translated: z.string().nullable(),
    parent_id: z.string().nullable(),
    parent_description: z.string().nullable(),
    fetched_at: isoInstant,
  })
  .openapi("PluggyCategory");

export const categoryMappingSchema = z
  .object({
    category_id: z.string(),
    category_name: z.string(),
    parent_id: z.string().nullable(),
    pluggy_category_id: z.string().nullable(),
    pluggy_category_name: z.string().nullable(),
    updated_at: isoInstant.nullable().openapi({ description: "When the mapping was last set (null: not mapped)" }),
  })
  .openapi("CategoryMapping");

export const putMappingBody = z.object({ pluggy_category_id: pluggyCategoryIdSchema }).strict().openapi("CategoryMappingSet");

export const importResultSchema = z
  .object({
    total: z.number().int().openapi({ description: "Categories in Pluggy's tree" }),
    created: z.number().int().openapi({ description: "Local categories created, each mapped 1:1" }),
    existing: z.number().int().openapi({ description: "Pluggy categories a local category already mapped to (left alone)" }),
  })
  .openapi("CategoryImportResult");

export const categorySyncJobSchema = z
  .object({
    id: z.string(),
    user_id: z.string().openapi({ description: "Whose ledger holds the job (the transaction's owner)" }),
    transaction_id: z.string(),
    pluggy_transaction_id: z.string(),
    pluggy_category_id: z.string().nullable(),
    status: z.enum(CATEGORY_SYNC_STATUSES),
    attempts: z.number().int(),
    last_error: z.string().nullable(),
    created_at: isoInstant,
    updated_at: isoInstant,
  })
  .openapi("CategorySyncJob");

const userIdFilter = z
  .string()
  .min(1)
  .max(128)
  .openapi({ description: "One user's jobs (any status), from that user's ledger" });

export const categorySyncListQuery = z
  .object({
    status: z.enum(CATEGORY_SYNC_STATUSES).optional().openapi({
      description: "Without `user_id` only `failed`, `dead` and `pending` (pending for more than 10 minutes); any other status needs `user_id`",
    }),
    user_id: userIdFilter.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50).openapi({ example: 50 }),
    cursor: z.string().min(1).max(512).optional().openapi({ description: "The `next_cursor` of the previous page (of the same query)" }),
  })
  .strict();

export const retryQuery = z
  .object({
    user_id: userIdFilter.optional().openapi({ description: "The job's owner: needed for a job that is not failed, dead or long pending" }),
  })
  .strict();

export const redriveBody = z
  .object({
    status: z.enum(["dead", "failed"]),
    limit: z.number().int().min(1).max(1000).default(100).openapi({ description: "At most this many jobs (oldest first); default 100" }),
  })
  .strict()
  .openapi("CategorySyncRedrive");

export const queuedSchema = z.object({ queued: z.number().int() }).openapi("Queued");

export const metricsQuery = z.object({ window: z.enum(["24h", "7d", "30d"]).default("24h") }).strict();

const categorySyncCounts = z.object({
  succeeded: z.number().int(),
  failed: z.number().int(),
  dead: z.number().int(),
  skipped: z.number().int(),
});
const webhookCounts = z.object({
  accepted: z.number().int(),
  unsigned: z.number().int().openapi({
    description: "Accepted events whose delivery had no X-Pluggy-Signature, only the right X-Webhook-Token (a subset of `accepted`; the signature rollout)",
  }),
  duplicate: z.number().int(),
  rejected: z.number().int(),
  processed: z.number().int(),
  failed: z.number().int(),
  dead: z.number().int(),
});
const reconciliationCounts = z.object({
  runs: z.number().int(),
  items: z.number().int(),
  added: z.number().int(),
  updated: z.number().int(),
  removed: z.number().int(),
});

export const metricsSchema = z
  .object({
    window: z.enum(["24h", "7d", "30d"]),
    category_sync: categorySyncCounts.extend({
      pending: z.number().int().openapi({ description: "Jobs pending right now (not windowed)" }),
      success_rate: z.number().nullable().openapi({ description: "succeeded / (succeeded + failed + dead); null when none finished" }),
    }),
    webhooks: webhookCounts,
    reconciliation: reconciliationCounts,
    series: z
      .array(
        z.object({
          bucket: isoInstant.openapi({ description: "Start of the hour (24h) or UTC day (7d, 30d)" }),
          category_sync: categorySyncCounts,
          webhooks: webhookCounts,
          reconciliation: reconciliationCounts,
        }),
      )
      .openapi({ description: "Oldest first, one entry per bucket (zero-filled); sums to the totals" }),
  })
  .openapi("Metrics");
export type MetricsDto = z.infer<typeof metricsSchema>;
