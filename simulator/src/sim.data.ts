import { PLUGGY_CATEGORIES } from "./pluggy-categories.ts";
import type { SimConnector, SimCredential } from "./sim.connectors.ts";

/*
 * Pluggy's wire shapes as the simulator serves them, and a deterministic generator of realistic
 * Brazilian accounts and transactions (a seeded PRNG, so the same seed always yields the same data).
 */

export { connectorFor, type SimConnector, type SimCredential } from "./sim.connectors.ts";

export interface SimItemError {
  code: string;
  message: string;
  providerMessage?: string;
}

export interface SimItem {
  id: string;
  connector: SimConnector;
  status: string;
  statusDetail: null;
  error: SimItemError | null;
  executionStatus: string;
  createdAt: string;
  updatedAt: string;
  lastUpdatedAt: string | null;
  /** The MFA input a 2-step login waits for (status WAITING_USER_INPUT), else null. */
  parameter: SimCredential | null;
  webhookUrl: string | null;
  clientUserId: string | null;
  userAction: null;
  consecutiveFailedLoginAttempts: number;
  nextAutoSyncAt: string | null;
  consentExpiresAt: string | null;
  products: string[];
}

export interface SimAccount {
  id: string;
  itemId: string;
  type: "BANK" | "CREDIT";
  subtype: "CHECKING_ACCOUNT" | "SAVINGS_ACCOUNT" | "CREDIT_CARD";
  number: string;
  name: string;
  marketingName: string | null;
  balance: number;
  currencyCode: string;
  owner: string | null;
  taxNumber: string | null;
  bankData: Record<string, unknown> | null;
  creditData: Record<string, unknown> | null;
}

export interface SimTransaction {
  id: string;
  accountId: string;
  date: string;
  description: string;
  descriptionRaw: string | null;
  currencyCode: string;
  amount: number;
  amountInAccountCurrency: number | null;
  balance: number | null;
  category: string | null;
  categoryId: string | null;
  providerCode: string | null;
  providerId: string | null;
  status: "POSTED" | "PENDING";
  type: "DEBIT" | "CREDIT";
  operationType: string | null;
  operationTypeAdditionalInfo: string | null;
  paymentData: Record<string, unknown> | null;
  creditCardMetadata: Record<string, unknown> | null;
  merchant: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
}

const CATEGORY_BY_ID = new Map(PLUGGY_CATEGORIES.map((category) => [category.id, category]));

export const isKnownCategory = (id: string): boolean => CATEGORY_BY_ID.has(id);
export const categoryDescription = (id: string | null): string | null => (id ? (CATEGORY_BY_ID.get(id)?.description ?? null) : null);

