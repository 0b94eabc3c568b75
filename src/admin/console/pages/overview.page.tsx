import type { FC } from "hono/jsx";
import type { MetricsDto } from "../../../category-sync/category-sync.schemas.ts";
import { BarChart, type BarRow } from "../components/bar-chart.tsx";
import type { ApiError } from "../console-api.ts";
import { ApiErrorNotice } from "../components/ui.tsx";

export const WINDOWS = ["24h", "7d", "30d"] as const;
export type MetricsWindow = (typeof WINDOWS)[number];

const WINDOW_NAMES: Record<MetricsWindow, string> = { "24h": "last 24 hours", "7d": "last 7 days", "30d": "last 30 days" };
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A bucket start as a short label: "14:00" for hours, "Nov 28" for days (UTC). */
export function bucketLabel(bucket: string, window: MetricsWindow): string {
  const date = new Date(bucket);
  if (Number.isNaN(date.getTime())) return bucket;
  if (window === "24h") return `${String(date.getUTCHours()).padStart(2, "0")}:00`;
  return `${MONTHS[date.getUTCMonth()] ?? ""} ${date.getUTCDate()}`;
}

/** 0.9731 → "97.3%"; null (nothing finished) → "—". */
export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return "—";
  return `${Math.round(rate * 1000) / 10}%`;
}

/** A count that came from a capped list: "200+" when more pages exist. */
export interface CappedCount {
  count: number;
  more: boolean;
}
const capped = (value: CappedCount | ApiError | undefined) =>
  value === undefined || "code" in value ? "?" : `${value.count}${value.more ? "+" : ""}`;

export interface OverviewProps {
  window: MetricsWindow;
  /** Metrics per window; an entry is an error when that call failed. */
  metrics: Record<MetricsWindow, MetricsDto | ApiError>;
  now: {
    syncFailed: CappedCount | ApiError;
    syncDead: CappedCount | ApiError;
    eventsFailed: CappedCount | ApiError;
    eventsDead: CappedCount | ApiError;
  };
}

function syncRows(metrics: MetricsDto, window: MetricsWindow): BarRow[] {
  return metrics.series.map((point) => {
    const { succeeded, failed, dead } = point.category_sync;
    const finished = succeeded + failed + dead;
    return {
      label: bucketLabel(point.bucket, window),
      segments: finished === 0 ? [] : [
        { value: succeeded / finished, tone: "ok" as const },
        { value: (failed + dead) / finished, tone: "bad" as const },
      ],
      display: finished === 0 ? "—" : `${formatRate(succeeded / finished)} (${succeeded}/${finished})`,
    };
  });
}

function intakeRows(metrics: MetricsDto, window: MetricsWindow): BarRow[] {
  return metrics.series.map((point) => {
    const { accepted, duplicate, rejected } = point.webhooks;
    const extra = [duplicate ? `${duplicate} dup` : "", rejected ? `${rejected} rej` : ""].filter(Boolean).join(", ");
    return {
      label: bucketLabel(point.bucket, window),
      segments: [
        { value: accepted, tone: "default" as const },
        { value: duplicate, tone: "ok" as const },
        { value: rejected, tone: "bad" as const },
      ],
      display: `${accepted}${extra ? ` (${extra})` : ""}`,
    };
  });
}

const Stat: FC<{ label: string; value: string; tone?: "ok" | "warn" | "bad" | undefined; href?: string }> = ({ label, value, tone, href }) => (
  <div class={`stat${tone ? ` stat--${tone}` : ""}`}>
    <dt>{label}</dt>
    <dd>{href ? <a href={href}>{value}</a> : value}</dd>
  </div>
);

const toneFor = (value: CappedCount | ApiError, tone: "warn" | "bad") => ("code" in value || value.count === 0 ? undefined : tone);

