import { Hono } from "hono";
import type { BulkReplayResult, WebhookEventView } from "../../../webhooks/webhook-events.service.ts";
import { readResult } from "../console-api.ts";
import type { ConsoleEnv } from "../console.env.ts";
import { signedIn } from "../console-guard.tsx";
import { renderPage } from "../console-render.tsx";
import { setFlash } from "../console-session.ts";
import { ApiErrorNotice, errorFlash } from "../components/ui.tsx";
import {
  apiFilters,
  listHref,
  readFilters,
  ReplayPreviewPage,
  WebhookEventDetailPage,
  WebhookEventsPage,
  type EventFilters,
} from "./webhook-events.page.tsx";

const BASE = "/admin/webhook-events";
const MAX_BULK = 1000;

const breadcrumb = <a href={BASE}>← Webhook events</a>;

/** A preview must confirm the same set it showed: without an upper bound, cap the range at the preview's instant. */
function pinnedRange(filters: EventFilters): EventFilters {
  if (filters.to) return filters;
  return { ...filters, to: new Date().toISOString().slice(0, 19) };
}

export const webhookEventRoutes = new Hono<ConsoleEnv>({ strict: false })
  .get("/webhook-events", async (c) => {
    const { api, session } = signedIn(c);
    const filters = readFilters((key) => c.req.query(key));
    const cursor = c.req.query("cursor") || undefined;
    const result = await api.get<WebhookEventView[]>("/webhook-events/", { ...apiFilters(filters), cursor, limit: 50 });
    return renderPage(
      c,
      { title: "Webhook events", active: "webhook-events" },
      <WebhookEventsPage
        csrfToken={session.csrfToken}
        filters={filters}
        events={result.ok ? { data: result.data, nextCursor: result.nextCursor } : result.error}
        isFirstPage={!cursor}
      />,
    );
  })
  .post("/webhook-events/replay", async (c) => {
    const { api, session, secret } = signedIn(c);
    const form = await c.req.parseBody();
    const field = (key: string) => (typeof form[key] === "string" ? form[key] : undefined);
    const limit = Math.min(MAX_BULK, Math.max(1, Math.trunc(Number(field("limit") ?? 100)) || 100));
    const confirmed = field("confirm") === "yes";
    const filters = confirmed ? readFilters(field) : pinnedRange(readFilters(field));
    const result = await api.send<BulkReplayResult>("POST", "/webhook-events/replay/", {
      ...Object.fromEntries(Object.entries(apiFilters(filters)).filter(([, value]) => value !== undefined)),
      limit,
      dry_run: !confirmed,
    });
    if (confirmed) {
      await setFlash(
        c,
        secret,
        result.ok
          ? { kind: "success", message: `Queued ${result.data.queued} webhook event${result.data.queued === 1 ? "" : "s"} for replay (${result.data.matched} matched).` }
          : errorFlash(result.error, "Bulk replay"),
      );
      return c.redirect(listHref(filters), 303);
    }
    if (!result.ok) {
      return renderPage(
        c,
        { title: "Replay preview", active: "webhook-events", breadcrumb, status: result.error.status === 400 ? 400 : 502 },
        <ApiErrorNotice error={result.error} context="Dry run" />,
      );
    }
    return renderPage(
      c,
      { title: "Replay preview", active: "webhook-events", breadcrumb },
      <ReplayPreviewPage csrfToken={session.csrfToken} filters={filters} limit={limit} preview={result.data} />,
    );
  })
  .get("/webhook-events/:eventId", async (c) => {
    const { api, session } = signedIn(c);
    const eventId = c.req.param("eventId");
    const result = await api.get<WebhookEventView & { payload: unknown }>(`/webhook-events/${encodeURIComponent(eventId)}/`);
    if (!result.ok) {
      return renderPage(
        c,
        { title: "Webhook event", active: "webhook-events", breadcrumb, status: result.error.status === 404 ? 404 : 502 },
        <ApiErrorNotice error={result.error} context={`Event ${eventId}`} />,
      );
    }
    return renderPage(
      c,
      { title: `Webhook event ${result.data.event}`, active: "webhook-events", breadcrumb },
      <WebhookEventDetailPage csrfToken={session.csrfToken} event={result.data} />,
    );
  })
  .get("/webhook-events/:eventId/raw", async (c) => {
    const { api } = signedIn(c);
    const eventId = c.req.param("eventId");
    const response = await api.raw(`/webhook-events/${encodeURIComponent(eventId)}/raw/`);
    if (!response.ok) {
      const result = await readResult<unknown>(response);
      if (result.ok) throw new Error("unreachable: a failed response read as success");
      return renderPage(
        c,
        { title: "Raw bytes", active: "webhook-events", breadcrumb, status: result.error.status === 410 ? 410 : 404 },
        <ApiErrorNotice error={result.error} context={`Raw bytes of ${eventId}`} />,
      );
    }
    // The exact bytes, shown as text (never interpreted as HTML) or downloaded as a file.
    const download = c.req.query("download") === "1";
    const headers = new Headers({
      "Content-Type": download ? "application/octet-stream" : "text/plain; charset=utf-8",
      "Content-Disposition": `${download ? "attachment" : "inline"}; filename="webhook-${eventId.replace(/[^A-Za-z0-9._-]/g, "_")}.json"`,
      "X-Content-Type-Options": "nosniff",
    });
    const length = response.headers.get("Content-Length");
    if (length) headers.set("Content-Length", length);
    for (const name of ["X-Body-Sha256", "ETag"]) {
      const value = response.headers.get(name);
      if (value) headers.set(name, value);
    }
    return new Response(response.body, { status: 200, headers });
  })
  .post("/webhook-events/:eventId/replay", async (c) => {
    const { api, secret } = signedIn(c);
    const eventId = c.req.param("eventId");
    const result = await api.send<{ event_id: string; status: string }>("POST", `/webhook-events/${encodeURIComponent(eventId)}/replay/`);
    await setFlash(
      c,
      secret,
      result.ok
        ? { kind: "success", message: `Event ${eventId} queued for replay. Reload in a moment to see it processed.` }
        : errorFlash(result.error, "Replay"),
    );
    return c.redirect(`${BASE}/${encodeURIComponent(eventId)}`, 303);
  });
