/**
 * The example frontend (examples/web) and the local Pluggy Connect page in a real browser (Debian
 * Chromium through playwright-core), against the instance `npm run dev` starts (scripts/dev.ts: the
 * Worker, the Pluggy simulator, the example on its own port). A new user goes through the whole
 * frontend flow, once on a desktop with Connect in a popup (it answers with postMessage) and once at
 * 390 px with Connect in the same tab (it redirects back with ?item_id=): sign in, a filtered Connect
 * (only Brazilian personal banks), a wrong password, the right one, transactions with search and
 * infinite scroll, a recategorization whose sync reaches the simulator, a second bank with MFA,
 * avoidDuplicates refusing a second Pluggy Bank, update mode, disconnecting, erasing. Screenshots land
 * in test-artifacts/browser/example-*.png.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { readDevVars } from "../scripts/lib/dev-vars.ts";
import { ARTIFACTS_DIR, DESKTOP, launchChromium, PHONE, screenshot, waitFor } from "./support/browser.ts";
import { PROJECT_ROOT, startDevInstance, type DevInstance } from "./support/dev-instance.ts";

const PORT = Number(process.env.FRONTEND_TEST_PORT ?? 8874);
const SIMULATOR_PORT = Number(process.env.FRONTEND_TEST_SIMULATOR_PORT ?? 8875);
const EXAMPLE_PORT = Number(process.env.FRONTEND_TEST_EXAMPLE_PORT ?? 8876);

/** "Leisure › Travel" of the default tree, mapped to Pluggy's 12000000 (src/banking/default-categories.ts). */
const TRAVEL = { id: "00000000-0000-4000-8000-000000000023", label: "Leisure › Travel", pluggy: "12000000" };

interface SimItem {
  id: string;
  status: string;
  executionStatus: string;
  error: { code: string; message: string } | null;
  connector: { id: number; name: string };
}

let dev: DevInstance;
let browser: Browser;