/** mulberry32: small, fast, deterministic. */
export function seededRandom(seed: string): () => number {
  let state = 2166136261;
  for (let i = 0; i < seed.length; i++) state = Math.imul(state ^ seed.charCodeAt(i), 16777619);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A v4-shaped uuid from the PRNG (deterministic ids for the seeded sandbox). */
export function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = "4";
  hex[16] = ((Math.floor(random() * 4) + 8) as number).toString(16);
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

const pick = <T>(random: () => number, values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
const between = (random: () => number, min: number, max: number): number => Math.round((min + random() * (max - min)) * 100);
const digits = (random: () => number, n: number): string => Array.from({ length: n }, () => Math.floor(random() * 10)).join("");
const money = (cents: number): number => Math.round(cents) / 100;

const PEOPLE = ["JOAO SILVA", "MARIA OLIVEIRA", "ANA SOUZA", "CARLOS PEREIRA", "FERNANDA LIMA", "PEDRO SANTOS", "JULIANA COSTA", "RAFAEL ALMEIDA", "LUCAS RIBEIRO", "BEATRIZ CARVALHO"];
const EMPLOYERS = ["ACME TECNOLOGIA LTDA", "CONSTRUTORA HORIZONTE SA", "LOJAS BRASIL COMERCIO LTDA"];

interface Template {
  /** Description; `{p}` = a person, `{n}` = 4 digits. */
  text: string;
  categoryId: string;
  min: number;
  max: number;
  type: "DEBIT" | "CREDIT";
  operationType?: string;
  merchant?: { name: string; businessName: string; cnpj: string; category: string };
  installments?: boolean;
  weight: number;
}

const BANK_TEMPLATES: Template[] = [
  { text: "PIX ENVIADO {p}", categoryId: "05070000", min: 15, max: 600, type: "DEBIT", operationType: "PIX", weight: 8 },
  { text: "PIX RECEBIDO {p}", categoryId: "05070000", min: 20, max: 900, type: "CREDIT", operationType: "PIX", weight: 5 },
  { text: "TED ENVIADA {p}", categoryId: "05080000", min: 200, max: 2500, type: "DEBIT", operationType: "TED", weight: 1 },
  { text: "TED RECEBIDA {p}", categoryId: "05080000", min: 200, max: 3000, type: "CREDIT", operationType: "TED", weight: 1 },
  { text: "PAG BOLETO ENEL DISTRIBUICAO SP", categoryId: "17020002", min: 120, max: 380, type: "DEBIT", operationType: "BOLETO", weight: 1 },
  { text: "PAG BOLETO SABESP", categoryId: "17020001", min: 60, max: 190, type: "DEBIT", operationType: "BOLETO", weight: 1 },
  { text: "DEBITO AUT VIVO FIBRA", categoryId: "07010001", min: 99.9, max: 129.9, type: "DEBIT", weight: 1 },
  { text: "TARIFA PACOTE DE SERVICOS", categoryId: "16010000", min: 32.9, max: 49.9, type: "DEBIT", weight: 1 },
  { text: "SAQUE BANCO24HORAS {n}", categoryId: "05020000", min: 50, max: 400, type: "DEBIT", weight: 1 },
  { text: "PAGAMENTO FATURA CARTAO", categoryId: "05100000", min: 900, max: 4200, type: "DEBIT", operationType: "PAGAMENTO", weight: 1 },
  { text: "REND PAGO APLIC AUT MAIS", categoryId: "03060000", min: 0.5, max: 35, type: "CREDIT", weight: 2 },
  { text: "APLICACAO CDB DI", categoryId: "03020000", min: 200, max: 1500, type: "DEBIT", weight: 1 },
  { text: "DROGASIL {n} SAO PAULO", categoryId: "18020000", min: 18, max: 160, type: "DEBIT", operationType: "CARTAO", weight: 2 },
  { text: "SUPERMERCADO DIA {n}", categoryId: "10000000", min: 25, max: 280, type: "DEBIT", operationType: "CARTAO", weight: 3 },
  { text: "IOF ADICIONAL", categoryId: "15030000", min: 0.3, max: 6, type: "DEBIT", weight: 1 },
];

const m = (name: string, businessName: string, category: string) => ({ name, businessName, cnpj: "", category });

const CARD_TEMPLATES: Template[] = [
  { text: "IFOOD *IFOOD", categoryId: "11020000", min: 28, max: 140, type: "DEBIT", merchant: m("iFood", "IFOOD.COM AGENCIA DE RESTAURANTES ONLINE S.A.", "Restaurantes"), weight: 6 },
  { text: "UBER *TRIP HELP.UBER.COM", categoryId: "19010000", min: 9, max: 75, type: "DEBIT", merchant: m("Uber", "UBER DO BRASIL TECNOLOGIA LTDA", "Transporte"), weight: 5 },
  { text: "99APP *99APP", categoryId: "19010000", min: 8, max: 60, type: "DEBIT", merchant: m("99", "99 TECNOLOGIA LTDA", "Transporte"), weight: 2 },
  { text: "NETFLIX.COM", categoryId: "09020000", min: 44.9, max: 59.9, type: "DEBIT", merchant: m("Netflix", "NETFLIX ENTRETENIMENTO BRASIL LTDA", "Streaming"), weight: 1 },
  { text: "SPOTIFY", categoryId: "09030000", min: 21.9, max: 34.9, type: "DEBIT", merchant: m("Spotify", "SPOTIFY BRASIL SERVICOS DE MUSICA LTDA", "Streaming"), weight: 1 },
  { text: "AMAZON MARKETPLACE", categoryId: "08010000", min: 30, max: 650, type: "DEBIT", installments: true, merchant: m("Amazon", "AMAZON SERVICOS DE VAREJO DO BRASIL LTDA", "Compras online"), weight: 3 },
  { text: "MERCADOLIVRE*LOJA{n}", categoryId: "08010000", min: 25, max: 900, type: "DEBIT", installments: true, merchant: m("Mercado Livre", "EBAZAR.COM.BR LTDA", "Compras online"), weight: 3 },
  { text: "PAO DE ACUCAR-{n}", categoryId: "10000000", min: 35, max: 520, type: "DEBIT", merchant: m("Pão de Açúcar", "COMPANHIA BRASILEIRA DE DISTRIBUICAO", "Supermercado"), weight: 4 },
  { text: "CARREFOUR HIPER {n}", categoryId: "10000000", min: 60, max: 780, type: "DEBIT", merchant: m("Carrefour", "CARREFOUR COMERCIO E INDUSTRIA LTDA", "Supermercado"), weight: 2 },
  { text: "POSTO IPIRANGA {n}", categoryId: "19050001", min: 80, max: 320, type: "DEBIT", merchant: m("Ipiranga", "IPIRANGA PRODUTOS DE PETROLEO S.A.", "Combustível"), weight: 2 },
  { text: "OUTBACK STEAKHOUSE", categoryId: "11010000", min: 120, max: 420, type: "DEBIT", merchant: m("Outback", "BLOOMIN BRANDS BRASIL LTDA", "Restaurantes"), weight: 1 },
  { text: "RESTAURANTE SABOR CASEIRO", categoryId: "11010000", min: 25, max: 90, type: "DEBIT", weight: 3 },
  { text: "DROGA RAIA {n}", categoryId: "18020000", min: 15, max: 210, type: "DEBIT", merchant: m("Droga Raia", "RAIA DROGASIL S/A", "Farmácia"), weight: 2 },
  { text: "SMARTFIT MENSALIDADE", categoryId: "07030001", min: 119.9, max: 149.9, type: "DEBIT", merchant: m("Smart Fit", "SMARTFIT ESCOLA DE GINASTICA E DANCA S.A.", "Academia"), weight: 1 },
  { text: "LATAM AIRLINES BRASIL", categoryId: "12010000", min: 380, max: 2400, type: "DEBIT", installments: true, merchant: m("LATAM", "TAM LINHAS AEREAS S/A", "Viagens"), weight: 1 },
  { text: "ZARA BRASIL {n}", categoryId: "08040000", min: 90, max: 600, type: "DEBIT", installments: true, merchant: m("Zara", "ZARA BRASIL LTDA", "Vestuário"), weight: 1 },
  { text: "STEAMGAMES.COM", categoryId: "09010000", min: 20, max: 250, type: "DEBIT", weight: 1 },
  { text: "ESTORNO COMPRA MERCADOLIVRE", categoryId: "08010000", min: 25, max: 300, type: "CREDIT", weight: 1 },
];

function weighted(random: () => number, templates: readonly Template[]): Template {
  const total = templates.reduce((sum, template) => sum + template.weight, 0);
  let roll = random() * total;
  for (const template of templates) {
    roll -= template.weight;
    if (roll < 0) return template;
  }
  return templates[templates.length - 1] as Template;
}

const isoDay = (ms: number): string => `${new Date(ms).toISOString().slice(0, 10)}T00:00:00.000Z`;
const DAY_MS = 86_400_000;

/** The accounts a new item gets: checking, credit card, then savings/extra cards alternating. */
export function makeAccounts(random: () => number, itemId: string, count: number): SimAccount[] {
  const accounts: SimAccount[] = [];
  for (let index = 0; index < count; index++) {
    const id = uuidFrom(random);
    if (index % 2 === 0) {
      const savings = index > 0;
      accounts.push({
        id,
        itemId,
        type: "BANK",
        subtype: savings ? "SAVINGS_ACCOUNT" : "CHECKING_ACCOUNT",
        number: `${digits(random, 4)}/${digits(random, 5)}-${digits(random, 1)}`,
        name: savings ? "Conta Poupança" : "Conta Corrente",
        marketingName: savings ? "Poupança" : "Conta Corrente Pessoa Física",
        balance: money(between(random, 800, 15_000)),
        currencyCode: "BRL",
        owner: "JOSE DA SILVA",
        taxNumber: "123.456.789-00",
        bankData: { transferNumber: `0001/${digits(random, 6)}`, closingBalance: null, automaticallyInvestedBalance: money(between(random, 0, 5000)), overdraftContractedLimit: 2000, overdraftUsedLimit: 0, unarrangedOverdraftAmount: null, hasReservedBalance: false, reservedBalances: null },
        creditData: null,
      });
    } else {
      const limit = money(between(random, 3000, 25_000));
      accounts.push({
        id,
        itemId,
        type: "CREDIT",
        subtype: "CREDIT_CARD",
        number: digits(random, 4),
        name: pick(random, ["Mastercard Black", "Visa Platinum", "Elo Grafite"]),
        marketingName: pick(random, ["Cartão Ultravioleta", "Cartão Platinum", "Cartão Gold"]),
        balance: money(between(random, 300, 4500)),
        currencyCode: "BRL",
        owner: "JOSE DA SILVA",
        taxNumber: "123.456.789-00",
        bankData: null,
        creditData: { level: "BLACK", brand: "MASTERCARD", balanceCloseDate: null, balanceDueDate: null, availableCreditLimit: limit, balanceForeignCurrency: null, creditLimit: limit, minimumPayment: null, isLimitFlexible: false, status: "ACTIVE", holderType: "MAIN" },
      });
    }
  }
  return accounts;
}

export interface TransactionOptions {
  /** Spread over the `days` days before `untilMs` (inclusive). */
  untilMs: number;
  days: number;
  createdAt: string;
}

/** `count` realistic transactions for `account`, oldest first; bank accounts get monthly salary and rent. */
export function makeTransactions(random: () => number, account: SimAccount, count: number, options: TransactionOptions): SimTransaction[] {
  const card = account.type === "CREDIT";
  const out: SimTransaction[] = [];
  for (let i = 0; i < count; i++) {
    const dayOffset = Math.floor(random() * Math.max(1, options.days));
    const date = isoDay(options.untilMs - dayOffset * DAY_MS);
    const monthly = !card && i % 25 === 0;
    const template: Template = monthly
      ? i % 50 === 0
        ? { text: `SALARIO ${pick(random, EMPLOYERS)}`, categoryId: "01010000", min: 6500, max: 9800, type: "CREDIT", operationType: "TED", weight: 0 }
        : { text: "ALUGUEL APTO 42 IMOBILIARIA LAR", categoryId: "17010000", min: 2200, max: 2200, type: "DEBIT", operationType: "BOLETO", weight: 0 }
      : weighted(random, card ? CARD_TEMPLATES : BANK_TEMPLATES);
    out.push(buildTransaction(random, account, template, date, options.createdAt, dayOffset < 2 && card));
  }
  return out.sort((a, b) => (a.date === b.date ? (a.id < b.id ? -1 : 1) : a.date < b.date ? -1 : 1));
}

function buildTransaction(random: () => number, account: SimAccount, template: Template, date: string, createdAt: string, pending: boolean): SimTransaction {
  const card = account.type === "CREDIT";
  const description = template.text.replace("{p}", pick(random, PEOPLE)).replace("{n}", digits(random, 4));
  const cents = between(random, template.min, template.max);
  // Pluggy's sign: bank debits are negative; card purchases are positive and card credits negative.
  const signed = card ? (template.type === "DEBIT" ? cents : -cents) : template.type === "DEBIT" ? -cents : cents;
  const installments = template.installments && random() < 0.3 ? 2 + Math.floor(random() * 9) : undefined;
  return {
    id: uuidFrom(random),
    accountId: account.id,
    date,
    description,
    descriptionRaw: null,
    currencyCode: "BRL",
    amount: money(signed),
    amountInAccountCurrency: null,
    balance: card ? null : money(between(random, 100, 12_000)),
    category: categoryDescription(template.categoryId),
    categoryId: template.categoryId,
    providerCode: null,
    providerId: null,
    status: pending ? "PENDING" : "POSTED",
    type: template.type,
    operationType: template.operationType ?? null,
    operationTypeAdditionalInfo: null,
    paymentData: null,
    // Pluggy leaves out the card metadata it does not have (the SDK types each field optional, never null).
    creditCardMetadata: card
      ? {
          ...(installments ? { installmentNumber: 1, totalInstallments: installments, totalAmount: money(cents * installments) } : {}),
          purchaseDate: date,
          cardNumber: account.number,
        }
      : null,
    merchant: template.merchant ? { ...template.merchant, cnpj: `${digits(random, 2)}.${digits(random, 3)}.${digits(random, 3)}/0001-${digits(random, 2)}` } : null,
    createdAt,
    updatedAt: createdAt,
  };
}

/** A transaction from a partial one (control API): realistic defaults for every missing field. */
export function completeTransaction(random: () => number, account: SimAccount, partial: Partial<SimTransaction>, nowIso: string): SimTransaction {
  const template = weighted(random, account.type === "CREDIT" ? CARD_TEMPLATES : BANK_TEMPLATES);
  const base = buildTransaction(random, account, template, isoDay(Date.parse(nowIso)), nowIso, false);
  const merged: SimTransaction = { ...base, ...partial, id: partial.id ?? base.id, accountId: account.id, createdAt: partial.createdAt ?? nowIso, updatedAt: partial.updatedAt ?? nowIso };
  if (partial.categoryId !== undefined && partial.category === undefined) merged.category = categoryDescription(partial.categoryId);
  if (partial.date && /^\d{4}-\d{2}-\d{2}$/.test(partial.date)) merged.date = `${partial.date}T00:00:00.000Z`;
  return merged;
}
