/*
 * The connectors the simulator knows, in the shape of pluggy-sdk's `Connector` type, and Pluggy's
 * `GET /connectors` filters. Pluggy's sandbox connectors (ids below 100, "Pluggy Bank ...") log in with
 * Pluggy's sandbox credentials (`user-ok` / `password-ok`, MFA token `123456`); the live-bank entries
 * are Open Finance (OAuth) connectors, which the local Connect page authorizes with one click.
 */

export const CONNECTOR_TYPES = ["PERSONAL_BANK", "BUSINESS_BANK", "INVOICE", "INVESTMENT", "TELECOMMUNICATION", "DIGITAL_ECONOMY", "PAYMENT_ACCOUNT", "OTHER"] as const;
export type SimConnectorType = (typeof CONNECTOR_TYPES)[number];

/** One input a connector asks for (pluggy-sdk `ConnectorCredential`); also an item's MFA `parameter`. */
export interface SimCredential {
  label: string;
  name: string;
  type?: "number" | "password" | "text" | "image" | "select" | "ethaddress" | "hcaptcha";
  mfa?: boolean;
  placeholder?: string;
  validation?: string;
  validationMessage?: string;
  optional?: boolean;
  instructions?: string;
  assistiveText?: string;
  /** ISO instant: submit the value before then. */
  expiresAt?: string;
}

export interface SimConnector {
  id: number;
  name: string;
  institutionUrl: string;
  imageUrl: string;
  primaryColor: string;
  type: SimConnectorType;
  country: string;
  credentials: SimCredential[];
  hasMFA: boolean;
  oauth: boolean;
  health: { status: "ONLINE" | "OFFLINE" | "UNSTABLE"; stage: "BETA" | null };
  isOpenFinance: boolean;
  isSandbox: boolean;
  supportsPaymentInitiation: boolean;
  supportsScheduledPayments: boolean;
  supportsSmartTransfers: boolean;
  supportsAutomaticPix: boolean;
  supportsBoletoManagement: boolean;
  products: string[];
  createdAt: string;
  updatedAt: string;
}

/** Pluggy's sandbox credentials (docs.pluggy.ai "Sandbox"). */
export const SANDBOX_USER_OK = "user-ok";
export const SANDBOX_PASSWORD_OK = "password-ok";
export const SANDBOX_MFA_TOKEN_OK = "123456";

const SANDBOX_CREDENTIALS: SimCredential[] = [
  { label: "User", name: "user", type: "text", placeholder: "user-ok", validation: "^user-.{2,50}$", validationMessage: 'The user must start with "user-"', optional: false },
  { label: "Password", name: "password", type: "password", placeholder: "password-ok", validation: "^.{6,20}$", validationMessage: "The password must have 6 to 20 characters", optional: false },
];

/** What a 2-step MFA connector asks for after the login (the item's `parameter` while WAITING_USER_INPUT). */
export function mfaParameter(expiresAt: string): SimCredential {
  return {
    label: "Token",
    name: "token",
    type: "number",
    mfa: true,
    placeholder: SANDBOX_MFA_TOKEN_OK,
    validation: "^\\d{6}$",
    validationMessage: "The token must have 6 digits",
    instructions: "Enter the 6-digit code your bank sent to your phone",
    expiresAt,
  };
}

const BANK_PRODUCTS = ["ACCOUNTS", "CREDIT_CARDS", "TRANSACTIONS", "PAYMENT_DATA", "IDENTITY"];
const SANDBOX_PRODUCTS = [...BANK_PRODUCTS, "INVESTMENTS", "INVESTMENTS_TRANSACTIONS", "LOANS"];

const base = {
  hasMFA: false,
  oauth: false,
  health: { status: "ONLINE" as const, stage: null },
  isOpenFinance: false,
  isSandbox: false,
  supportsPaymentInitiation: false,
  supportsScheduledPayments: false,
  supportsSmartTransfers: false,
  supportsAutomaticPix: false,
  supportsBoletoManagement: false,
  createdAt: "2020-09-07T00:08:06.588Z",
  updatedAt: "2026-10-01T00:00:00.000Z",
};

