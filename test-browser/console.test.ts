/**
 * The operator console in a real browser (Debian Chromium through playwright-core), against a real
 * local instance (`scripts/dev.ts`: the Worker with local D1/R2/Queues plus the Pluggy simulator).
 * Data is seeded the way production gets it: the simulator "connects" a bank and sends a signed
 * item/created webhook; faults are injected at the simulator. One operator's session, in order:
 * sign in, map a category, see a failed sync and redrive it, replay an event (one and in bulk), and
 * the security edges (403, CSRF, sign-out). Screenshots of every page land in test-artifacts/browser/.
 */
import { createHash, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { ARTIFACTS_DIR, DESKTOP, launchChromium, PHONE, screenshot, waitFor } from "./support/browser.ts";
import { startDevInstance, type DevInstance } from "./support/dev-instance.ts";

const PORT = Number(process.env.BROWSER_TEST_PORT ?? 8871);
const SIMULATOR_PORT = Number(process.env.BROWSER_TEST_SIMULATOR_PORT ?? 8872);
const EXAMPLE_PORT = Number(process.env.BROWSER_TEST_EXAMPLE_PORT ?? 8873);

/** Fixed ids of the default category tree that `npm run dev` seeds (src/banking/default-categories.ts). */
const RESTAURANTS = "00000000-0000-4000-8000-000000000008";
const PERSONAL_PROJECTS = "00000000-0000-4000-8000-000000000025";

interface Transaction {
  id: string;
  pluggy_id: string | null;
}
interface SyncJob {
  id: string;
  transaction_id: string;
  status: string;
  last_error: string | null;
}
interface WebhookEvent {
  event_id: string;
  event: string;
  item_id: string | null;
  status: string;
  replay_count: number;
  body_sha256: string;
}

let dev: DevInstance;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let adminToken: string;
let userToken: string;
const userId = `browser-user-${randomUUID()}`;
let itemId: string;

async function call<T>(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const response = await fetch(`${dev.baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: (text ? JSON.parse(text) : null) as T };
}

async function simulator<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${dev.simulatorUrl}${path}`, {
    method,
    headers: body !== undefined ? { "Content-Type": "application/json" } : {},
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok) throw new Error(`simulator ${method} ${path} → ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Clicks a control that submits a form or follows a link, and waits for the next page to load. */
async function clickAndLoad(target: Page, control: Locator): Promise<void> {
  const loaded = target.waitForEvent("load");
  await control.click();
  await loaded;
}

/** Fills the sign-in form with a token and submits it. */
async function signIn(target: Page, token: string): Promise<void> {
  await target.goto(`${dev.baseUrl}/admin/sign-in`);
  await target.getByLabel("Admin token (JWT)").fill(token);
  await clickAndLoad(target, target.getByRole("button", { name: "Sign in" }));
}

/** Landmarks, one h1, a label for every form control, headers in every table: the basics a screen reader relies on. */
async function expectAccessibleBasics(target: Page): Promise<void> {
  const report = await target.evaluate(() => {
    const controls = [...document.querySelectorAll("input, select, textarea")].filter(
      (el) => !(el instanceof HTMLInputElement && el.type === "hidden"),
    );
    const unlabeled = controls
      .filter((el) => (el as HTMLInputElement).labels?.length === 0 && !el.getAttribute("aria-label"))
      .map((el) => el.outerHTML.slice(0, 80));
    const tablesWithoutHeaders = [...document.querySelectorAll("table")].filter((t) => t.querySelectorAll("th").length === 0).length;
    return {
      mains: document.querySelectorAll("main").length,
      h1s: document.querySelectorAll("h1").length,
      lang: document.documentElement.lang,
      unlabeled,
      tablesWithoutHeaders,
      overflow: document.documentElement.scrollWidth - window.innerWidth,
    };
  });
  expect(report).toMatchObject({ mains: 1, h1s: 1, lang: "en", unlabeled: [], tablesWithoutHeaders: 0 });
  expect(report.overflow).toBeLessThanOrEqual(0);
}

beforeAll(async () => {
  dev = await startDevInstance({ port: PORT, simulatorPort: SIMULATOR_PORT, examplePort: EXAMPLE_PORT, logDir: ARTIFACTS_DIR });
  adminToken = await dev.token("browser-operator", { admin: true, ttlSeconds: 3600 });
  userToken = await dev.token(userId);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: DESKTOP });
  page = await context.newPage();

  // A bank connection for a user, the way Pluggy makes one: the simulator creates the item and sends item/created.
  const created = await simulator<{ item: { id: string } }>("POST", "/__sim/items", { clientUserId: userId, notify: true, transactionsPerAccount: 6 });
  itemId = created.item.id;
  await waitFor("the item's transactions to be synced", async () => {
    const { json } = await call<{ data: Transaction[] }>(userToken, "GET", `/api/banking/transactions/?item_id=${itemId}`);
    return json.data.length > 0 ? json.data : undefined;
  });
}, 150_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await dev?.stop();
});

describe("operator console", () => {
  it("sends a signed-out visitor to sign-in and answers a non-admin token with 403", async () => {
    const response = await page.goto(`${dev.baseUrl}/admin/webhook-events`);
    expect(new URL(page.url()).pathname).toBe("/admin/sign-in");
    expect(new URL(page.url()).searchParams.get("next")).toBe("/admin/webhook-events");
    expect(response?.headers()["content-security-policy"]).toContain("default-src 'none'");
    expect(response?.headers()["cache-control"]).toBe("no-store");
    expect(await page.getByText("npm run token -- --user you --admin", { exact: true }).count()).toBe(1);
    await expectAccessibleBasics(page);
    await screenshot(page, "desktop-sign-in");

    await signIn(page, await dev.token("not-an-operator"));
    expect(await page.locator("h1").textContent()).toBe("Admin role required");
    await screenshot(page, "desktop-forbidden");

    await signIn(page, "not-a-jwt");
    expect(await page.getByRole("alert").textContent()).toContain("not valid here");
  });

  it("signs in with an admin token into an HttpOnly, Secure, SameSite=Strict cookie scoped to /admin", async () => {
    await signIn(page, adminToken);
    expect(new URL(page.url()).pathname).toBe("/admin");
    expect(await page.getByRole("status").first().textContent()).toContain("Signed in as browser-operator");
    const session = (await context.cookies()).find((cookie) => cookie.name === "fhe_console_session");
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/admin" });
    expect(session?.expires ?? 0).toBeLessThanOrEqual(Date.now() / 1000 + 3600 + 5);
    expect(await page.locator("svg.chart").count()).toBe(2);
    expect(await page.locator("svg.chart title").first().textContent()).toContain("Category sync success rate");
    await expectAccessibleBasics(page);
  });

  it("maps a local category to a Pluggy category chosen by name", async () => {
    await page.goto(`${dev.baseUrl}/admin/category-mappings?show=unmapped`);
    const row = page.locator(`#category-${PERSONAL_PROJECTS}`);
    await expect(row.getByText("not mapped").count()).resolves.toBe(1);
    expect(await page.locator("datalist#pluggy-categories option").count()).toBeGreaterThan(50);
    await row.getByLabel("Pluggy category for Personal projects").fill("Wellness and fitness");
    await clickAndLoad(page, row.getByRole("button", { name: "Set" }));
    expect(await page.getByRole("status").first().textContent()).toContain("Personal projects now maps to Services › Wellness and fitness");
    expect(await page.locator(`#category-${PERSONAL_PROJECTS} code`).first().textContent()).toBe("07030000");

    const { json } = await call<{ data: Array<{ category_id: string; pluggy_category_id: string | null }> }>(adminToken, "GET", "/api/admin/category-mappings/");
    expect(json.data.find((m) => m.category_id === PERSONAL_PROJECTS)?.pluggy_category_id).toBe("07030000");
    await expectAccessibleBasics(page);
    await screenshot(page, "desktop-category-mappings");
  });

  it("shows a failed category sync with its reason and redrives it until Pluggy has the change", async () => {
    const { json: list } = await call<{ data: Transaction[] }>(userToken, "GET", `/api/banking/transactions/?item_id=${itemId}`);
    const transaction = list.data.find((t) => t.pluggy_id !== null);
    if (!transaction?.pluggy_id) throw new Error("seeded item has no Pluggy transaction");
    await simulator("POST", "/__sim/faults", { path: `^/transactions/${transaction.pluggy_id}$`, method: "PATCH", status: 400, times: 1, message: "simulated rejection" });
    const patched = await call<unknown>(userToken, "PATCH", `/api/banking/transactions/${transaction.id}/`, { category: RESTAURANTS });
    expect(patched.status).toBe(200);
    await waitFor("the sync to fail", async () => {
      const { json } = await call<{ data: SyncJob[] }>(adminToken, "GET", "/api/admin/category-syncs/?status=failed");
      return json.data.find((job) => job.transaction_id === transaction.id);
    });

    await page.goto(`${dev.baseUrl}/admin/category-syncs?status=failed`);
    const row = page.locator("tr", { hasText: transaction.id });
    expect(await row.textContent()).toContain("simulated rejection");
    expect(await row.locator(".badge").textContent()).toBe("failed");
    await expectAccessibleBasics(page);
    await screenshot(page, "desktop-category-syncs-failed");

    await page.getByLabel("Jobs to redrive").selectOption("failed");
    await clickAndLoad(page, page.getByRole("button", { name: "Redrive…" }));
    expect(await page.locator("h1").textContent()).toBe("Redrive failed category syncs");
    expect(await page.locator("form p").first().textContent()).toContain("There is 1 failed category sync job right now.");
    await screenshot(page, "desktop-redrive-confirm");
    await clickAndLoad(page, page.getByRole("button", { name: "Redrive failed jobs" }));
    expect(await page.getByRole("status").first().textContent()).toContain("Redrive: 1 failed job back to pending and queued.");

    await waitFor("the redriven sync to reach Pluggy", async () => {
      // Synced jobs are listed per user (the global list holds only what needs an operator).
      const { json } = await call<{ data: SyncJob[] }>(adminToken, "GET", `/api/admin/category-syncs/?status=synced&user_id=${encodeURIComponent(userId)}`);
      return json.data.find((job) => job.transaction_id === transaction.id);
    });
    const requests = await simulator<{ data: Array<{ method: string; path: string }> }>(
      "GET",
      `/__sim/requests?method=PATCH&path=${encodeURIComponent(`^/transactions/${transaction.pluggy_id}$`)}`,
    );
    expect(requests.data.length).toBe(2);
    await page.goto(`${dev.baseUrl}/admin/category-syncs?user_id=${encodeURIComponent(userId)}`);
    expect(await page.locator("tr", { hasText: transaction.id }).locator(".badge").textContent()).toBe("synced");
    // Once synced it needs no operator: the global list (the attention index) no longer shows it.
    await page.goto(`${dev.baseUrl}/admin/category-syncs`);
    expect(await page.locator("tr", { hasText: transaction.id }).count()).toBe(0);
  });

  it("opens a webhook event with its metadata, payload and exact raw bytes, and replays it", async () => {
    await page.goto(`${dev.baseUrl}/admin/webhook-events?event=item%2Fcreated&item_id=${itemId}`);
    await expectAccessibleBasics(page);
    await screenshot(page, "desktop-webhook-events");
    const link = page.locator("tbody a.mono").first();
    const eventId = (await link.textContent()) ?? "";
    await clickAndLoad(page, link);
    expect(await page.locator("pre.json").textContent()).toContain('"event": "item/created"');
    const { json: detail } = await call<{ data: WebhookEvent }>(adminToken, "GET", `/api/admin/webhook-events/${eventId}/`);
    expect(await page.locator("dl.meta").nth(1).textContent()).toContain(detail.data.body_sha256);

    const raw = await page.request.get(`${dev.baseUrl}/admin/webhook-events/${eventId}/raw`);
    expect(raw.status()).toBe(200);
    expect(raw.headers()["content-type"]).toContain("text/plain");
    expect(createHash("sha256").update(await raw.body()).digest("hex")).toBe(detail.data.body_sha256);
    await expectAccessibleBasics(page);
    await screenshot(page, "desktop-webhook-event");

    await clickAndLoad(page, page.getByRole("button", { name: "Replay this event" }));
    expect(await page.getByRole("status").first().textContent()).toContain(`Event ${eventId} queued for replay`);
    await waitFor("the replay to be processed", async () => {
      const { json } = await call<{ data: WebhookEvent }>(adminToken, "GET", `/api/admin/webhook-events/${eventId}/`);
      return json.data.replay_count === 1 && json.data.status === "processed" ? json.data : undefined;
    });
  });

  it("previews a bulk replay as a dry run, then queues exactly what it listed", async () => {
    await page.goto(`${dev.baseUrl}/admin/webhook-events?item_id=${itemId}`);
    const { json: before } = await call<{ data: WebhookEvent[] }>(adminToken, "GET", `/api/admin/webhook-events/?item_id=${itemId}`);
    await page.getByLabel("At most").fill("10");
    await clickAndLoad(page, page.getByRole("button", { name: "Preview replay (dry run)" }));
    expect(await page.locator("h1").textContent()).toBe("Replay preview");
    const listed = await page.locator("ol.mono a").allTextContents();
    expect(listed.sort()).toEqual(before.data.map((e) => e.event_id).sort());
    const { json: unchanged } = await call<{ data: WebhookEvent[] }>(adminToken, "GET", `/api/admin/webhook-events/?item_id=${itemId}`);
    expect(unchanged.data.map((e) => e.replay_count)).toEqual(before.data.map((e) => e.replay_count));
    await expectAccessibleBasics(page);
    await screenshot(page, "desktop-replay-preview");

    await clickAndLoad(page, page.getByRole("button", { name: /^Replay \d+ events?$/ }));
    expect(await page.getByRole("status").first().textContent()).toContain(`Queued ${listed.length} webhook event`);
    const { json: after } = await call<{ data: WebhookEvent[] }>(adminToken, "GET", `/api/admin/webhook-events/?item_id=${itemId}`);
    for (const event of after.data) {
      expect(event.replay_count).toBe((before.data.find((e) => e.event_id === event.event_id)?.replay_count ?? 0) + 1);
    }
  });

  it("shows the activity on the overview", async () => {
    // Each ledger rolls its counters up into the catalog at most once a minute: wait for the sync above
    // to be counted (a positive signal), then check the overview.
    const summary = await waitFor(
      "the overview to count the synced category change (counters reach the catalog within a minute)",
      async () => {
        await page.goto(`${dev.baseUrl}/admin`);
        const text = await page.locator("svg.chart desc").first().textContent();
        return text && /[1-9]\d* synced/.test(text) ? text : undefined;
      },
      150_000,
      2_000,
    );
    expect(summary).toMatch(/[1-9]\d* synced/);
    expect(await page.locator("svg.chart desc").nth(1).textContent()).toMatch(/[1-9]\d* accepted/);
    await expectAccessibleBasics(page);
    await screenshot(page, "desktop-overview");
  });

  it("refuses a form post without the session's CSRF token, or from another origin", async () => {
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    await page.goto(`${dev.baseUrl}/admin/category-syncs`);
    const csrf = (await page.locator('input[name="_csrf"]').first().getAttribute("value")) ?? "";
    const post = (origin: string, body: string) =>
      fetch(`${dev.baseUrl}/admin/category-syncs/redrive`, {
        method: "POST",
        redirect: "manual",
        headers: { Cookie: cookie, Origin: origin, "Content-Type": "application/x-www-form-urlencoded" },
        body,
      });
    const missing = await post(dev.baseUrl, "status=dead&limit=1");
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain("Form refused");
    const wrongToken = await post(dev.baseUrl, `status=dead&limit=1&_csrf=${"A".repeat(43)}`);
    expect(wrongToken.status).toBe(403);
    const crossSite = await post("http://evil.example", `status=dead&limit=1&_csrf=${encodeURIComponent(csrf)}`);
    expect(crossSite.status).toBe(403);
    const allowed = await post(dev.baseUrl, `status=dead&limit=1&_csrf=${encodeURIComponent(csrf)}`);
    expect(allowed.status).toBe(303);
  });

  it("works on a phone-sized screen", async () => {
    const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    try {
      const mobile = await phone.newPage();
      await signIn(mobile, adminToken);
      const pages: Array<[string, string]> = [
        ["/admin", "phone-overview"],
        ["/admin/category-mappings", "phone-category-mappings"],
        [`/admin/webhook-events?item_id=${itemId}`, "phone-webhook-events"],
        ["/admin/category-syncs", "phone-category-syncs"],
      ];
      for (const [path, name] of pages) {
        await mobile.goto(`${dev.baseUrl}${path}`);
        await expectAccessibleBasics(mobile);
        await screenshot(mobile, name);
      }
      await mobile.goto(`${dev.baseUrl}/admin/webhook-events?item_id=${itemId}`);
      await clickAndLoad(mobile, mobile.locator("tbody a.mono").first());
      await expectAccessibleBasics(mobile);
      await screenshot(mobile, "phone-webhook-event");
    } finally {
      await phone.close();
    }
  });

  it("signs out, and the console is closed again", async () => {
    await page.goto(`${dev.baseUrl}/admin`);
    await clickAndLoad(page, page.getByRole("button", { name: "Sign out" }));
    expect(new URL(page.url()).pathname).toBe("/admin/sign-in");
    expect((await context.cookies()).some((c) => c.name === "fhe_console_session")).toBe(false);
    await page.goto(`${dev.baseUrl}/admin/category-syncs`);
    expect(new URL(page.url()).pathname).toBe("/admin/sign-in");
  });
});
