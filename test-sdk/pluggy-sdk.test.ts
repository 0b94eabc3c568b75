import { PluggyClient, type Connector, type ConnectorFilters, type Item } from "pluggy-sdk";
import { beforeAll, describe, expect, it } from "vitest";
import {
  accountSchema,
  categorySchema,
  connectorSchema,
  connectorValidationErrorSchema,
  cursorPageOf,
  duplicateItemsErrorSchema,
  expectShape,
  itemSchema,
  pageOf,
  pluggyErrorSchema,
  transactionSchema,
  webhookSchema,
} from "./sdk-shapes.ts";
import { createItem, rejection, sdkClient, settled, succeeds, type CreatedItem } from "./support.ts";

/*
 * Pluggy's official Node SDK (pluggy-sdk, pinned) against the simulator, the way a new user runs it:
 * PLUGGY_API_URL pointed at the simulator, the SDK's own HTTP stack, its own JSON parsing (ISO
 * timestamps → Date), and its rule that a POST/PATCH/DELETE answered anything but 200 failed. Every
 * answer is checked against the shape the SDK's TypeScript types promise (sdk-shapes.ts, tied to those
 * types at compile time). Test data comes from the simulator's control API; everything under test goes
 * through the SDK.
 */

/** Every SDK method this suite calls, by the test that covers it. */
const COVERED = [
  "createConnectToken",
  "fetchConnectors",
  "fetchConnector",
  "createItem",
  "updateItemMFA",
  "fetchItem",
  "updateItem",
  "deleteItem",
  "fetchAccounts",
  "fetchAccount",
  "fetchTransactions",
  "fetchTransactionsCursor",
  "fetchAllTransactions",
  "fetchTransaction",
  "updateTransactionCategory",
  "fetchCategories",
  "fetchCategory",
  "fetchWebhooks",
  "fetchWebhook",
  "createWebhook",
  "updateWebhook",
  "deleteWebhook",
] as const satisfies readonly (keyof PluggyClient)[];

const NOT_A_PRODUCT = "a Pluggy product this app does not use; the simulator does not model it";

/** Every other method of the SDK's client, and why the simulator does not answer it. Never skipped silently. */
const NOT_MODELLED: Record<Exclude<SdkMethod, (typeof COVERED)[number]>, string> = {
  validateParameters: "credential validation belongs to Pluggy Connect's widget, which the app never calls from the back end",
  fetchAccountStatements: NOT_A_PRODUCT,
  fetchInvestments: NOT_A_PRODUCT,
  fetchInvestment: NOT_A_PRODUCT,
  fetchInvestmentTransactions: NOT_A_PRODUCT,
  fetchAllInvestmentTransactions: NOT_A_PRODUCT,
  fetchLoans: NOT_A_PRODUCT,
  fetchLoan: NOT_A_PRODUCT,
  fetchConsents: NOT_A_PRODUCT,
  fetchConsent: NOT_A_PRODUCT,
  fetchIdentity: NOT_A_PRODUCT,
  fetchIdentityByItemId: NOT_A_PRODUCT,
  fetchCreditCardBills: NOT_A_PRODUCT,
  fetchCreditCardBill: NOT_A_PRODUCT,
};

/** `client.payments` (PluggyPaymentsClient): Pluggy's payment initiation, not used by this app. */
const NOT_MODELLED_CLIENTS = { payments: "payment initiation (PluggyPaymentsClient) is not part of this app; the simulator does not model it" };

/** The SDK client's public methods, as the compiler sees them (BaseApi's HTTP plumbing is protected). */
type SdkMethod = { [K in keyof PluggyClient]: PluggyClient[K] extends (...args: never[]) => unknown ? K : never }[keyof PluggyClient];

const uid = (prefix: string) => `${prefix}-${crypto.randomUUID()}`;

let client: PluggyClient;

beforeAll(() => {
  client = sdkClient();
});

