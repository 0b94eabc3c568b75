/*
 * The example frontend: plain TypeScript and finance-hub-edge/client, nothing else. It shows the API's
 * frontend flow end to end: sign in, connect a bank through Pluggy Connect (a connect token with filters,
 * the Connect page, then register the item it hands back), accounts, transactions with search and
 * infinite scroll over the cursor, recategorizing (watch category_sync go pending → synced),
 * disconnecting a bank and erasing the user.
 */
import { ApiError, createClient, type Category, type ConnectToken, type ConnectTokenRequest, type FinanceHubClient, type Item, type Page, type Transaction } from "finance-hub-edge/client";
import { byId, el, formatMoney } from "./dom.ts";

interface Session {
  user: string;
  token: string;
  apiUrl: string;
}

/** What Pluggy Connect posts to the window that opened it. */
interface ConnectMessage {
  type: "pluggy-connect";
  event: "onSuccess" | "onError" | "onClose";
  item?: { id: string };
  error?: { message: string };
}

const SESSION_KEY = "finance-hub-example-session";
const BOOKMARK_KEY = "finance-hub-example-bookmark";
const PAGE_SIZE = 25;

let api: FinanceHubClient | undefined;
let categories: Category[] = [];

// ---------------------------------------------------------------- session

/** Development only: the dev server signs a JWT for the user (your app gets one from its own sign-in). */
async function signIn(user: string): Promise<Session> {
  const response = await fetch("/dev/session", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user }) });
  const body = (await response.json()) as { user: string; token: string; api_url: string; error?: string };
  if (!response.ok) throw new Error(body.error ?? `sign-in failed (${response.status})`);
  const session = { user: body.user, token: body.token, apiUrl: body.api_url };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

function savedSession(): Session | undefined {
  const saved = sessionStorage.getItem(SESSION_KEY);
  return saved ? (JSON.parse(saved) as Session) : undefined;
}

function start(session: Session): void {
  api = createClient({
    baseUrl: session.apiUrl,
    token: session.token,
    // Keep the latest X-D1-Bookmark across reloads of this tab.
    bookmarks: { get: () => sessionStorage.getItem(BOOKMARK_KEY) ?? undefined, set: (value) => sessionStorage.setItem(BOOKMARK_KEY, value) },
  });
  byId("who").textContent = `signed in as ${session.user}`;
  byId("sign-in").hidden = true;
  byId("signed-in").hidden = false;
  void (async () => {
    await registerReturningItem();
    categories = await client().listCategories();
    await refreshAll();
  })().catch(showError(byId("connect-status")));
}

function showError(target: HTMLElement) {
  return (error: unknown) => {
    target.textContent = error instanceof ApiError ? `${error.message} (${error.code}, request ${error.requestId ?? "?"})` : String(error);
    target.classList.add("error");
  };
}

function say(target: HTMLElement, text: string): void {
  target.classList.remove("error");
  target.textContent = text;
}

function client(): FinanceHubClient {
  if (!api) throw new Error("not signed in");
  return api;
}

// ---------------------------------------------------------------- connecting a bank

function connectOptions(form: HTMLFormElement): ConnectTokenRequest {
  const checked = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).checked;
  return {
    ...(checked("br-personal") ? { country_codes: ["BR"], connector_types: ["PERSONAL_BANK"] } : {}),
    include_sandbox: checked("sandbox"),
    avoid_duplicates: checked("avoid-duplicates"),
    // Where Connect sends the user back when it was opened in this tab (its origin must be allowed by the API).
    oauth_redirect_uri: `${location.origin}/`,
  };
}

/** Opens Pluggy Connect for a new connection, or for `updateItem` (update mode). */
async function openConnect(options: ConnectTokenRequest, sameTab: boolean): Promise<void> {
  const status = byId("connect-status");
  say(status, "Opening Pluggy Connect…");
  // Open the popup while the click's user activation lasts (browsers block window.open after an await
  // that takes a few seconds), then point it at Connect once the token is here.
  const popup = sameTab ? null : window.open("about:blank", "pluggy-connect", "popup,width=460,height=760");
  let token: ConnectToken;
  try {
    token = await client().createConnectToken(options);
  } catch (error) {
    popup?.close();
    throw error;
  }
  if (!popup) return location.assign(token.connect_url); // same tab (or popups blocked): comes back with ?item_id=
  popup.location.href = token.connect_url;
  const connectOrigin = new URL(token.connect_url).origin;
  const onMessage = (event: MessageEvent<ConnectMessage>) => {
    if (event.origin !== connectOrigin || event.data?.type !== "pluggy-connect") return;
    if (event.data.event === "onSuccess" && event.data.item) {
      window.removeEventListener("message", onMessage);
      popup.close();
      void registerItem(event.data.item.id).catch(showError(status));
    } else if (event.data.event === "onError") {
      showError(status)(new Error(`Pluggy Connect: ${event.data.error?.message ?? "failed"}`));
    } else if (event.data.event === "onClose") {
      window.removeEventListener("message", onMessage);
      say(status, "Pluggy Connect was closed.");
    }
  };
  window.addEventListener("message", onMessage);
}

