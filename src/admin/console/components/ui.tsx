import type { FC } from "hono/jsx";
import type { ApiError } from "../console-api.ts";
import { CSRF_FIELD, type Flash } from "../console-session.ts";

/** The per-session CSRF token every console form carries. */
export const CsrfField: FC<{ token: string }> = ({ token }) => <input type="hidden" name={CSRF_FIELD} value={token} />;

export const FlashMessage: FC<{ flash: Flash }> = ({ flash }) => (
  <div class={`flash flash--${flash.kind}`} role={flash.kind === "error" ? "alert" : "status"}>
    <p>{flash.message}</p>
    {flash.requestId ? (
      <p class="request-id">
        Request id <span class="mono">{flash.requestId}</span>
      </p>
    ) : null}
  </div>
);

/** An admin API failure, readable: what went wrong, which fields, and the request id to quote. */
export const ApiErrorNotice: FC<{ error: ApiError; context?: string }> = ({ error, context }) => (
  <div class="flash flash--error" role="alert">
    <p>
      {context ? <strong>{context}: </strong> : null}
      {error.message} <span class="muted">({error.code}, HTTP {error.status})</span>
    </p>
    {error.details.length > 0 ? (
      <ul>
        {error.details.map((detail) => (
          <li>
            <code>{detail.field}</code> {detail.message}
          </li>
        ))}
      </ul>
    ) : null}
    {error.requestId ? (
      <p class="request-id">
        Request id <span class="mono">{error.requestId}</span>
      </p>
    ) : null}
  </div>
);

/** The text an API error becomes in a flash message after a redirect. */
export function errorFlash(error: ApiError, action: string): Flash {
  const fields = error.details.map((d) => `${d.field}: ${d.message}`).join("; ");
  const text = fields && !error.message.includes(fields) ? `${error.message} (${fields})` : error.message;
  return { kind: "error", message: `${action} failed: ${text}`, ...(error.requestId ? { requestId: error.requestId } : {}) };
}

type Tone = "ok" | "warn" | "bad" | "info" | "neutral";

const STATUS_TONES: Record<string, Tone> = {
  processed: "ok",
  synced: "ok",
  accepted: "ok",
  received: "info",
  processing: "info",
  pending: "info",
  queued: "info",
  ignored: "neutral",
  skipped: "neutral",
  rejected: "warn",
  failed: "bad",
  dead: "bad",
};

/** A status as text in a coloured pill: the word carries the meaning, the colour only repeats it. */
export const StatusBadge: FC<{ status: string | null | undefined }> = ({ status }) =>
  status ? <span class={`badge badge--${STATUS_TONES[status] ?? "neutral"}`}>{status}</span> : <span class="muted">—</span>;

/** An RFC 3339 instant as `YYYY-MM-DD HH:MM:SS UTC`, inside a machine-readable `<time>`. */
export const Instant: FC<{ value: string | null | undefined }> = ({ value }) => {
  if (!value) return <span class="muted">—</span>;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return <span>{value}</span>;
  const text = `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
  return <time datetime={date.toISOString()}>{text}</time>;
};

/** A value or a dash for null. */
export const Maybe: FC<{ value: string | number | null | undefined; mono?: boolean }> = ({ value, mono }) =>
  value === null || value === undefined || value === "" ? (
    <span class="muted">—</span>
  ) : (
    <span class={mono ? "mono" : undefined}>{String(value)}</span>
  );

/** "Next page" link carrying the API's opaque cursor with the current filters. */
export const Pager: FC<{ basePath: string; query: Record<string, string | undefined>; nextCursor: string | null; isFirstPage: boolean }> = ({
  basePath,
  query,
  nextCursor,
  isFirstPage,
}) => {
  if (!nextCursor && isFirstPage) return null;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
  const first = params.toString();
  params.set("cursor", nextCursor ?? "");
  return (
    <nav class="pager" aria-label="Pagination">
      {!isFirstPage ? <a href={`${basePath}${first ? `?${first}` : ""}`}>First page</a> : null}
      {nextCursor ? <a href={`${basePath}?${params.toString()}`}>Next page →</a> : <span class="muted">Last page</span>}
    </nav>
  );
};