describe("what the suite covers", () => {
  it("classifies every method of the SDK's client: covered here, or listed with the reason the simulator does not model it", () => {
    const own = Object.getOwnPropertyNames(PluggyClient.prototype).filter((name) => name !== "constructor");
    const classified = [...COVERED, ...Object.keys(NOT_MODELLED)];
    expect(own.filter((name) => !classified.includes(name)), "SDK methods neither covered nor listed").toEqual([]);
    expect(classified.filter((name) => !own.includes(name)), "listed methods the SDK does not have").toEqual([]);
    expect(Object.keys(client).filter((key) => typeof (client as unknown as Record<string, unknown>)[key] === "object" && key !== "defaultHeaders")).toEqual(Object.keys(NOT_MODELLED_CLIENTS));
  });
});

describe("connect tokens", () => {
  it("createConnectToken with every option answers 200 {accessToken}", async () => {
    const token = await succeeds("createConnectToken", client.createConnectToken(undefined, {
      clientUserId: uid("sdk-user"),
      webhookUrl: "https://app.example.com/api/banking/pluggy/webhook/",
      oauthRedirectUri: "https://app.example.com/connected",
      avoidDuplicates: true,
      connectorSortAlphabetically: true,
    }));
    expect(token).toEqual({ accessToken: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/) });
  });

  it("createConnectToken for an item (update mode), and a 404 body for an unknown item", async () => {
    const { item } = await createItem({ clientUserId: uid("sdk-user"), transactionsPerAccount: 1 });
    expect(await succeeds("createConnectToken(itemId)", client.createConnectToken(item.id))).toEqual({ accessToken: expect.any(String) });
    const refused = expectShape(pluggyErrorSchema, await rejection(client.createConnectToken(crypto.randomUUID())), "the SDK's rejection");
    expect(refused).toMatchObject({ code: 404, codeDescription: "ITEM_NOT_FOUND" });
  });
});

/** Pluggy's sandbox (the simulator's too): these credentials log in, and the MFA connector then asks for token 123456. */
const SANDBOX_OK = { user: "user-ok", password: "password-ok" };
const PLUGGY_BANK = 0;
const PLUGGY_BANK_EMPRESAS = 1;
const PLUGGY_BANK_MFA = 3;

