/*
 * Runtime checks of what the official SDK hands its caller, written from the SDK's own TypeScript types
 * (pluggy-sdk 0.90.0) and tied to them at compile time: sdk-shapes.test.ts asserts that each schema's
 * output type IS the SDK type (toEqualTypeOf), so a field the SDK requires cannot be forgotten here and a
 * new SDK version that changes a type fails `npm run typecheck` until this file follows.
 *
 * Where Pluggy's real answers are known to differ from the SDK's types, the schema follows Pluggy and the
 * difference is part of the type (`AsServed…`), listed in KNOWN_TYPE_DIFFERENCES with the evidence.
 * Nested objects the simulator never serves (it sends null or an empty list) are `notServed`: accepted
 * when absent, refused when present, so serving one forces describing its shape here first.
 */
import {
  ACCOUNT_SUBTYPES,
  ACCOUNT_TYPES,
  CONNECTOR_TYPES,
  CREDENTIAL_TYPES,
  CREDIT_CARD_ACCOUNT_FEE_TYPES,
  CREDIT_CARD_ACCOUNT_OTHER_CREDIT_TYPES,
  CURRENCY_CODES,
  PRODUCT_TYPES,
  TRANSACTION_TYPES,
  TransactionStatus,
  WEBHOOK_EVENTS,
  type ConnectorHealthDetails,
  type DisaggregatedCreditLimit,
  type ExecutionErrorCode,
  type ExecutionStatus,
  type ItemProductsStatusDetail,
  type ItemStatus,
  type ReservedBalance,
  type Transaction,
  type TransactionMerchantData,
  type TransactionPaymentData,
  type UserAction,
} from "pluggy-sdk";
import { z } from "zod";

/** The SDK's own lists of these unions are not exported; sdk-shapes.test.ts checks these cover them exactly. */
export const ITEM_STATUSES = ["UPDATED", "UPDATING", "WAITING_USER_INPUT", "WAITING_USER_ACTION", "MERGING", "LOGIN_ERROR", "OUTDATED"] as const satisfies readonly ItemStatus[];
export const EXECUTION_STATUSES = [
  "CREATING", "CREATE_ERROR", "CREATED", "LOGIN_IN_PROGRESS", "WAITING_USER_INPUT", "WAITING_USER_ACTION", "LOGIN_MFA_IN_PROGRESS",
  "ACCOUNTS_IN_PROGRESS", "TRANSACTIONS_IN_PROGRESS", "PAYMENT_DATA_IN_PROGRESS", "CREDITCARDS_IN_PROGRESS", "INVESTMENTS_IN_PROGRESS",
  "INVESTMENTS_TRANSACTIONS_IN_PROGRESS", "IDENTITY_IN_PROGRESS", "LOANS_IN_PROGRESS", "ACCOUNT_STATEMENTS_IN_PROGRESS", "INVALID_CREDENTIALS",
  "ALREADY_LOGGED_IN", "UNEXPECTED_ERROR", "INVALID_CREDENTIALS_MFA", "SITE_NOT_AVAILABLE", "ACCOUNT_LOCKED", "ACCOUNT_CREDENTIALS_RESET",
  "CONNECTION_ERROR", "ACCOUNT_NEEDS_ACTION", "USER_AUTHORIZATION_PENDING", "USER_AUTHORIZATION_NOT_GRANTED", "USER_NOT_SUPPORTED",
  "USER_INPUT_TIMEOUT", "MERGE_ERROR", "ERROR", "SUCCESS", "PARTIAL_SUCCESS",
] as const satisfies readonly ExecutionStatus[];
export const EXECUTION_ERROR_CODES = [
  "INVALID_CREDENTIALS", "ALREADY_LOGGED_IN", "UNEXPECTED_ERROR", "INVALID_CREDENTIALS_MFA", "SITE_NOT_AVAILABLE", "ACCOUNT_LOCKED",
  "ACCOUNT_CREDENTIALS_RESET", "CONNECTION_ERROR", "ACCOUNT_NEEDS_ACTION", "USER_AUTHORIZATION_PENDING", "USER_AUTHORIZATION_NOT_GRANTED",
  "USER_NOT_SUPPORTED", "USER_INPUT_TIMEOUT",
] as const satisfies readonly ExecutionErrorCode[];

/** Where Pluggy's real answers differ from the SDK's types, and why we believe Pluggy. */
export const KNOWN_TYPE_DIFFERENCES = {
  "Transaction.balance": "typed `number`; Pluggy sends null (on credit-card transactions): a production Pluggy client had to make it optional",
  "Transaction.providerCode": "typed optional string; the SDK's own test fixtures (a Pluggy transaction as its authors wrote it) carry `providerCode: null`",
  "Transaction.paymentData": "typed optional object; the SDK's own test fixtures carry `paymentData: null`",
  "Transaction.merchant": "typed optional object; the SDK's own test fixtures carry `merchant: null`",
} as const;

