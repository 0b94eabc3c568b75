import { Hono } from "hono";
import type { CategorySyncJobDto } from "../../../category-sync/sync-jobs.service.ts";
import type { ConsoleEnv } from "../console.env.ts";
import { signedIn } from "../console-guard.tsx";
import { renderPage } from "../console-render.tsx";
import { setFlash } from "../console-session.ts";
import { errorFlash } from "../components/ui.tsx";
import { CategorySyncsPage, readSyncStatus, readSyncUser, RedriveConfirmPage, REDRIVE_STATUSES, type RedriveStatus } from "./category-syncs.page.tsx";

const BASE = "/admin/category-syncs";
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
const asRedriveStatus = (value: unknown): RedriveStatus => REDRIVE_STATUSES.find((s) => s === value) ?? "dead";

export const categorySyncRoutes = new Hono<ConsoleEnv>({ strict: false })
  .get("/category-syncs", async (c) => {
    const { api, session } = signedIn(c);
    const status = readSyncStatus(c.req.query("status"));
    const userId = readSyncUser(c.req.query("user_id"));
    const cursor = c.req.query("cursor") || undefined;
    const result = await api.get<CategorySyncJobDto[]>("/category-syncs/", { status, user_id: userId, cursor, limit: 50 });
    return renderPage(
      c,
      { title: "Category syncs", active: "category-syncs" },
      <CategorySyncsPage
        csrfToken={session.csrfToken}
        status={status}
        userId={userId}
        jobs={result.ok ? { data: result.data, nextCursor: result.nextCursor } : result.error}
        isFirstPage={!cursor}
      />,
    );
  })
  .get("/category-syncs/redrive", async (c) => {
    const { api, session } = signedIn(c);
    const status = asRedriveStatus(c.req.query("status"));
    const list = await api.get<CategorySyncJobDto[]>("/category-syncs/", { status, limit: 200 });
    return renderPage(
      c,
      { title: `Redrive ${status} category syncs`, active: "category-syncs", breadcrumb: <a href={BASE}>← Category syncs</a> },
      <RedriveConfirmPage csrfToken={session.csrfToken} status={status} count={list.ok ? { count: list.data.length, more: list.nextCursor !== null } : list.error} />,
    );
  })
  .post("/category-syncs/redrive", async (c) => {
    const { api, secret } = signedIn(c);
    const form = await c.req.parseBody();
    const status = asRedriveStatus(form["status"]);
    const limit = Math.min(1000, Math.max(1, Math.trunc(Number(form["limit"])) || 100));
    const result = await api.send<{ queued: number }>("POST", "/category-syncs/redrive/", { status, limit });
    await setFlash(
      c,
      secret,
      result.ok
        ? { kind: "success", message: `Redrive: ${plural(result.data.queued, `${status} job`)} back to pending and queued.` }
        : errorFlash(result.error, "Redrive"),
    );
    return c.redirect(`${BASE}?status=${result.ok ? "pending" : status}`, 303);
  })
  .post("/category-syncs/:id/retry", async (c) => {
    const { api, secret } = signedIn(c);
    const id = c.req.param("id");
    const form = await c.req.parseBody();
    const status = readSyncStatus(typeof form["status"] === "string" ? form["status"] : undefined);
    const userId = readSyncUser(typeof form["user_id"] === "string" ? form["user_id"] : undefined);
    const owner = readSyncUser(typeof form["owner"] === "string" ? form["owner"] : undefined);
    const query = owner ? `?user_id=${encodeURIComponent(owner)}` : "";
    const result = await api.send<{ queued: number }>("POST", `/category-syncs/${encodeURIComponent(id)}/retry/${query}`);
    await setFlash(c, secret, result.ok ? { kind: "success", message: "Sync job back to pending and queued for another attempt." } : errorFlash(result.error, "Retry"));
    const back = new URLSearchParams({ ...(status ? { status } : {}), ...(userId ? { user_id: userId } : {}) }).toString();
    return c.redirect(`${BASE}${back ? `?${back}` : ""}`, 303);
  });