describe("connectors", () => {
  it("fetchConnectors answers a page of Connectors (Dates parsed, credentials described); sandbox connectors only when asked, Pluggy Bank among them", async () => {
    const live = expectShape(pageOf(connectorSchema), await client.fetchConnectors(), "fetchConnectors");
    expect(live.results.length).toBeGreaterThan(0);
    expect(live).toMatchObject({ page: 1, total: live.results.length, totalPages: 1 });
    expect(live.results.filter((connector) => connector.isSandbox)).toEqual([]);

    const all = expectShape(pageOf(connectorSchema), await client.fetchConnectors({ sandbox: true }), "fetchConnectors({ sandbox: true })");
    expect(all).toMatchObject({ page: 1, total: all.results.length, totalPages: 1 });
    expect(all.results.filter((connector) => !connector.isSandbox)).toEqual(live.results);
    const bank = all.results.find((connector) => connector.id === PLUGGY_BANK);
    expect(bank).toMatchObject({ name: "Pluggy Bank", type: "PERSONAL_BANK", country: "BR", isSandbox: true, hasMFA: false });
    expect(bank?.createdAt).toBeInstanceOf(Date);
    expect(bank?.credentials.map(({ name, type, optional }) => ({ name, type, optional }))).toEqual([
      { name: "user", type: "text", optional: false },
      { name: "password", type: "password", optional: false },
    ]);
    expect(all.results.find((connector) => connector.id === PLUGGY_BANK_MFA)).toMatchObject({ name: "Pluggy Bank MFA", isSandbox: true, hasMFA: true });
  });

  it("fetchConnectors filters by countries, types, sandbox and name as the SDK sends them: exactly the matching connectors", async () => {
    const all = (await client.fetchConnectors({ sandbox: true })).results;
    const cases: Array<[ConnectorFilters, (connector: Connector) => boolean]> = [
      [{ sandbox: true, countries: ["BR"], types: ["PERSONAL_BANK"] }, (connector) => connector.country === "BR" && connector.type === "PERSONAL_BANK"],
      [{ sandbox: true, countries: ["BR", "MX"], types: ["BUSINESS_BANK", "PERSONAL_BANK"] }, (connector) => connector.type === "BUSINESS_BANK" || connector.type === "PERSONAL_BANK"],
      [{ sandbox: true, countries: ["MX"] }, (connector) => connector.country === "MX"],
      [{ sandbox: true, name: "Pluggy Bank" }, (connector) => connector.name.includes("Pluggy Bank")],
      [{ sandbox: true, isOpenFinance: true }, (connector) => connector.isOpenFinance],
      [{ countries: ["BR"], types: ["PERSONAL_BANK"] }, (connector) => !connector.isSandbox && connector.country === "BR" && connector.type === "PERSONAL_BANK"],
      [{ name: "Pluggy Bank" }, () => false],
    ];
    for (const [filters, matches] of cases) {
      const what = `fetchConnectors(${JSON.stringify(filters)})`;
      const page = expectShape(pageOf(connectorSchema), await client.fetchConnectors(filters), what);
      const expected = all.filter(matches).map((connector) => connector.id);
      expect(page.results.map((connector) => connector.id), what).toEqual(expected);
      expect(page, what).toMatchObject({ page: 1, total: expected.length, totalPages: expected.length > 0 ? 1 : 0 });
    }
    const brPersonal = (await client.fetchConnectors({ sandbox: true, countries: ["BR"], types: ["PERSONAL_BANK"] })).results.map((connector) => connector.id);
    expect(brPersonal).toEqual(expect.arrayContaining([PLUGGY_BANK, PLUGGY_BANK_MFA]));
    expect(brPersonal.length).toBeLessThan(all.length);
  });

  it("fetchConnector returns one Connector, equal to its list entry; an unknown id rejects with 404 CONNECTOR_NOT_FOUND", async () => {
    const listed = (await client.fetchConnectors({ sandbox: true })).results.find((connector) => connector.id === PLUGGY_BANK_MFA);
    const one = expectShape(connectorSchema, await client.fetchConnector(PLUGGY_BANK_MFA), "fetchConnector");
    expect(one).toEqual(listed);
    const missing = expectShape(pluggyErrorSchema, await rejection(client.fetchConnector(999_999)), "the SDK's rejection");
    expect(missing).toMatchObject({ code: 404, codeDescription: "CONNECTOR_NOT_FOUND" });
  });
});