/** Pluggy Connect's onSuccess: tell the API, which checks the item is ours and starts its first sync. */
async function registerItem(itemId: string): Promise<void> {
  const status = byId("connect-status");
  const { item, created } = await client().registerItem(itemId);
  say(status, `${item.connector.name ?? "Bank"} ${created ? "connected" : "updated"}. Syncing accounts and transactions…`);
  await refreshItems();
  // The first sync runs in the background: poll until the accounts are there.
  for (let attempt = 0; attempt < 60; attempt++) {
    if ((await client().listAccounts({ item_id: item.id })).data.length > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  await refreshAll();
  say(status, `${item.connector.name ?? "Bank"} is ready.`);
}

/** Back from Connect opened in this tab: `?item_id=` on our own URL. */
async function registerReturningItem(): Promise<void> {
  const itemId = new URLSearchParams(location.search).get("item_id");
  if (!itemId) return;
  history.replaceState(null, "", location.pathname);
  await registerItem(itemId);
}

// ---------------------------------------------------------------- lists

async function refreshAll(): Promise<void> {
  await Promise.all([refreshItems(), refreshAccounts()]);
  resetTransactions();
}

function itemCard(item: Item): HTMLElement {
  const status = byId("connect-status");
  const actions = el("div", { class: "actions" }, [
    el("button", { type: "button", text: "Refresh", onclick: () => void client().refreshItem(item.id).then(refreshItems, showError(status)) }),
    el("button", { type: "button", text: "Reconnect", onclick: () => void openConnect({ item_id: item.id, oauth_redirect_uri: `${location.origin}/` }, false).catch(showError(status)) }),
    el("button", {
      type: "button",
      class: "danger",
      text: "Disconnect",
      onclick: () =>
        void client()
          .deleteItem(item.id)
          .then(() => say(status, `${item.connector.name ?? "Bank"} disconnected.`))
          .then(refreshAll, showError(status)),
    }),
  ]);
  return el("li", { "data-item-id": item.id }, [
    el("div", { class: "title", text: item.connector.name ?? `Connector ${item.connector.id ?? "?"}` }),
    el("span", { class: "badge", "data-status": item.status ?? "", text: item.status ?? "unknown" }),
    item.error ? el("div", { class: "small error", text: item.error.message ?? item.error.code }) : null,
    el("div", { class: "small muted", text: item.last_updated_at ? `synced ${new Date(item.last_updated_at).toLocaleString()}` : "not synced yet" }),
    actions,
  ]);
}

async function refreshItems(): Promise<void> {
  const { data } = await client().listItems();
  byId("items").replaceChildren(...(data.length ? data.map(itemCard) : [el("li", { class: "muted", text: "No bank connected yet." })]));
}

async function refreshAccounts(): Promise<void> {
  const { data } = await client().listAccounts();
  byId("accounts").replaceChildren(
    ...(data.length
      ? data.map((account) =>
          el("li", {}, [
            el("div", { class: "title", text: account.name ?? account.subtype ?? "Account" }),
            el("div", { class: "small muted", text: `${account.subtype ?? account.type ?? ""} ${account.number ?? ""}` }),
            el("div", { text: account.balance === null ? "balance unknown" : formatMoney(account.balance, account.currency_code) }),
          ]),
        )
      : [el("li", { class: "muted", text: "No accounts yet." })]),
  );
}

// ---------------------------------------------------------------- transactions: search, infinite scroll, recategorize

let pages: AsyncGenerator<Page<Transaction>, void, undefined> | undefined;
let loading = false;

function categoryLabel(category: Category): string {
  const parent = categories.find((candidate) => candidate.id === category.parent_id);
  return parent ? `${parent.name} › ${category.name}` : category.name;
}

function syncBadge(transaction: Transaction): HTMLElement {
  const sync = transaction.category_sync;
  return el("span", { class: "badge", "data-sync": sync?.status ?? "none", title: sync?.reason ?? "", text: sync ? sync.status : "no change" });
}

function transactionRow(transaction: Transaction): HTMLElement {
  const select = el("select", { "aria-label": `Category of ${transaction.description}` }, [
    el("option", { value: "", text: "— uncategorized —" }),
    ...categories.map((category) => el("option", { value: category.id, text: categoryLabel(category) })),
  ]) as HTMLSelectElement;
  select.value = transaction.category?.id ?? "";
  const row = el("li", { "data-transaction-id": transaction.id }, [
    el("span", { class: "date", text: transaction.date }),
    el("span", { class: "description", text: transaction.description }),
    el("span", { class: `amount${transaction.amount.startsWith("-") ? " negative" : ""}`, text: formatMoney(transaction.amount, transaction.currency_code) }),
    el("span", { class: "category" }, [select, syncBadge(transaction)]),
  ]);
  select.onchange = () => void recategorize(row, transaction.id, select.value || null);
  return row;
}

/** PATCH the category, then follow category_sync until it leaves `pending` (the sync to Pluggy is queued). */
async function recategorize(row: HTMLElement, id: string, categoryId: string | null): Promise<void> {
  const replaceBadge = (transaction: Transaction) => row.querySelector(".badge")?.replaceWith(syncBadge(transaction));
  try {
    let transaction = await client().setTransactionCategory(id, categoryId);
    replaceBadge(transaction);
    for (let attempt = 0; transaction.category_sync?.status === "pending" && attempt < 120; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      transaction = await client().getTransaction(id);
      replaceBadge(transaction);
    }
  } catch (error) {
    showError(byId("transactions-end"))(error);
  }
}

function resetTransactions(): void {
  const search = (byId("search") as HTMLInputElement).value.trim();
  pages = client().transactionPages({ ...(search ? { search } : {}), limit: PAGE_SIZE });
  byId("transactions").replaceChildren();
  byId("transactions").dataset.search = search;
  byId("transactions").setAttribute("aria-busy", "true");
  say(byId("transactions-end"), "");
  void loadMore();
}

/** The next cursor page, appended; again while the end of the list is in view. */
async function loadMore(): Promise<void> {
  if (loading || !pages) return;
  loading = true;
  const list = byId("transactions");
  list.setAttribute("aria-busy", "true");
  const current = pages;
  try {
    const next = await current.next();
    if (current === pages && next.done) {
      pages = undefined;
      say(byId("transactions-end"), list.children.length ? `All ${list.children.length} transactions shown.` : "No transactions.");
    } else if (current === pages && !next.done) {
      list.append(...next.value.data.map(transactionRow));
    }
  } catch (error) {
    showError(byId("transactions-end"))(error);
  } finally {
    loading = false;
    if (current === pages || !pages) list.setAttribute("aria-busy", "false");
  }
  // A new search started meanwhile (load its first page), or the end is still in view.
  if (pages && (current !== pages || isVisible(byId("transactions-end")))) void loadMore();
}

const isVisible = (node: HTMLElement) => node.getBoundingClientRect().top < window.innerHeight;

// ---------------------------------------------------------------- wiring

byId("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const user = (byId("user-id") as HTMLInputElement).value.trim();
  void signIn(user).then(start, showError(byId("sign-in")));
});

byId("connect-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget as HTMLFormElement;
  const sameTab = (form.elements.namedItem("same-tab") as HTMLInputElement).checked;
  void openConnect(connectOptions(form), sameTab).catch(showError(byId("connect-status")));
});

let searchTimer: ReturnType<typeof setTimeout> | undefined;
byId("search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(resetTransactions, 300);
});

// Infinite scroll: the end marker coming into view loads the next cursor page.
new IntersectionObserver((entries) => {
  if (entries.some((entry) => entry.isIntersecting)) void loadMore();
}).observe(byId("transactions-end"));

byId("erase").addEventListener("click", () => {
  if (!confirm("Erase all your data, here and at Pluggy?")) return;
  const status = byId("erase-status");
  void (async () => {
    await client().eraseMe();
    say(status, "Erasure queued…");
    for (let attempt = 0; attempt < 60 && (await client().listItems()).data.length > 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 1000));
    await refreshAll();
    say(status, "Your data was erased.");
  })().catch(showError(status));
});

byId("sign-out").addEventListener("click", () => {
  sessionStorage.clear();
  location.assign("/");
});

const session = savedSession();
if (session) start(session);
