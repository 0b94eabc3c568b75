import type { FC } from "hono/jsx";
import { CATEGORY_SYNC_STATUSES } from "../../../ledger/ledger.schema.ts";
import type { CategorySyncJobDto } from "../../../category-sync/sync-jobs.service.ts";
import type { ApiError } from "../console-api.ts";
import { ApiErrorNotice, CsrfField, Instant, Maybe, Pager, StatusBadge } from "../components/ui.tsx";

export type RedriveStatus = "dead" | "failed";
export const REDRIVE_STATUSES: readonly RedriveStatus[] = ["dead", "failed"];

/** A status from the query, or "" for all; anything unknown is dropped. */
export function readSyncStatus(value: string | undefined): string {
  return value && (CATEGORY_SYNC_STATUSES as readonly string[]).includes(value) ? value : "";
}

/** A user id from the query, or "" for every user (trimmed; anything too long is dropped). */
export function readSyncUser(value: string | undefined): string {
  const trimmed = value?.trim() ?? "";
  return trimmed.length <= 128 ? trimmed : "";
}

export interface CategorySyncsProps {
  csrfToken: string;
  status: string;
  /** One user's jobs (any status), or "" for the jobs needing attention across every user. */
  userId: string;
  jobs: { data: CategorySyncJobDto[]; nextCursor: string | null } | ApiError;
  isFirstPage: boolean;
}

const RetryForm: FC<{ job: CategorySyncJobDto; csrfToken: string; status: string; userId: string }> = ({ job, csrfToken, status, userId }) => (
  <form method="post" action={`/admin/category-syncs/${encodeURIComponent(job.id)}/retry`}>
    <CsrfField token={csrfToken} />
    <input type="hidden" name="status" value={status} />
    <input type="hidden" name="owner" value={job.user_id} />
    <input type="hidden" name="user_id" value={userId} />
    <button type="submit" class="small secondary" aria-label={`Retry the sync of transaction ${job.transaction_id}`}>
      Retry
    </button>
  </form>
);