describe("creating items with credentials (what Pluggy Connect does)", () => {
  it("createItem with sandbox credentials and clientUserId answers 200 with the Item logging in; fetchItem then sees it UPDATED, with accounts", async () => {
    const clientUserId = uid("sdk-user");
    const created = expectShape(itemSchema, await succeeds("createItem", client.createItem(PLUGGY_BANK, SANDBOX_OK, { clientUserId })), "createItem");
    expect(created).toMatchObject({ clientUserId, status: "UPDATING", executionStatus: "LOGIN_IN_PROGRESS", error: null, parameter: null, lastUpdatedAt: null, connector: { id: PLUGGY_BANK, name: "Pluggy Bank" } });
    expect(created.createdAt).toBeInstanceOf(Date);

    const item = expectShape(itemSchema, await settled(client, created.id), "fetchItem");
    expect(item).toMatchObject({ id: created.id, clientUserId, status: "UPDATED", executionStatus: "SUCCESS", error: null, parameter: null, consecutiveFailedLoginAttempts: 0 });
    expect(item.lastUpdatedAt).toBeInstanceOf(Date);
    const accounts = expectShape(pageOf(accountSchema), await client.fetchAccounts(item.id), "fetchAccounts");
    expect(accounts.results.length).toBeGreaterThan(0);
    expect(accounts.results.every((account) => account.itemId === item.id)).toBe(true);
  });

  it("a wrong password: createItem answers 200, the login ends LOGIN_ERROR with Pluggy's execution error; credentials breaking the connector's rules reject with 400 CONNECTOR_VALIDATION_ERROR", async () => {
    const created = await succeeds("createItem", client.createItem(PLUGGY_BANK, { user: "user-ok", password: "password-wrong" }, { clientUserId: uid("sdk-user") }));
    const failed = expectShape(itemSchema, await settled(client, created.id), "fetchItem");
    expect(failed).toMatchObject({
      status: "LOGIN_ERROR",
      executionStatus: "INVALID_CREDENTIALS",
      error: { code: "INVALID_CREDENTIALS", message: expect.stringMatching(/\S/) },
      parameter: null,
      consecutiveFailedLoginAttempts: 1,
    });

    const refused = expectShape(connectorValidationErrorSchema, await rejection(client.createItem(PLUGGY_BANK, { user: "maria" })), "the SDK's rejection");
    expect(refused.code).toBe(400);
    expect(refused.details.map((detail) => detail.parameter)).toEqual(["user", "password"]);
  });

  it("avoidDuplicates: a second item for the same user and connector rejects with ITEM_USER_ALREADY_EXISTS naming the first; another connector is allowed", async () => {
    const clientUserId = uid("sdk-user");
    const first = await succeeds("createItem", client.createItem(PLUGGY_BANK, SANDBOX_OK, { clientUserId, avoidDuplicates: true }));
    expect((await settled(client, first.id)).status).toBe("UPDATED");

    const refused = expectShape(duplicateItemsErrorSchema, await rejection(client.createItem(PLUGGY_BANK, SANDBOX_OK, { clientUserId, avoidDuplicates: true })), "the SDK's rejection");
    expect(refused.items).toEqual([first.id]);

    const other = expectShape(itemSchema, await succeeds("createItem", client.createItem(PLUGGY_BANK_EMPRESAS, SANDBOX_OK, { clientUserId, avoidDuplicates: true })), "createItem");
    expect(other).toMatchObject({ clientUserId, connector: { id: PLUGGY_BANK_EMPRESAS } });
  });

  it("updateItemMFA: the MFA connector's login waits (WAITING_USER_INPUT with the parameter the SDK types), the token finishes it UPDATED", async () => {
    const created = await succeeds("createItem", client.createItem(PLUGGY_BANK_MFA, SANDBOX_OK, { clientUserId: uid("sdk-user") }));
    const waiting = expectShape(itemSchema, await settled(client, created.id), "fetchItem");
    expect(waiting).toMatchObject({ status: "WAITING_USER_INPUT", executionStatus: "WAITING_USER_INPUT", error: null });
    const { parameter } = waiting;
    expect(parameter).toMatchObject({ name: "token", mfa: true, label: expect.stringMatching(/\S/) });
    expect(parameter?.expiresAt).toBeInstanceOf(Date);
    expect(parameter?.expiresAt?.getTime()).toBeGreaterThan(waiting.updatedAt.getTime());
    expect(new RegExp(parameter?.validation ?? "^$").test("123456"), "the parameter's validation accepts the sandbox token").toBe(true);

    const answered = expectShape(itemSchema, await succeeds("updateItemMFA", client.updateItemMFA(created.id, { [parameter?.name ?? "token"]: "123456" })), "updateItemMFA");
    expect(answered).toMatchObject({ id: created.id, status: "UPDATING", executionStatus: "LOGIN_MFA_IN_PROGRESS", parameter: null });
    const done = expectShape(itemSchema, await settled(client, created.id), "fetchItem");
    expect(done).toMatchObject({ status: "UPDATED", executionStatus: "SUCCESS", error: null, parameter: null });
    expect((await client.fetchAccounts(created.id)).results.length).toBeGreaterThan(0);

    const late = expectShape(pluggyErrorSchema, await rejection(client.updateItemMFA(created.id, { token: "123456" })), "the SDK's rejection");
    expect(late).toMatchObject({ code: 400, codeDescription: "ITEM_NOT_WAITING_USER_INPUT" });
  });
});

