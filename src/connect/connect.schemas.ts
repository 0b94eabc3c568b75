import { z } from "@hono/zod-openapi";
import { ISO_COUNTRY_CODES } from "./iso-countries.ts";

/*
 * Request and response shapes of the connect endpoints: one schema per shape, used for
 * validation, handler types and the OpenAPI document.
 */

export const CONNECTOR_TYPES = ["PERSONAL_BANK", "BUSINESS_BANK", "INVOICE", "INVESTMENT", "TELECOMMUNICATION", "DIGITAL_ECONOMY", "PAYMENT_ACCOUNT", "OTHER"] as const;

export const PRODUCT_TYPES = [
  "ACCOUNTS",
  "CREDIT_CARDS",
  "TRANSACTIONS",
  "PAYMENT_DATA",
  "INVESTMENTS",
  "INVESTMENTS_TRANSACTIONS",
  "IDENTITY",
  "BROKERAGE_NOTE",
  "MOVE_SECURITY",
  "LOANS",
  "ACCOUNT_STATEMENTS",
] as const;

const MAX_CONNECTOR_IDS = 100;
const MAX_URL_LENGTH = 2048;
const LOCALHOST = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Pluggy item ids are uuids; case-insensitive 8-4-4-4-12 hex. */
export const pluggyItemId = z.guid().openapi({ example: "2f7ad1f4-0d38-4c1a-9d8b-2d1f3bb1c7e4", description: "Pluggy item id (uuid)" });

/** A non-empty array whose entries are all different. */
function uniqueArray<T extends z.ZodType>(entry: T, max: number) {
  return z
    .array(entry)
    .min(1, "must not be empty (omit the field instead)")
    .max(max)
    .refine((values) => new Set(values).size === values.length, { message: "must not contain duplicates" });
}

/** Absolute https URL (http only on localhost), no credentials, no fragment. Its origin is checked against ALLOWED_ORIGINS later. */
const redirectUri = z
  .string()
  .max(MAX_URL_LENGTH)
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: "custom", message: "must be an absolute URL" });
      return;
    }
    const local = LOCALHOST.has(url.hostname);
    if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) ctx.addIssue({ code: "custom", message: "must use https (http is allowed only on localhost)" });
    if (url.username || url.password) ctx.addIssue({ code: "custom", message: "must not contain credentials" });
    if (url.hash) ctx.addIssue({ code: "custom", message: "must not contain a fragment" });
  })
  .openapi({ example: "https://app.example.com/oauth/callback" });

export const connectTokenBody = z
  .object({
    item_id: pluggyItemId.optional().openapi({ description: "One of the caller's items: the widget opens in update mode for it" }),
    avoid_duplicates: z.boolean().optional().openapi({ description: "Ask Pluggy not to create a second item for the same credentials" }),
    country_codes: uniqueArray(
      z.string().refine((code) => ISO_COUNTRY_CODES.has(code), { message: "must be an upper-case ISO 3166-1 alpha-2 code" }),
      ISO_COUNTRY_CODES.size,
    )
      .optional()
      .openapi({ example: ["BR"] }),
    connector_types: uniqueArray(z.enum(CONNECTOR_TYPES), CONNECTOR_TYPES.length).optional().openapi({ example: ["PERSONAL_BANK"] }),
    // Pluggy's connector ids start at 0: Pluggy Bank, the sandbox connector, is 0.
    connector_ids: uniqueArray(z.number().int().nonnegative(), MAX_CONNECTOR_IDS)
      .optional()
      .openapi({ example: [201, 212], description: "Pluggy connector ids (0 is Pluggy Bank, the sandbox connector)" }),
    products_types: uniqueArray(z.enum(PRODUCT_TYPES), PRODUCT_TYPES.length).optional().openapi({ example: ["ACCOUNTS", "TRANSACTIONS"] }),
    oauth_redirect_uri: redirectUri.optional().openapi({ description: "Where the user lands after an Open Finance (OAuth) flow; its origin must be in ALLOWED_ORIGINS" }),
    include_sandbox: z.boolean().optional().openapi({ description: "Show Pluggy's sandbox connectors in the widget" }),
  })
  .strict()
  .openapi("ConnectTokenRequest");
export type ConnectTokenBody = z.infer<typeof connectTokenBody>;

export const widgetOptionsSchema = z
  .object({
    connectorTypes: z.array(z.enum(CONNECTOR_TYPES)).optional(),
    countries: z.array(z.string()).optional(),
    connectorIds: z.array(z.number().int()).optional(),
    products: z.array(z.enum(PRODUCT_TYPES)).optional(),
    includeSandbox: z.boolean().optional(),
    updateItem: z.string().optional(),
  })
  .openapi("ConnectWidgetOptions", { description: "Pluggy Connect widget props for what was asked (only those)" });
export type WidgetOptions = z.infer<typeof widgetOptionsSchema>;

export const connectTokenSchema = z
  .object({
    connect_token: z.string().openapi({ description: "Pluggy's accessToken for the Connect widget" }),
    connect_url: z.url().openapi({ example: "https://connect.pluggy.ai/?connect_token=eyJ...&countries=BR&connector_types=PERSONAL_BANK" }),
    expires_at: z.string().openapi({ example: "2026-11-29T12:30:00.000Z", description: "Now + 30 minutes (Pluggy's token lifetime)" }),
    widget_options: widgetOptionsSchema,
  })
  .openapi("ConnectToken");
export type ConnectTokenDto = z.infer<typeof connectTokenSchema>;

export const registerItemBody = z.object({ item_id: pluggyItemId }).strict().openapi("RegisterItemRequest");