/** Category syncs: the outbox of category changes on their way to Pluggy, with retry and redrive. */
export const CategorySyncsPage: FC<CategorySyncsProps> = ({ csrfToken, status, userId, jobs, isFirstPage }) => (
  <>
    <p class="lead">
      Each row is one transaction's latest category change on its way to Pluggy. Without a user, the list holds the jobs
      that need you (failed, dead, and pending for more than 10 minutes) across every user; give a user id to see all of
      that user's jobs. Failed and dead jobs say why in their reason; retry one, or redrive them all.
    </p>
    <div class="grid">
      <form method="get" action="/admin/category-syncs" class="card" role="search" aria-labelledby="sync-filter-title">
        <h2 id="sync-filter-title">Filter</h2>
        <div class="form-row">
          <div class="field field--grow">
            <label for="status">Status</label>
            <select id="status" name="status">
              <option value="">{userId ? "any status" : "any needing attention"}</option>
              {CATEGORY_SYNC_STATUSES.map((s) => (
                <option value={s} selected={status === s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <div class="field field--grow">
            <label for="user_id">
              User <span class="hint">(needed for synced)</span>
            </label>
            <input type="text" id="user_id" name="user_id" value={userId} maxlength={128} />
          </div>
          <button type="submit">Apply</button>
        </div>
      </form>
      <form method="get" action="/admin/category-syncs/redrive" class="card" aria-labelledby="redrive-title">
        <h2 id="redrive-title">Redrive</h2>
        <p class="muted">Puts failed or dead jobs back to pending and queues them again. You will be asked to confirm.</p>
        <div class="form-row">
          <div class="field field--grow">
            <label for="redrive-status">Jobs to redrive</label>
            <select id="redrive-status" name="status">
              <option value="dead" selected={status !== "failed"}>
                all dead jobs
              </option>
              <option value="failed" selected={status === "failed"}>
                all failed jobs
              </option>
            </select>
          </div>
          <button type="submit" class="secondary">
            Redrive…
          </button>
        </div>
      </form>
    </div>
    {"code" in jobs ? (
      <ApiErrorNotice error={jobs} context="Loading category syncs" />
    ) : (
      <>
        <div class="table-wrap">
          <table class="cards">
            <caption class="visually-hidden">Category sync jobs, most recently changed first</caption>
            <thead>
              <tr>
                <th scope="col">Transaction</th>
                <th scope="col">User</th>
                <th scope="col">Status</th>
                <th scope="col">Reason</th>
                <th scope="col" class="num">Attempts</th>
                <th scope="col">Pluggy transaction</th>
                <th scope="col">Pluggy category</th>
                <th scope="col">Updated</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {jobs.data.map((job) => (
                <tr id={`sync-${job.id}`}>
                  <th scope="row" class="wrap mono">
                    {job.transaction_id}
                  </th>
                  <td data-label="User" class="wrap mono">
                    <a href={`/admin/category-syncs?user_id=${encodeURIComponent(job.user_id)}`}>{job.user_id}</a>
                  </td>
                  <td data-label="Status">
                    <StatusBadge status={job.status} />
                  </td>
                  <td data-label="Reason" class="wrap">
                    <Maybe value={job.last_error} />
                  </td>
                  <td data-label="Attempts" class="num">
                    {job.attempts}
                  </td>
                  <td data-label="Pluggy transaction" class="wrap">
                    <Maybe value={job.pluggy_transaction_id} mono />
                  </td>
                  <td data-label="Pluggy category">
                    <Maybe value={job.pluggy_category_id} mono />
                  </td>
                  <td data-label="Updated">
                    <Instant value={job.updated_at} />
                  </td>
                  <td data-label="">{job.status !== "synced" ? <RetryForm job={job} csrfToken={csrfToken} status={status} userId={userId} /> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {jobs.data.length === 0 ? (
            <p class="empty">
              No category sync {status ? `is ${status}` : userId ? "yet" : "needs attention"}
              {userId ? " for this user" : ""}.
            </p>
          ) : null}
        </div>
        <Pager basePath="/admin/category-syncs" query={{ status, user_id: userId }} nextCursor={jobs.nextCursor} isFirstPage={isFirstPage} />
      </>
    )}
  </>
);

export interface RedriveConfirmProps {
  csrfToken: string;
  status: RedriveStatus;
  /** How many jobs are in that status now (from the list, capped at one page). */
  count: { count: number; more: boolean } | ApiError;
}

/** The confirmation step of a redrive: how many jobs it would touch, and the button that does it. */
export const RedriveConfirmPage: FC<RedriveConfirmProps> = ({ csrfToken, status, count }) => {
  const known = "code" in count ? null : count;
  return (
    <>
      {"code" in count ? <ApiErrorNotice error={count} context={`Counting ${status} jobs`} /> : null}
      <form method="post" action="/admin/category-syncs/redrive" class="card card--narrow stack">
        <CsrfField token={csrfToken} />
        <input type="hidden" name="status" value={status} />
        <p>
          {known
            ? `There ${known.count === 1 && !known.more ? "is" : "are"} ${known.count}${known.more ? "+" : ""} ${status} category sync job${known.count === 1 && !known.more ? "" : "s"} right now. `
            : null}
          Redriving puts them back to <strong>pending</strong> and queues them for another attempt, oldest first. Jobs that
          fail again come back as {status === "dead" ? "failed or dead" : "failed"}.
        </p>
        <div class="field">
          <label for="limit">
            At most <span class="hint">(1–1000)</span>
          </label>
          <input type="number" id="limit" name="limit" min={1} max={1000} value={String(Math.min(1000, Math.max(100, known?.count ?? 100)))} required />
        </div>
        <div class="actions">
          <button type="submit">Redrive {status} jobs</button>
          <a href={`/admin/category-syncs?status=${status}`}>Cancel</a>
        </div>
      </form>
    </>
  );
};