describe("items", () => {
  it("fetchItem returns an Item (Dates parsed, enums in range, connector complete)", async () => {
    const clientUserId = uid("sdk-user");
    const { item } = await createItem({ clientUserId, transactionsPerAccount: 1 });
    const fetched = expectShape(itemSchema, await client.fetchItem(item.id), "fetchItem");
    expect(fetched).toMatchObject({ id: item.id, clientUserId, status: "UPDATED", executionStatus: "SUCCESS", error: null });
    expect(fetched.createdAt).toBeInstanceOf(Date);
    expect(fetched.connector.createdAt).toBeInstanceOf(Date);
  });

  it("updateItem (PATCH) starts an update: 200 with the item UPDATING; a second one is refused with 409 ITEM_IS_ALREADY_UPDATING", async () => {
    const { item } = await createItem({ clientUserId: uid("sdk-user"), transactionsPerAccount: 1 });
    const updating: Item = expectShape(itemSchema, await succeeds("updateItem", client.updateItem(item.id)), "updateItem");
    expect(updating).toMatchObject({ id: item.id, status: "UPDATING", executionStatus: "CREATED" });
    const refused = expectShape(pluggyErrorSchema, await rejection(client.updateItem(item.id)), "the SDK's rejection");
    expect(refused).toMatchObject({ code: 409, codeDescription: "ITEM_IS_ALREADY_UPDATING" });
  });

  it("deleteItem answers 200, then fetchItem rejects with 404 ITEM_NOT_FOUND", async () => {
    const { item } = await createItem({ clientUserId: uid("sdk-user"), transactionsPerAccount: 1 });
    expect(await succeeds("deleteItem", client.deleteItem(item.id))).toBeUndefined();
    const gone = expectShape(pluggyErrorSchema, await rejection(client.fetchItem(item.id)), "the SDK's rejection");
    expect(gone).toMatchObject({ code: 404, codeDescription: "ITEM_NOT_FOUND" });
  });
});

describe("accounts", () => {
  it("fetchAccounts returns a page of Accounts, filtered by type; fetchAccount returns the same account", async () => {
    const { item, accounts } = await createItem({ clientUserId: uid("sdk-user"), accounts: 3, transactionsPerAccount: 1 });
    const page = expectShape(pageOf(accountSchema), await client.fetchAccounts(item.id), "fetchAccounts");
    expect(page).toMatchObject({ page: 1, total: 3, totalPages: 1 });
    expect(page.results.map((account) => account.id)).toEqual(accounts.map((account) => account.id));
    expect(page.results.map((account) => account.subtype)).toEqual(["CHECKING_ACCOUNT", "CREDIT_CARD", "SAVINGS_ACCOUNT"]);

    const cards = expectShape(pageOf(accountSchema), await client.fetchAccounts(item.id, "CREDIT"), "fetchAccounts(CREDIT)");
    expect(cards.results.map((account) => account.type)).toEqual(["CREDIT"]);

    const card = cards.results[0];
    expect(expectShape(accountSchema, await client.fetchAccount(card?.id ?? ""), "fetchAccount")).toEqual(card);
  });
});

