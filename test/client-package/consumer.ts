/*
 * What a frontend writes against `finance-hub-edge/client`. Type-checked (never run) by
 * scripts/check-client-package.ts, in this separate project that depends on the package by path.
 */
import { ApiError, createClient, type Category, type ConnectToken, type Item, type Page, type Transaction } from "finance-hub-edge/client";

const client = createClient({
  baseUrl: "https://api.financehub.example",
  token: () => sessionStorage.getItem("jwt") ?? undefined,
  bookmarks: { get: () => sessionStorage.getItem("bookmark") ?? undefined, set: (value) => sessionStorage.setItem("bookmark", value) },
});

export async function connectBank(): Promise<string> {
  const token: ConnectToken = await client.createConnectToken({ country_codes: ["BR"], connector_types: ["PERSONAL_BANK"], include_sandbox: true });
  return token.connect_url;
}

export async function onConnectSuccess(itemId: string): Promise<Item> {
  const { item, created } = await client.registerItem(itemId);
  if (created) console.info(`connected ${item.connector.name ?? "a bank"}`);
  return item;
}

export async function everyTransaction(search: string): Promise<Transaction[]> {
  const rows: Transaction[] = [];
  for await (const page of client.transactionPages({ search, limit: 100 })) rows.push(...page.data);
  return rows;
}

export async function recategorize(transaction: Transaction, categories: Category[]): Promise<string> {
  const target = categories.find((category) => category.pluggy_category_id !== null);
  try {
    const changed = await client.setTransactionCategory(transaction.id, target?.id ?? null);
    return changed.category_sync?.status ?? "none";
  } catch (error) {
    if (error instanceof ApiError && error.code === "not_found") return `gone (request ${error.requestId ?? "?"})`;
    throw error;
  }
}

export async function firstPage(): Promise<Page<Transaction>> {
  const page = await client.listTransactions({ category_id: "none", date_from: "2026-01-01" });
  const amount: string = page.data[0]?.amount ?? "0.00";
  console.info(amount, client.bookmark);
  return page;
}

export async function misuse(): Promise<void> {
  // @ts-expect-error a category is a uuid string or null
  await client.setTransactionCategory("id", 42);
  // @ts-expect-error unknown connect token options are refused
  await client.createConnectToken({ country: "BR" });
  const [account] = (await client.listAccounts()).data;
  // @ts-expect-error balance is a decimal string (or null), never a number
  const balance: number = account?.balance ?? 0;
  console.info(balance, await client.listCategories(), await client.listItems(), await client.eraseMe());
  await client.refreshItem("id");
  await client.deleteItem("id");
  await client.getTransaction("id");
}