/** The dashboard: live counts, the selected window's charts, and the three windows side by side. */
export const OverviewPage: FC<OverviewProps> = ({ window, metrics, now }) => {
  const current = metrics[window];
  const errors = WINDOWS.map((w) => metrics[w]).filter((m): m is ApiError => "code" in m);
  const firstError = errors[0];
  const ok = "code" in current ? undefined : current;
  const reconciliation: MetricsDto["reconciliation"] | undefined = ok?.reconciliation;
  return (
    <>
      {firstError ? <ApiErrorNotice error={firstError} context="Metrics" /> : null}
      <nav aria-label="Time window">
        <ul class="tabs">
          {WINDOWS.map((w) => (
            <li>
              <a href={`/admin?window=${w}`} aria-current={w === window ? "page" : undefined}>
                {WINDOW_NAMES[w]}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <section aria-labelledby="now-title">
        <h2 id="now-title" class="visually-hidden">
          Current state
        </h2>
        <dl class="stats">
          <Stat label={`Sync success rate (${window})`} value={formatRate(ok?.category_sync.success_rate)} />
          <Stat label="Syncs pending now" value={ok ? String(ok.category_sync.pending) : "?"} href="/admin/category-syncs?status=pending" />
          <Stat label="Syncs failed now" value={capped(now.syncFailed)} tone={toneFor(now.syncFailed, "warn")} href="/admin/category-syncs?status=failed" />
          <Stat label="Syncs dead now" value={capped(now.syncDead)} tone={toneFor(now.syncDead, "bad")} href="/admin/category-syncs?status=dead" />
          <Stat label="Webhooks failed now" value={capped(now.eventsFailed)} tone={toneFor(now.eventsFailed, "warn")} href="/admin/webhook-events?status=failed" />
          <Stat label="Webhooks dead now" value={capped(now.eventsDead)} tone={toneFor(now.eventsDead, "bad")} href="/admin/webhook-events?status=dead" />
          <Stat
            label={`Webhooks unsigned (${window})`}
            value={ok ? `${ok.webhooks.unsigned} of ${ok.webhooks.accepted}` : "?"}
            tone={ok && ok.webhooks.unsigned > 0 ? "warn" : undefined}
          />
        </dl>
        {ok && ok.webhooks.unsigned > 0 ? (
          <p class="muted">
            Unsigned: accepted on the X-Webhook-Token without an X-Pluggy-Signature (the signature rollout). Their detail shows
            “unsigned” under Signature.
          </p>
        ) : null}
      </section>
      {ok ? (
        <div class="grid">
          <section class="card" aria-labelledby="sync-chart-heading">
            <h2 id="sync-chart-heading">Category sync success rate</h2>
            <p class="muted">
              Per {window === "24h" ? "hour" : "day"}, UTC: synced to Pluggy out of finished attempts.
            </p>
            <BarChart
              id="sync-chart"
              title={`Category sync success rate, ${WINDOW_NAMES[window]}`}
              summary={`${ok.category_sync.succeeded} synced, ${ok.category_sync.failed} failed, ${ok.category_sync.dead} dead; success rate ${formatRate(ok.category_sync.success_rate)}.`}
              rows={syncRows(ok, window)}
              scale={1}
              tableHeaders={["Bucket (UTC)", "Success rate (synced/finished)"]}
              legend={[
                { label: "synced", tone: "ok" },
                { label: "failed or dead", tone: "bad" },
              ]}
            />
          </section>
          <section class="card" aria-labelledby="intake-chart-heading">
            <h2 id="intake-chart-heading">Webhook intake</h2>
            <p class="muted">Per {window === "24h" ? "hour" : "day"}, UTC: deliveries accepted, duplicates and rejected.</p>
            <BarChart
              id="intake-chart"
              title={`Webhook intake, ${WINDOW_NAMES[window]}`}
              summary={`${ok.webhooks.accepted} accepted (${ok.webhooks.unsigned} unsigned), ${ok.webhooks.duplicate} duplicates, ${ok.webhooks.rejected} rejected; ${ok.webhooks.processed} processed, ${ok.webhooks.failed} failed, ${ok.webhooks.dead} dead.`}
              rows={intakeRows(ok, window)}
              tableHeaders={["Bucket (UTC)", "Accepted (duplicates, rejected)"]}
              legend={[
                { label: "accepted", tone: "default" },
                { label: "duplicate", tone: "ok" },
                { label: "rejected", tone: "bad" },
              ]}
            />
          </section>
        </div>
      ) : null}
      <section aria-labelledby="windows-title">
        <h2 id="windows-title">Totals by window</h2>
        <div class="table-wrap">
          <table class="cards">
            <thead>
              <tr>
                <td data-label="" />
                <th scope="colgroup" colspan={5} class="group">
                  Category syncs
                </th>
                <th scope="colgroup" colspan={7} class="group">
                  Webhooks
                </th>
              </tr>
              <tr>
                <th scope="col">Window</th>
                <th scope="col" class="num group-start">Success</th>
                <th scope="col" class="num">Synced</th>
                <th scope="col" class="num">Failed</th>
                <th scope="col" class="num">Dead</th>
                <th scope="col" class="num">Skipped</th>
                <th scope="col" class="num group-start">Accepted</th>
                <th scope="col" class="num">Unsigned</th>
                <th scope="col" class="num">Duplicates</th>
                <th scope="col" class="num">Rejected</th>
                <th scope="col" class="num">Processed</th>
                <th scope="col" class="num">Failed</th>
                <th scope="col" class="num">Dead</th>
              </tr>
            </thead>
            <tbody>
              {WINDOWS.map((w) => {
                const m = metrics[w];
                if ("code" in m) {
                  return (
                    <tr>
                      <th scope="row">{WINDOW_NAMES[w]}</th>
                      <td colspan={12} data-label="">
                        unavailable: {m.message}
                      </td>
                    </tr>
                  );
                }
                return (
                  <tr>
                    <th scope="row">{WINDOW_NAMES[w]}</th>
                    <td class="num group-start" data-label="Sync success">{formatRate(m.category_sync.success_rate)}</td>
                    <td class="num" data-label="Synced">{m.category_sync.succeeded}</td>
                    <td class="num" data-label="Sync failed">{m.category_sync.failed}</td>
                    <td class="num" data-label="Sync dead">{m.category_sync.dead}</td>
                    <td class="num" data-label="Sync skipped">{m.category_sync.skipped}</td>
                    <td class="num group-start" data-label="Webhooks accepted">{m.webhooks.accepted}</td>
                    <td class="num" data-label="Unsigned">{m.webhooks.unsigned}</td>
                    <td class="num" data-label="Duplicates">{m.webhooks.duplicate}</td>
                    <td class="num" data-label="Rejected">{m.webhooks.rejected}</td>
                    <td class="num" data-label="Processed">{m.webhooks.processed}</td>
                    <td class="num" data-label="Webhooks failed">{m.webhooks.failed}</td>
                    <td class="num" data-label="Webhooks dead">{m.webhooks.dead}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>
      {reconciliation ? (
        <section class="card" aria-labelledby="reconcile-title">
          <h2 id="reconcile-title">Reconciliation ({WINDOW_NAMES[window]})</h2>
          <p class="muted">Rows healed without a webhook: what reconciliation had to add, update or remove to match Pluggy.</p>
          <dl class="stats">
            <Stat label="Rows healed" value={String(reconciliation.added + reconciliation.updated + reconciliation.removed)} />
            <Stat label="Added" value={String(reconciliation.added)} />
            <Stat label="Updated" value={String(reconciliation.updated)} />
            <Stat label="Removed" value={String(reconciliation.removed)} />
            <Stat label="Runs" value={String(reconciliation.runs)} />
            <Stat label="Items checked" value={String(reconciliation.items)} />
          </dl>
        </section>
      ) : null}
    </>
  );
};
