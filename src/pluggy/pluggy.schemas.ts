import { z } from "zod";

/*
 * Pluggy's wire shapes (as Pluggy's official Node SDK, pluggy-sdk, types them; docs/pluggy.md). Pluggy adds fields over time, so every
 * object schema is loose: unknown fields are accepted and ignored. Only what we use is declared.
 */

const isoInstant = z.string().min(1);

export const pluggyErrorBody = z.looseObject({
  code: z.number().optional(),
  codeDescription: z.string().optional(),
  message: z.string().optional(),
});

export const pluggyAuthResponse = z.looseObject({ apiKey: z.string().min(1) });

export const pluggyConnectTokenResponse = z.looseObject({ accessToken: z.string().min(1) });

export const pluggyConnector = z.looseObject({
  id: z.number(),
  name: z.string(),
  imageUrl: z.string().nullish(),
  type: z.string().nullish(),
  country: z.string().nullish(),
  isSandbox: z.boolean().nullish(),
});

export const pluggyItem = z.looseObject({
  id: z.string().min(1),
  connector: pluggyConnector,
  status: z.string(),
  executionStatus: z.string().nullish(),
  error: z.looseObject({ code: z.string(), message: z.string().nullish() }).nullish(),
  createdAt: isoInstant,
  updatedAt: isoInstant.nullish(),
  lastUpdatedAt: isoInstant.nullish(),
  clientUserId: z.string().nullish(),
  webhookUrl: z.string().nullish(),
  nextAutoSyncAt: isoInstant.nullish(),
});
export type PluggyItem = z.infer<typeof pluggyItem>;

export const pluggyAccount = z.looseObject({
  id: z.string().min(1),
  itemId: z.string().min(1),
  type: z.string(),
  subtype: z.string().nullish(),
  number: z.string().nullish(),
  name: z.string().nullish(),
  marketingName: z.string().nullish(),
  balance: z.number().nullish(),
  currencyCode: z.string().nullish(),
});
export type PluggyAccount = z.infer<typeof pluggyAccount>;

export const pluggyTransaction = z.looseObject({
  id: z.string().min(1),
  accountId: z.string().min(1),
  date: isoInstant,
  description: z.string().nullish(),
  descriptionRaw: z.string().nullish(),
  type: z.enum(["DEBIT", "CREDIT"]),
  amount: z.number(),
  currencyCode: z.string().nullish(),
  category: z.string().nullish(),
  categoryId: z.string().nullish(),
  status: z.enum(["PENDING", "POSTED"]).nullish(),
  createdAt: isoInstant.nullish(),
  updatedAt: isoInstant.nullish(),
});
export type PluggyTransaction = z.infer<typeof pluggyTransaction>;

export const pluggyCategory = z.looseObject({
  id: z.string().min(1),
  description: z.string(),
  descriptionTranslated: z.string().nullish(),
  parentId: z.string().nullish(),
  parentDescription: z.string().nullish(),
});
export type PluggyCategory = z.infer<typeof pluggyCategory>;

export const pluggyWebhook = z.looseObject({
  id: z.string().min(1),
  url: z.string(),
  event: z.string(),
  createdAt: isoInstant.nullish(),
  updatedAt: isoInstant.nullish(),
  disabledAt: isoInstant.nullish(),
});
export type PluggyWebhook = z.infer<typeof pluggyWebhook>;

/** v1 page envelope (`GET /accounts`, `GET /categories`, `GET /webhooks`). */
export const pageOf = <T extends z.ZodType>(schema: T) =>
  z.looseObject({ results: z.array(schema), page: z.number().optional(), total: z.number().optional(), totalPages: z.number().optional() });

/** v2 cursor envelope (`GET /v2/transactions`). */
export const cursorPageOf = <T extends z.ZodType>(schema: T) =>
  z.looseObject({ results: z.array(schema), next: z.string().nullish() });