/** The SDK's Transaction with KNOWN_TYPE_DIFFERENCES applied. */
export type AsServedTransaction = Flat<
  Omit<Transaction, "balance" | "providerCode" | "paymentData" | "merchant"> & {
    balance: number | null;
    providerCode?: string | null;
    paymentData?: TransactionPaymentData | null;
    merchant?: TransactionMerchantData | null;
  }
>;
type Flat<T> = { [K in keyof T]: T[K] };

/** A nested object the simulator never serves: fine when absent, refused when present. */
const notServed = <T>(what: string) =>
  z.custom<T>(() => false, { message: `${what}: the simulator serves none, so its shape is not checked yet; describe it in test-sdk/sdk-shapes.ts` });

/** The SDK turns every `YYYY-MM-DDTHH:mm:ss.sssZ` string into a Date: a field typed Date must arrive as one. */
const date = z.date();

/** A credential validation is a regular expression the Connect form applies: it must compile. */
const compiles = (pattern: string) => {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
};

/** One input a connector asks for (`Connector.credentials[]`), and the MFA input an item waits for (`Item.parameter`). */
export const connectorCredentialSchema = z.object({
  label: z.string().min(1),
  name: z.string().min(1),
  type: z.enum(CREDENTIAL_TYPES).optional(),
  mfa: z.boolean().optional(),
  data: z.string().optional(),
  assistiveText: z.string().optional(),
  options: z.array(z.object({ value: z.string(), label: z.string() })).optional(),
  validation: z.string().refine(compiles, "not a valid regular expression").optional(),
  validationMessage: z.string().optional(),
  placeholder: z.string().optional(),
  optional: z.boolean().optional(),
  instructions: z.string().optional(),
  expiresAt: date.optional(),
});

export const connectorSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  institutionUrl: z.string(),
  imageUrl: z.string(),
  primaryColor: z.string(),
  type: z.enum(CONNECTOR_TYPES),
  country: z.string(),
  credentials: z.array(connectorCredentialSchema),
  hasMFA: z.boolean(),
  oauth: z.boolean().optional(),
  oauthUrl: z.string().optional(),
  health: z.object({
    status: z.enum(["ONLINE", "OFFLINE", "UNSTABLE"]),
    stage: z.literal("BETA").nullable(),
    details: notServed<ConnectorHealthDetails>("Connector.health.details").optional(),
  }),
  isOpenFinance: z.boolean(),
  isSandbox: z.boolean(),
  supportsPaymentInitiation: z.boolean(),
  supportsScheduledPayments: z.boolean(),
  supportsSmartTransfers: z.boolean(),
  supportsAutomaticPix: z.boolean(),
  supportsBoletoManagement: z.boolean(),
  resetPasswordUrl: z.string().optional(),
  products: z.array(z.enum(PRODUCT_TYPES)),
  createdAt: date,
  updatedAt: date.optional(),
});

export const itemSchema = z.object({
  id: z.string().min(1),
  connector: connectorSchema,
  status: z.enum(ITEM_STATUSES),
  statusDetail: notServed<ItemProductsStatusDetail>("Item.statusDetail").nullable(),
  error: z
    .object({
      code: z.enum(EXECUTION_ERROR_CODES),
      message: z.string(),
      providerMessage: z.string().optional(),
      attributes: z.record(z.string(), z.string()).optional(),
    })
    .nullable(),
  executionStatus: z.enum(EXECUTION_STATUSES),
  createdAt: date,
  updatedAt: date,
  lastUpdatedAt: date.nullable(),
  parameter: connectorCredentialSchema.nullable(),
  webhookUrl: z.string().nullable(),
  clientUserId: z.string().nullable(),
  userAction: notServed<UserAction>("Item.userAction").nullable(),
  consecutiveFailedLoginAttempts: z.number().int(),
  nextAutoSyncAt: date.nullable(),
  consentExpiresAt: date.nullable(),
});

const currencyCode = z.enum(CURRENCY_CODES);