describe("transactions", () => {
  let created: CreatedItem;
  let checking: string;
  let card: string;

  beforeAll(async () => {
    // More than one v2 page (500) in checking, so fetchAllTransactions has a `next` to follow.
    created = await createItem({ clientUserId: uid("sdk-user"), accounts: 2, transactionsPerAccount: 1_100 });
    checking = created.accounts.find((account) => account.type === "BANK")?.id ?? "";
    card = created.accounts.find((account) => account.type === "CREDIT")?.id ?? "";
  });

  it("fetchTransactionsCursor returns a v2 page of Transactions (Dates parsed) with a relative `next`", async () => {
    const page = expectShape(cursorPageOf(transactionSchema), await client.fetchTransactionsCursor(checking), "fetchTransactionsCursor");
    expect(page.results).toHaveLength(500);
    expect(page.next).toMatch(/^\/v2\/transactions\?accountId=[^&]+&after=[\w-]+$/);
    for (const transaction of page.results) {
      expect(transaction.accountId).toBe(checking);
      expect(transaction.date).toBeInstanceOf(Date);
      expect(transaction.createdAt).toBeInstanceOf(Date);
    }
    const cardPage = expectShape(cursorPageOf(transactionSchema), await client.fetchTransactionsCursor(card), "fetchTransactionsCursor(card)");
    expect(cardPage.results.some((transaction) => transaction.creditCardMetadata?.purchaseDate instanceof Date)).toBe(true);
  });

  it("fetchAllTransactions follows `next` to the end: every transaction once, in date order", async () => {
    const all = await client.fetchAllTransactions(checking);
    for (const transaction of all) expectShape(transactionSchema, transaction, "fetchAllTransactions[]");
    expect(all).toHaveLength(1_100);
    expect(new Set(all.map((transaction) => transaction.id)).size).toBe(1_100);
    const dates = all.map((transaction) => transaction.date.getTime());
    expect(dates).toEqual([...dates].sort((a, b) => a - b));
  });

  it("fetchAllTransactions with a date range returns exactly the transactions dated in it", async () => {
    const all = await client.fetchAllTransactions(checking);
    const middle = all[550]?.date.toISOString().slice(0, 10) ?? "";
    const inRange = await client.fetchAllTransactions(checking, { dateFrom: middle, dateTo: middle });
    expect(inRange.length).toBeGreaterThan(0);
    expect(inRange.map((transaction) => transaction.id).sort()).toEqual(
      all.filter((transaction) => transaction.date.toISOString().slice(0, 10) === middle).map((transaction) => transaction.id).sort(),
    );
  });

  it("fetchTransactions (page numbers) pages the same data: default 20 a page, `page`/`pageSize`, the {results, page, total, totalPages} envelope", async () => {
    const first = expectShape(pageOf(transactionSchema), await client.fetchTransactions(checking), "fetchTransactions");
    expect(first).toMatchObject({ page: 1, total: 1_100, totalPages: 55 });
    expect(first.results).toHaveLength(20);

    const ids: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const answer = expectShape(pageOf(transactionSchema), await client.fetchTransactions(checking, { page, pageSize: 500 }), `fetchTransactions page ${page}`);
      expect(answer).toMatchObject({ page, total: 1_100, totalPages: 3 });
      ids.push(...answer.results.map((transaction) => transaction.id));
    }
    expect(ids).toHaveLength(1_100);
    expect(ids).toEqual((await client.fetchAllTransactions(checking)).map((transaction) => transaction.id));

    const beyond = await client.fetchTransactions(checking, { page: 4, pageSize: 500 });
    expect(beyond).toMatchObject({ results: [], page: 4, total: 1_100, totalPages: 3 });
  });

  it("fetchTransactions filters by `from`/`to` and by ids like v2 does", async () => {
    const all = await client.fetchAllTransactions(checking);
    const day = all[100]?.date.toISOString().slice(0, 10) ?? "";
    const onDay = await client.fetchTransactions(checking, { from: day, to: day, pageSize: 500 });
    expect(onDay.results.map((transaction) => transaction.id).sort()).toEqual(
      all.filter((transaction) => transaction.date.toISOString().slice(0, 10) === day).map((transaction) => transaction.id).sort(),
    );
    const wanted = all.slice(0, 3).map((transaction) => transaction.id);
    const byIds = await client.fetchTransactions(checking, { ids: wanted });
    expect(byIds.results.map((transaction) => transaction.id).sort()).toEqual([...wanted].sort());
    expect(byIds).toMatchObject({ total: 3, totalPages: 1 });
  });

  it("fetchTransactions refuses a page size over Pluggy's 500 with a 400 body", async () => {
    const refused = expectShape(pluggyErrorSchema, await rejection(client.fetchTransactions(checking, { pageSize: 501 })), "the SDK's rejection");
    expect(refused.code).toBe(400);
  });

  it("fetchTransaction returns one Transaction, equal to its list entry", async () => {
    const [listed] = (await client.fetchTransactionsCursor(card)).results;
    const fetched = expectShape(transactionSchema, await client.fetchTransaction(listed?.id ?? ""), "fetchTransaction");
    expect(fetched).toEqual(listed);
  });

  it("updateTransactionCategory answers 200 with the Transaction under a real (third-level) category; an unknown category is a 400", async () => {
    const [listed] = (await client.fetchTransactionsCursor(checking)).results;
    const id = listed?.id ?? "";
    const updated = expectShape(transactionSchema, await succeeds("updateTransactionCategory", client.updateTransactionCategory(id, "19050001")), "updateTransactionCategory");
    expect(updated).toMatchObject({ id, categoryId: "19050001", category: "Gas stations" });
    expect((await client.fetchTransaction(id)).categoryId).toBe("19050001");
    const refused = expectShape(pluggyErrorSchema, await rejection(client.updateTransactionCategory(id, "19059999")), "the SDK's rejection");
    expect(refused.code).toBe(400);
  });
});