async function simulator<T>(path: string, init: { method?: string; body?: unknown; apiKey?: string } = {}): Promise<{ status: number; json: T }> {
  const response = await fetch(`${dev.simulatorUrl}${path}`, {
    method: init.method ?? "GET",
    headers: { ...(init.body !== undefined ? { "Content-Type": "application/json" } : {}), ...(init.apiKey ? { "X-API-KEY": init.apiKey } : {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: (text ? JSON.parse(text) : null) as T };
}

async function api<T>(user: string, path: string, options: { admin?: boolean } = {}): Promise<T> {
  const response = await fetch(`${dev.baseUrl}${path}`, { headers: { Authorization: `Bearer ${await dev.token(user, options)}` } });
  if (!response.ok) throw new Error(`GET ${path} → ${response.status}`);
  return (await response.json()) as T;
}

const simItemsOf = async (user: string) => (await simulator<{ data: { item: SimItem }[] }>(`/__sim/items?clientUserId=${encodeURIComponent(user)}`)).json.data.map((entry) => entry.item);

/** Names of the connectors Pluggy's API lists for these filters (the simulator's GET /connectors, with the dev keys). */
async function connectorNames(query: string): Promise<string[]> {
  const vars = readDevVars(`${PROJECT_ROOT}/.dev.vars`);
  const auth = await simulator<{ apiKey: string }>("/auth", { method: "POST", body: { clientId: vars.PLUGGY_CLIENT_ID, clientSecret: vars.PLUGGY_CLIENT_SECRET } });
  const { json } = await simulator<{ results: { name: string }[] }>(`/connectors?${query}`, { apiKey: auth.json.apiKey });
  return json.results.map((connector) => connector.name).sort((a, b) => a.localeCompare(b, "pt-BR"));
}

/** Resolves when the page has closed (also when it already has). */
const closed = (target: Page): Promise<unknown> => (target.isClosed() ? Promise.resolve() : target.waitForEvent("close"));

/** One main, one h1, a label for every control, nothing wider than the viewport. */
async function expectReadable(page: Page): Promise<void> {
  const report = await page.evaluate(() => ({
    mains: document.querySelectorAll("main").length,
    h1s: document.querySelectorAll("h1").length,
    unlabeled: [...document.querySelectorAll("input, select")]
      .filter((el) => (el as HTMLInputElement).labels?.length === 0 && !el.getAttribute("aria-label"))
      .map((el) => el.outerHTML.slice(0, 80)),
    overflow: document.documentElement.scrollWidth - window.innerWidth,
  }));
  expect(report).toMatchObject({ mains: 1, h1s: 1, unlabeled: [] });
  expect(report.overflow).toBeLessThanOrEqual(0);
}

beforeAll(async () => {
  for (const file of existsSync(ARTIFACTS_DIR) ? readdirSync(ARTIFACTS_DIR) : []) if (file.startsWith("example-")) rmSync(join(ARTIFACTS_DIR, file));
  dev = await startDevInstance({ port: PORT, simulatorPort: SIMULATOR_PORT, examplePort: EXAMPLE_PORT, logDir: `${ARTIFACTS_DIR}/frontend` });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await dev?.stop();
});

describe.each([
  { name: "desktop", viewport: DESKTOP, mode: "popup" as const },
  { name: "phone", viewport: PHONE, mode: "same tab" as const },
])("example frontend on $name (Connect in a $mode)", ({ name, viewport, mode }) => {
  const user = `example-${name}-${randomUUID()}`;
  let context: BrowserContext;
  let page: Page;
  let connect: Page;
  let itemId: string;
  let shot = 0;
  const snap = (target: Page, what: string) => screenshot(target, `example-${name}-${String(++shot).padStart(2, "0")}-${what}`);

  /** Clicks "Connect a bank" (with Connect options set) and returns the page showing Pluggy Connect. */
  async function openConnect(): Promise<Page> {
    await page.getByLabel("Open Connect in this tab (redirect back)").setChecked(mode === "same tab");
    if (mode === "popup") {
      const popup = context.waitForEvent("page");
      await page.getByRole("button", { name: "Connect a bank" }).click();
      connect = await popup;
    } else {
      await page.getByRole("button", { name: "Connect a bank" }).click();
      await page.waitForURL(`${dev.simulatorUrl}/connect?**`);
      connect = page;
    }
    await connect.getByRole("heading", { name: "Select your institution" }).waitFor();
    return connect;
  }

  async function logIn(password: string): Promise<void> {
    await connect.getByLabel("Password").fill(password);
    await connect.getByRole("button", { name: "Connect" }).click();
  }

  /** Connect handed the item to the app (postMessage, or the redirect back) and the app registered and synced it. */
  async function connected(bank: string): Promise<void> {
    if (mode === "popup") await closed(connect);
    else await page.waitForURL(`${dev.exampleUrl}/**`);
    await page.getByText(`${bank} is ready.`).waitFor({ timeout: 60_000 });
  }

  beforeAll(async () => {
    context = await browser.newContext({ viewport });
    page = await context.newPage();
  });

  afterAll(async () => {
    await context?.close();
  });

  it("signs in as a development user", async () => {
    await page.goto(dev.exampleUrl);
    await page.getByLabel("User id").fill(user);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("No bank connected yet.").waitFor();
    await expect.poll(() => page.locator("#who").textContent()).toBe(`signed in as ${user}`);
    await expectReadable(page);
    await snap(page, "signed-in");
  });

  it("opens Pluggy Connect filtered to Brazilian personal banks (sandbox included)", async () => {
    await openConnect();
    const shown = await connect.locator(".connector-name").allTextContents();
    expect(shown).toEqual(await connectorNames("countries=BR&types=PERSONAL_BANK&sandbox=true"));
    const everything = await connectorNames("sandbox=true");
    expect(everything.filter((bank) => !shown.includes(bank))).toEqual(expect.arrayContaining(["Pluggy Bank Empresas", "Pluggy Bank México", "Pluggy Investimentos"]));
    for (const meta of await connect.locator(".connector-meta").allTextContents()) expect(meta).toMatch(/^Personal bank · BR\b/);
    expect(await connect.getByText("simulator", { exact: true }).count()).toBe(1);
    await snap(connect, "connect-filtered");
  });

  it("shows Pluggy's error for a wrong password, then connects with the right one", async () => {
    await connect.locator('[data-connector-id="0"]').click();
    await connect.getByLabel("User").fill("user-ok");
    await logIn("password-wrong");
    const alert = connect.getByRole("alert");
    await alert.waitFor();
    const [failed] = await simItemsOf(user);
    expect(failed).toMatchObject({ status: "LOGIN_ERROR", executionStatus: "INVALID_CREDENTIALS", connector: { id: 0 } });
    expect(await alert.textContent()).toBe(failed?.error?.message);
    expect(await connect.getByLabel("User").inputValue()).toBe("user-ok");
    await snap(connect, "connect-wrong-password");

    await logIn("password-ok");
    await connected("Pluggy Bank");
    itemId = failed?.id ?? "";
    expect((await simItemsOf(user)).map((item) => [item.id, item.status])).toEqual([[itemId, "UPDATED"]]);
    const card = page.locator(`[data-item-id="${itemId}"]`);
    await card.getByText("UPDATED").waitFor();
    expect(await page.locator("#accounts li:not(.muted)").count()).toBeGreaterThanOrEqual(2);
    await page.locator("#transactions li").first().waitFor();
    await snap(page, "connected");
  });

  it("lists transactions with infinite scroll over the cursor, and searches them", async () => {
    // The app lists as soon as the accounts are in, while the first sync may still be writing
    // transactions: wait until Pluggy's item/created or item/updated has been processed (every transaction is in),
    // then have the app list afresh, so both sides count the same set.
    await waitFor(
      "the first sync of the connected item",
      async () => {
        const events = await api<{ data: Array<{ event: string; status: string }> }>("browser-admin", `/api/admin/webhook-events/?item_id=${itemId}`, { admin: true });
        const synced = events.data.some((event) => /^item\/(created|updated)$/.test(event.event) && event.status === "processed");
        return synced && !events.data.some((event) => event.status === "received" || event.status === "processing") ? true : undefined;
      },
      60_000,
      300,
    );
    const { data } = await api<{ data: unknown[] }>(user, "/api/banking/transactions/?limit=200");
    const search = page.getByLabel("Search descriptions");
    await search.fill(" ");
    await search.fill("");
    await page.locator('#transactions[data-search=""][aria-busy="false"]').waitFor();
    const rows = page.locator("#transactions li");
    await expect.poll(() => rows.count()).toBe(25);
    // Scroll until the list says it is complete. Bounded by progress, not by wall time: on a loaded machine
    // each page may take seconds, so fail only when no new row arrived for 30 s.
    let seen = -1;
    let lastProgress = Date.now();
    for (;;) {
      await page.locator("#transactions-end").scrollIntoViewIfNeeded();
      if ((await page.locator("#transactions-end").textContent())?.startsWith("All ")) break;
      const count = await rows.count();
      if (count !== seen) [seen, lastProgress] = [count, Date.now()];
      else if (Date.now() - lastProgress > 30_000) {
        throw new Error(`scrolling stopped at ${count} rows: "${await page.locator("#transactions-end").textContent()}"`);
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(await rows.count()).toBe(data.length);
    expect(await page.locator("#transactions-end").textContent()).toBe(`All ${data.length} transactions shown.`);

    await page.getByLabel("Search descriptions").fill("pix");
    await page.locator('#transactions[data-search="pix"][aria-busy="false"]').waitFor();
    await expect.poll(async () => (await rows.allTextContents()).every((text) => /pix/i.test(text)) && (await rows.count()) > 0).toBe(true);
    await snap(page, "search");
    await page.getByLabel("Search descriptions").fill("");
    await page.locator('#transactions[data-search=""][aria-busy="false"]').waitFor();
    expect(await rows.first().getAttribute("data-transaction-id")).toBe((data[0] as { id: string }).id);
  });

  it("recategorizes a transaction: its badge goes pending → synced, and Pluggy (the simulator) holds the category", async () => {
    const transactionId = await page.evaluate(
      (travel) => [...document.querySelectorAll("#transactions li")].find((li) => li.querySelector("select")?.value !== travel)?.getAttribute("data-transaction-id") ?? "",
      TRAVEL.id,
    );
    const row = page.locator(`[data-transaction-id="${transactionId}"]`);
    await row.getByRole("combobox").selectOption({ label: TRAVEL.label });
    const badge = row.locator(".badge");
    await expect.poll(() => badge.textContent(), { timeout: 10_000 }).toBe("pending");
    await snap(page, "recategorize-pending");
    await expect.poll(() => badge.textContent(), { timeout: 60_000, interval: 500 }).toBe("synced");
    await snap(page, "recategorize-synced");

    const { data } = await api<{ data: { pluggy_id: string; category: { id: string } } }>(user, `/api/banking/transactions/${transactionId}/`);
    expect(data.category.id).toBe(TRAVEL.id);
    const state = await simulator<{ transactions: { id: string; categoryId: string | null }[] }>(`/__sim/items/${itemId}`);
    expect(state.json.transactions.find((transaction) => transaction.id === data.pluggy_id)?.categoryId).toBe(TRAVEL.pluggy);
  });

  it("refuses a second Pluggy Bank for the same user (avoidDuplicates) with Pluggy's message", async () => {
    await openConnect();
    await connect.locator('[data-connector-id="0"]').click();
    await connect.getByLabel("User").fill("user-ok");
    await logIn("password-ok");
    await connect.getByRole("heading", { name: "Pluggy Bank is already connected" }).waitFor();
    expect(await connect.getByRole("alert").textContent()).toBe("There are other items with the same credentials, you can't create a new one");
    await snap(connect, "connect-duplicate");
    if (mode === "popup") {
      await page.getByText("Pluggy Connect: There are other items with the same credentials").waitFor();
      const popupClosed = closed(connect);
      // The click closes the popup: Playwright may then report the click's target as gone, which is the point.
      await connect.getByRole("button", { name: "Close" }).click().catch((error: unknown) => {
        if (!connect.isClosed()) throw error;
      });
      await popupClosed;
      await page.getByText("Pluggy Connect was closed.").waitFor();
    } else {
      // Opened in this tab, closing Connect goes back to the app (the token's oauthRedirectUri).
      await connect.getByRole("button", { name: "Close" }).click();
      await page.waitForURL(`${dev.exampleUrl}/`);
      await page.locator("#items li[data-item-id]").first().waitFor();
    }
    expect((await simItemsOf(user)).map((item) => item.id)).toEqual([itemId]);
  });

  it("connects a bank that asks for an MFA code (a wrong code first)", async () => {
    await openConnect();
    await connect.getByRole("button", { name: /^Pluggy Bank MFA/ }).click();
    await connect.getByLabel("User").fill("user-ok");
    await logIn("password-ok");
    await connect.getByRole("heading", { name: "Verification code" }).waitFor();
    const waiting = (await simItemsOf(user)).find((item) => item.id !== itemId);
    expect(waiting).toMatchObject({ status: "WAITING_USER_INPUT", executionStatus: "WAITING_USER_INPUT" });
    await snap(connect, "connect-mfa");
    await connect.getByLabel("Token").fill("000000");
    await connect.getByRole("button", { name: "Send" }).click();
    await connect.getByRole("alert").waitFor();
    await logIn("password-ok");
    await connect.getByLabel("Token").fill("123456");
    await connect.getByRole("button", { name: "Send" }).click();
    await connected("Pluggy Bank MFA");
    await page.locator(`[data-item-id="${waiting?.id ?? ""}"]`).getByText("UPDATED").waitFor();
    expect(await page.locator("#items li").count()).toBe(2);
  });

  it("re-authenticates a connection in update mode (Reconnect opens Connect for that item)", async () => {
    const popup = context.waitForEvent("page");
    await page.locator(`[data-item-id="${itemId}"]`).getByRole("button", { name: "Reconnect" }).click();
    const update = await popup;
    await update.getByRole("heading", { name: "Update your Pluggy Bank" }).waitFor();
    expect(await update.getByText("← All institutions").count()).toBe(0);
    await update.getByLabel("User").fill("user-ok");
    await update.getByLabel("Password").fill("password-ok");
    await update.getByRole("button", { name: "Connect" }).click();
    await closed(update);
    await page.getByText("Pluggy Bank updated. Syncing accounts and transactions…").or(page.getByText("Pluggy Bank is ready.")).first().waitFor();
    expect((await simItemsOf(user)).find((item) => item.id === itemId)?.status).toBe("UPDATED");
  });

  it("disconnects the MFA bank, at Pluggy too", async () => {
    const mfaCard = page.locator("#items li").filter({ hasText: "Pluggy Bank MFA" });
    const mfaItemId = (await mfaCard.getAttribute("data-item-id")) ?? "";
    await mfaCard.getByRole("button", { name: "Disconnect" }).click();
    await page.getByText("Pluggy Bank MFA disconnected.").waitFor();
    await expect.poll(() => page.locator("#items li").count()).toBe(1);
    expect((await simulator(`/__sim/items/${mfaItemId}`)).status).toBe(404);
    await snap(page, "disconnected");
  });

  it("erases the user's data, here and at Pluggy", async () => {
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Erase my data" }).click();
    await page.getByText("Your data was erased.").waitFor({ timeout: 60_000 });
    await page.getByText("No bank connected yet.").waitFor();
    expect(await page.locator("#transactions li").count()).toBe(0);
    await expect.poll(() => simItemsOf(user)).toEqual([]);
    await expectReadable(page);
    await snap(page, "erased");
  });
});