const sandbox = (id: number, name: string, type: SimConnectorType, country: string, extra: Partial<SimConnector> = {}): SimConnector => ({
  ...base,
  id,
  name,
  type,
  country,
  institutionUrl: "https://pluggy.ai",
  imageUrl: "https://cdn.pluggy.ai/assets/connector-icons/sandbox.svg",
  primaryColor: "ef294b",
  credentials: SANDBOX_CREDENTIALS,
  isSandbox: true,
  products: SANDBOX_PRODUCTS,
  ...extra,
});

const openFinanceBank = (id: number, name: string, primaryColor: string, institutionUrl: string): SimConnector => ({
  ...base,
  id,
  name,
  type: "PERSONAL_BANK",
  country: "BR",
  institutionUrl,
  imageUrl: `https://cdn.pluggy.ai/assets/connector-icons/${id}.svg`,
  primaryColor,
  credentials: [],
  oauth: true,
  isOpenFinance: true,
  supportsPaymentInitiation: true,
  products: BANK_PRODUCTS,
});

export const CONNECTORS: SimConnector[] = [
  sandbox(0, "Pluggy Bank", "PERSONAL_BANK", "BR"),
  sandbox(1, "Pluggy Bank Empresas", "BUSINESS_BANK", "BR"),
  sandbox(2, "Pluggy Bank Open Finance", "PERSONAL_BANK", "BR", { credentials: [], oauth: true, isOpenFinance: true, supportsPaymentInitiation: true, products: BANK_PRODUCTS }),
  sandbox(3, "Pluggy Bank MFA", "PERSONAL_BANK", "BR", { hasMFA: true }),
  sandbox(4, "Pluggy Investimentos", "INVESTMENT", "BR", { products: ["INVESTMENTS", "INVESTMENTS_TRANSACTIONS", "IDENTITY"] }),
  sandbox(5, "Pluggy Bank México", "PERSONAL_BANK", "MX"),
  openFinanceBank(201, "Itaú", "ec7000", "https://www.itau.com.br"),
  openFinanceBank(208, "Banco do Brasil", "fcfc30", "https://www.bb.com.br"),
  openFinanceBank(212, "Nubank", "820ad1", "https://nubank.com.br"),
];

/** A connector by id; unknown ids get a generic bank so any `connectorId` works in control-API tests. */
export function connectorFor(id: number): SimConnector {
  return findConnector(id) ?? { ...openFinanceBank(id, `Banco ${id}`, "333333", "https://example.com.br"), oauth: false, isOpenFinance: false, supportsPaymentInitiation: false };
}

export const findConnector = (id: number): SimConnector | undefined => CONNECTORS.find((connector) => connector.id === id);

const fold = (text: string) => text.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase();

export interface ConnectorFilters {
  name?: string;
  countries?: string[];
  types?: string[];
  /** Pluggy's default is false: sandbox connectors only when asked for. */
  sandbox?: boolean;
  isOpenFinance?: boolean;
  supportsPaymentInitiation?: boolean;
  supportsSmartTransfers?: boolean;
  supportsAutomaticPix?: boolean;
}

/** `GET /connectors` with Pluggy's filters (pluggy-sdk `ConnectorFilters`). */
export function filterConnectors(filters: ConnectorFilters): SimConnector[] {
  const name = filters.name ? fold(filters.name) : undefined;
  return CONNECTORS.filter(
    (connector) =>
      (filters.sandbox === true || !connector.isSandbox) &&
      (!name || fold(connector.name).includes(name)) &&
      (!filters.countries || filters.countries.includes(connector.country)) &&
      (!filters.types || filters.types.includes(connector.type)) &&
      (filters.isOpenFinance === undefined || connector.isOpenFinance === filters.isOpenFinance) &&
      (filters.supportsPaymentInitiation === undefined || connector.supportsPaymentInitiation === filters.supportsPaymentInitiation) &&
      (filters.supportsSmartTransfers === undefined || connector.supportsSmartTransfers === filters.supportsSmartTransfers) &&
      (filters.supportsAutomaticPix === undefined || connector.supportsAutomaticPix === filters.supportsAutomaticPix),
  );
}