export const accountSchema = z.object({
  id: z.string().min(1),
  itemId: z.string().min(1),
  type: z.enum(ACCOUNT_TYPES),
  subtype: z.enum(ACCOUNT_SUBTYPES),
  number: z.string(),
  balance: z.number(),
  name: z.string(),
  marketingName: z.string().nullable(),
  owner: z.string().nullable(),
  taxNumber: z.string().nullable(),
  currencyCode,
  bankData: z
    .object({
      transferNumber: z.string().nullable(),
      closingBalance: z.number().nullable(),
      automaticallyInvestedBalance: z.number().nullable(),
      overdraftContractedLimit: z.number().nullable(),
      overdraftUsedLimit: z.number().nullable(),
      unarrangedOverdraftAmount: z.number().nullable(),
      hasReservedBalance: z.boolean().nullable(),
      reservedBalances: z.array(notServed<ReservedBalance>("Account.bankData.reservedBalances[]")).nullable(),
    })
    .nullable(),
  creditData: z
    .object({
      level: z.string().nullable(),
      brand: z.string().nullable(),
      brandAdditionalInfo: z.string().optional(),
      balanceCloseDate: date.nullable(),
      balanceDueDate: date.nullable(),
      availableCreditLimit: z.number().nullable(),
      balanceForeignCurrency: z.number().nullable(),
      minimumPayment: z.number().nullable(),
      creditLimit: z.number().nullable(),
      isLimitFlexible: z.boolean().nullable(),
      status: z.enum(["ACTIVE", "BLOCKED", "CANCELLED"]).nullable(),
      holderType: z.enum(["MAIN", "ADDITIONAL"]).nullable(),
      disaggregatedCreditLimits: z.array(notServed<DisaggregatedCreditLimit>("Account.creditData.disaggregatedCreditLimits[]")).optional(),
    })
    .nullable(),
});

export const transactionSchema = z.object({
  id: z.string().min(1),
  accountId: z.string().min(1),
  date,
  description: z.string(),
  descriptionRaw: z.string().nullable(),
  type: z.enum(TRANSACTION_TYPES),
  amount: z.number(),
  amountInAccountCurrency: z.number().nullable(),
  balance: z.number().nullable(),
  currencyCode,
  category: z.string().nullable(),
  status: z.enum(TransactionStatus).optional(),
  providerCode: z.string().nullable().optional(),
  paymentData: notServed<TransactionPaymentData>("Transaction.paymentData").nullable().optional(),
  creditCardMetadata: z
    .object({
      installmentNumber: z.number().int().optional(),
      totalInstallments: z.number().int().optional(),
      totalAmount: z.number().optional(),
      payeeMCC: z.number().int().optional(),
      purchaseDate: date.optional(),
      billId: z.string().optional(),
      cardNumber: z.string().optional(),
      feeType: z.enum(CREDIT_CARD_ACCOUNT_FEE_TYPES).optional(),
      feeTypeAdditionalInfo: z.string().optional(),
      otherCreditsType: z.enum(CREDIT_CARD_ACCOUNT_OTHER_CREDIT_TYPES).optional(),
      otherCreditsAdditionalInfo: z.string().optional(),
      billForecastDate: z.string().optional(),
    })
    .nullable(),
  merchant: z
    .object({ name: z.string(), businessName: z.string(), cnpj: z.string(), cnae: z.string().optional(), category: z.string().optional() })
    .nullable()
    .optional(),
  categoryId: z.string().nullable(),
  operationType: z.string().nullable(),
  operationTypeAdditionalInfo: z.string().nullable(),
  providerId: z.string().nullable(),
  createdAt: date,
  updatedAt: date,
});

export const categorySchema = z.object({
  id: z.string().regex(/^\d{8}$/),
  description: z.string().min(1),
  parentId: z.string().regex(/^\d{8}$/).optional(),
  parentDescription: z.string().optional(),
});

export const webhookSchema = z.object({
  id: z.string().min(1),
  url: z.string(),
  event: z.enum(WEBHOOK_EVENTS),
  createdAt: date,
  updatedAt: date,
  disabledAt: date.nullable(),
});

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ results: z.array(item), page: z.number().int().min(1), total: z.number().int().min(0), totalPages: z.number().int().min(0) });

export const cursorPageOf = <T extends z.ZodType>(item: T) => z.object({ results: z.array(item), next: z.string().nullable() });

/** Pluggy's error body, which the SDK rejects with. */
export const pluggyErrorSchema = z.object({ code: z.number().int(), codeDescription: z.string().optional(), message: z.string() });

/** Pluggy's refusal of item parameters that fail the connector's credential rules: one detail per parameter. */
export const connectorValidationErrorSchema = pluggyErrorSchema.extend({
  codeDescription: z.literal("CONNECTOR_VALIDATION_ERROR"),
  details: z.array(z.object({ code: z.string(), parameter: z.string().min(1), message: z.string().min(1) })).min(1),
});

/** Pluggy's refusal of a second item for the same user and connector (`avoidDuplicates`): the existing items' ids, no numeric code. */
export const duplicateItemsErrorSchema = z.object({ message: z.string().min(1), codeDescription: z.literal("ITEM_USER_ALREADY_EXISTS"), items: z.array(z.string().min(1)).min(1) });

/** Parses `value` with `schema` and throws one readable line per problem (path: message). */
export function expectShape<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 10).map((issue) => `  ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  throw new Error(`${what} does not have the shape pluggy-sdk's types promise:\n${problems.join("\n")}`);
}