describe("categories", () => {
  it("fetchCategories returns Pluggy's whole tree as a page of Categories: roots without a parent, children naming theirs", async () => {
    const answer = await client.fetchCategories();
    const page = expectShape(pageOf(categorySchema), answer, "fetchCategories");
    expect(page).toMatchObject({ page: 1, total: 130, totalPages: 1 });
    expect(page.results).toHaveLength(130);
    const byId = new Map(page.results.map((category) => [category.id, category]));
    for (const category of page.results) {
      if (category.parentId === undefined) expect(category.parentDescription).toBeUndefined();
      else expect(byId.has(category.parentId), `${category.id}'s parent ${category.parentId}`).toBe(true);
    }
    // As Pluggy sends it: a root has no parentId key at all (the SDK types it optional, not null).
    expect(answer.results.find((category) => category.id === "19000000")).toEqual({ id: "19000000", description: "Transportation", descriptionTranslated: "Transporte" });
  });

  it("fetchCategory returns one Category, three levels deep included", async () => {
    const gas = expectShape(categorySchema, await client.fetchCategory("19050001"), "fetchCategory");
    expect(gas).toEqual({ id: "19050001", description: "Gas stations", parentId: "19050000", parentDescription: "Automotive" });
    const missing = expectShape(pluggyErrorSchema, await rejection(client.fetchCategory("19059999")), "the SDK's rejection");
    expect(missing.code).toBe(404);
  });
});

describe("webhooks", () => {
  it("createWebhook, fetchWebhooks, fetchWebhook, updateWebhook and deleteWebhook: 200s with Webhooks (Dates parsed), 404 after delete", async () => {
    const url = `https://app.example.com/api/banking/pluggy/webhook/?suite=${crypto.randomUUID()}`;
    const created = expectShape(webhookSchema, await succeeds("createWebhook", client.createWebhook("transactions/created", url, { "X-Webhook-Token": "secret" })), "createWebhook");
    expect(created).toMatchObject({ url, event: "transactions/created", disabledAt: null });
    expect(created).not.toHaveProperty("headers");

    const list = expectShape(pageOf(webhookSchema), await client.fetchWebhooks(), "fetchWebhooks");
    expect(list.results.find((hook) => hook.id === created.id)).toEqual(created);
    expect(expectShape(webhookSchema, await client.fetchWebhook(created.id), "fetchWebhook")).toEqual(created);

    const disabled = expectShape(webhookSchema, await succeeds("updateWebhook", client.updateWebhook(created.id, { enabled: false })), "updateWebhook(enabled: false)");
    expect(disabled.disabledAt).toBeInstanceOf(Date);
    const moved = expectShape(webhookSchema, await succeeds("updateWebhook", client.updateWebhook(created.id, { url: `${url}&moved=1`, event: "all", enabled: true })), "updateWebhook");
    expect(moved).toMatchObject({ id: created.id, url: `${url}&moved=1`, event: "all", disabledAt: null });

    await succeeds("deleteWebhook", client.deleteWebhook(created.id));
    const gone = expectShape(pluggyErrorSchema, await rejection(client.fetchWebhook(created.id)), "the SDK's rejection");
    expect(gone.code).toBe(404);
    expect((await client.fetchWebhooks()).results.some((hook) => hook.id === created.id)).toBe(false);
  });
});
