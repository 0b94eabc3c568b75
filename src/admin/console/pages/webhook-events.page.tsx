import type { FC } from "hono/jsx";
import { WEBHOOK_EVENT_STATUSES } from "../../../db/schema.ts";
import type { BulkReplayResult, WebhookEventView } from "../../../webhooks/webhook-events.service.ts";
import type { ApiError } from "../console-api.ts";
import { ApiErrorNotice, CsrfField, Instant, Maybe, Pager, StatusBadge } from "../components/ui.tsx";

/** Pluggy's event names, offered as suggestions in the filter (any other name can be typed). */
const PLUGGY_EVENTS = [
  "item/created",
  "item/updated",
  "item/error",
  "item/deleted",
  "item/waiting_user_input",
  "item/waiting_user_action",
  "item/login_succeeded",
  "transactions/created",
  "transactions/updated",
  "transactions/deleted",
  "connector/status_updated",
];

/** The list filters as the form holds them (`from`/`to` are `datetime-local` values, read as UTC). */
export interface EventFilters {
  status: string;
  event: string;
  item_id: string;
  from: string;
  to: string;
}

const LOCAL_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

/** A `datetime-local` value taken as UTC → RFC 3339, or undefined when empty or malformed. */
export function utcInstant(value: string): string | undefined {
  if (!LOCAL_DATETIME.test(value)) return undefined;
  const date = new Date(`${value}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** Filters from a query string or form, trimmed and bounded; unknown statuses are dropped. */
export function readFilters(get: (key: string) => string | undefined): EventFilters {
  const text = (key: string, max: number) => (get(key) ?? "").trim().slice(0, max);
  const status = text("status", 20);
  return {
    status: (WEBHOOK_EVENT_STATUSES as readonly string[]).includes(status) ? status : "",
    event: text("event", 100),
    item_id: text("item_id", 128),
    from: LOCAL_DATETIME.test(text("from", 30)) ? text("from", 30) : "",
    to: LOCAL_DATETIME.test(text("to", 30)) ? text("to", 30) : "",
  };
}

/** The admin API's filter parameters for these form filters. */
export function apiFilters(filters: EventFilters): Record<string, string | undefined> {
  return {
    status: filters.status || undefined,
    event: filters.event || undefined,
    item_id: filters.item_id || undefined,
    received_from: utcInstant(filters.from),
    received_to: utcInstant(filters.to),
  };
}

const filterQuery = (filters: EventFilters): Record<string, string> =>
  Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== "")) as Record<string, string>;

export function listHref(filters: EventFilters): string {
  const search = new URLSearchParams(filterQuery(filters)).toString();
  return `/admin/webhook-events${search ? `?${search}` : ""}`;
}

const FilterHiddenFields: FC<{ filters: EventFilters }> = ({ filters }) => (
  <>
    {Object.entries(filterQuery(filters)).map(([name, value]) => (
      <input type="hidden" name={name} value={value} />
    ))}
  </>
);

const FilterForm: FC<{ filters: EventFilters }> = ({ filters }) => (
  <form method="get" action="/admin/webhook-events" class="card" role="search" aria-labelledby="filters-title">
    <h2 id="filters-title">Filter</h2>
    <div class="form-row">
      <div class="field">
        <label for="status">Status</label>
        <select id="status" name="status">
          <option value="">any status</option>
          {WEBHOOK_EVENT_STATUSES.map((status) => (
            <option value={status} selected={filters.status === status}>
              {status}
            </option>
          ))}
        </select>
      </div>
      <div class="field field--grow">
        <label for="event">Event type</label>
        <input type="text" id="event" name="event" list="pluggy-events" value={filters.event} placeholder="e.g. item/updated" autocomplete="off" />
        <datalist id="pluggy-events">
          {PLUGGY_EVENTS.map((name) => (
            <option value={name} />
          ))}
        </datalist>
      </div>
      <div class="field field--grow">
        <label for="item_id">Item id</label>
        <input type="text" id="item_id" name="item_id" value={filters.item_id} class="mono" autocomplete="off" />
      </div>
      <div class="field">
        <label for="from">
          Received from <span class="hint">(UTC)</span>
        </label>
        <input type="datetime-local" id="from" name="from" value={filters.from} />
      </div>
      <div class="field">
        <label for="to">
          Received before <span class="hint">(UTC)</span>
        </label>
        <input type="datetime-local" id="to" name="to" value={filters.to} />
      </div>
      <div class="actions">
        <button type="submit">Apply filters</button>
        <a href="/admin/webhook-events">Clear</a>
      </div>
    </div>
  </form>
);

export interface WebhookEventsProps {
  csrfToken: string;
  filters: EventFilters;
  events: { data: WebhookEventView[]; nextCursor: string | null } | ApiError;
  isFirstPage: boolean;
}

/** Webhook events: filters, the newest-first list, and bulk replay of what the filters match (dry run first). */
export const WebhookEventsPage: FC<WebhookEventsProps> = ({ csrfToken, filters, events, isFirstPage }) => (
  <>
    <p class="lead">Every delivery Pluggy sent, as received. Open one to see its payload, download its exact bytes or replay it.</p>
    <FilterForm filters={filters} />
    {"code" in events ? (
      <ApiErrorNotice error={events} context="Loading webhook events" />
    ) : (
      <>
        <div class="table-wrap">
          <table class="cards">
            <caption class="visually-hidden">Webhook events, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Event id</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Item</th>
                <th scope="col">Received</th>
                <th scope="col" class="num">Attempts</th>
                <th scope="col" class="num">Replays</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {events.data.map((event) => (
                <tr>
                  <th scope="row" class="wrap">
                    <a href={`/admin/webhook-events/${encodeURIComponent(event.event_id)}`} class="mono">
                      {event.event_id}
                    </a>
                  </th>
                  <td data-label="Type">{event.event}</td>
                  <td data-label="Status">
                    <StatusBadge status={event.status} />
                  </td>
                  <td data-label="Item" class="wrap">
                    <Maybe value={event.item_id} mono />
                  </td>
                  <td data-label="Received">
                    <Instant value={event.received_at} />
                  </td>
                  <td data-label="Attempts" class="num">
                    {event.attempts}
                  </td>
                  <td data-label="Replays" class="num">
                    {event.replay_count}
                  </td>
                  <td data-label="Last error" class="wrap">
                    <Maybe value={event.last_error} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {events.data.length === 0 ? <p class="empty">No webhook event matches these filters.</p> : null}
        </div>
        <Pager basePath="/admin/webhook-events" query={filterQuery(filters)} nextCursor={events.nextCursor} isFirstPage={isFirstPage} />
      </>
    )}
    <section class="card" aria-labelledby="bulk-title">
      <h2 id="bulk-title">Replay events matching these filters</h2>
      <p class="muted">
        Re-processes each event from its archived bytes (checked against its sha256), oldest first. Rejected deliveries,
        purged bodies and events being processed right now are skipped. You will see what would be queued before
        anything happens.
      </p>
      <form method="post" action="/admin/webhook-events/replay" class="form-row">
        <CsrfField token={csrfToken} />
        <FilterHiddenFields filters={filters} />
        <div class="field">
          <label for="limit">At most</label>
          <input type="number" id="limit" name="limit" min={1} max={1000} value="100" required />
        </div>
        <button type="submit" class="secondary">
          Preview replay (dry run)
        </button>
      </form>
    </section>
  </>
);

export interface ReplayPreviewProps {
  csrfToken: string;
  filters: EventFilters;
  limit: number;
  preview: BulkReplayResult;
}

const FILTER_NAMES: Record<keyof EventFilters, string> = {
  status: "status",
  event: "type",
  item_id: "item",
  from: "received from",
  to: "received before",
};

/** "type item/created, received before 2026-11-29 17:47 UTC": the filters as a sentence. */
export function describeFilters(filters: EventFilters): string {
  return (Object.keys(FILTER_NAMES) as Array<keyof EventFilters>)
    .filter((key) => filters[key] !== "")
    .map((key) => `${FILTER_NAMES[key]} ${key === "from" || key === "to" ? `${filters[key].replace("T", " ")} UTC` : filters[key]}`)
    .join(", ");
}

/** The dry run's answer: how many match, which ids would be queued, and the button that does it. */
export const ReplayPreviewPage: FC<ReplayPreviewProps> = ({ csrfToken, filters, limit, preview }) => {
  const described = describeFilters(filters);
  const count = preview.event_ids.length;
  return (
    <>
      <div class="flash flash--info" role="status">
        <p>
          Dry run: nothing has been queued yet. {preview.matched} replayable event{preview.matched === 1 ? " matches" : "s match"}{" "}
          {described ? `(${described})` : "(no filters: every replayable event)"}. Confirming queues the {count === 1 ? "one" : count}{" "}
          listed below{preview.matched > count ? `, the oldest ${limit}; run it again for the rest` : ""}.
        </p>
      </div>
      {preview.event_ids.length > 0 ? (
        <form method="post" action="/admin/webhook-events/replay" class="card">
          <CsrfField token={csrfToken} />
          <FilterHiddenFields filters={filters} />
          <input type="hidden" name="limit" value={String(limit)} />
          <input type="hidden" name="confirm" value="yes" />
          <div class="actions">
            <button type="submit">
              Replay {preview.event_ids.length} event{preview.event_ids.length === 1 ? "" : "s"}
            </button>
            <a href={listHref(filters)}>Cancel</a>
          </div>
        </form>
      ) : (
        <p>
          Nothing to replay. <a href={listHref(filters)}>Back to the events</a>
        </p>
      )}
      {preview.event_ids.length > 0 ? (
        <section class="card" aria-labelledby="would-queue-title">
          <h2 id="would-queue-title">Would be queued ({preview.event_ids.length})</h2>
          <ol class="mono">
            {preview.event_ids.map((id) => (
              <li>
                <a href={`/admin/webhook-events/${encodeURIComponent(id)}`}>{id}</a>
              </li>
            ))}
          </ol>
        </section>
      ) : null}
    </>
  );
};

/**
 * What `last_error` means for an event in this status: why it failed, why it was ignored, or — for a
 * processed one — what of it was not applied (e.g. deletions Pluggy did not confirm).
 */
export function lastErrorLabel(status: string): string {
  if (status === "ignored") return "Why ignored";
  if (status === "processed") return "Note";
  return "Last error";
}

/** How the delivery was authenticated, from `matched_key`. */
const SignatureNote: FC<{ matchedKey: string | null }> = ({ matchedKey }) => {
  if (matchedKey === "unsigned") {
    return (
      <>
        <span class="badge badge--warn">unsigned</span> <span class="muted">no X-Pluggy-Signature; accepted on the X-Webhook-Token alone</span>
      </>
    );
  }
  if (matchedKey === "none") {
    return (
      <>
        <span class="badge badge--warn">not checked</span> <span class="muted">no PLUGGY_WEBHOOK_SECRET configured</span>
      </>
    );
  }
  return <Maybe value={matchedKey === null ? null : `verified with ${matchedKey}`} mono />;
};

export interface WebhookEventDetailProps {
  csrfToken: string;
  event: WebhookEventView & { payload: unknown };
}

/** One event: everything recorded about it, its parsed payload, the raw bytes, and replay. */
export const WebhookEventDetailPage: FC<WebhookEventDetailProps> = ({ csrfToken, event }) => {
  const base = `/admin/webhook-events/${encodeURIComponent(event.event_id)}`;
  const payload = event.payload === null || event.payload === undefined ? null : JSON.stringify(event.payload, null, 2);
  return (
    <>
      <div class="actions card">
        <StatusBadge status={event.status} />
        <form method="post" action={`${base}/replay`}>
          <CsrfField token={csrfToken} />
          <button type="submit">Replay this event</button>
        </form>
        {event.payload_purged_at ? (
          <span class="muted">Raw body purged by retention</span>
        ) : (
          <>
            <a href={`${base}/raw`}>View raw bytes</a>
            <a href={`${base}/raw?download=1`}>Download raw bytes</a>
          </>
        )}
      </div>
      <div class="grid">
        <section class="card" aria-labelledby="meta-title">
          <h2 id="meta-title">Metadata</h2>
          <dl class="meta">
            <dt>Event id</dt>
            <dd class="mono">{event.event_id}</dd>
            <dt>Type</dt>
            <dd>{event.event}</dd>
            <dt>Item</dt>
            <dd>
              {event.item_id ? (
                <a href={`/admin/webhook-events?item_id=${encodeURIComponent(event.item_id)}`} class="mono">
                  {event.item_id}
                </a>
              ) : (
                <span class="muted">—</span>
              )}
            </dd>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={event.status} />
            </dd>
            <dt>Attempts</dt>
            <dd>{event.attempts}</dd>
            <dt>Replays</dt>
            <dd>{event.replay_count}</dd>
            <dt>{lastErrorLabel(event.status)}</dt>
            <dd>
              <Maybe value={event.last_error} />
            </dd>
            <dt>Received</dt>
            <dd>
              <Instant value={event.received_at} />
            </dd>
            <dt>Processed</dt>
            <dd>
              <Instant value={event.processed_at} />
            </dd>
          </dl>
        </section>
        <section class="card" aria-labelledby="delivery-title">
          <h2 id="delivery-title">Delivery</h2>
          <dl class="meta">
            <dt>Body sha256</dt>
            <dd class="mono">{event.body_sha256}</dd>
            <dt>Content type</dt>
            <dd>
              <Maybe value={event.content_type} mono />
            </dd>
            <dt>Signature</dt>
            <dd>
              <SignatureNote matchedKey={event.matched_key} />
            </dd>
            <dt>Intake request id</dt>
            <dd>
              <Maybe value={event.request_id} mono />
            </dd>
            <dt>Body purged</dt>
            <dd>
              <Instant value={event.payload_purged_at} />
            </dd>
          </dl>
        </section>
      </div>
      <section class="card" aria-labelledby="payload-title">
        <h2 id="payload-title">Payload</h2>
        {payload ? (
          <pre class="json" tabindex={0} aria-label="Payload JSON">
            {payload}
          </pre>
        ) : (
          <p class="muted">No parsed payload: the body was purged, is missing from the archive, or is not JSON. The raw bytes link shows what was stored.</p>
        )}
      </section>
    </>
  );
};
