import { Hono } from "hono";
import type { MetricsDto } from "../../../category-sync/category-sync.schemas.ts";
import type { AdminApiClient, ApiError } from "../console-api.ts";
import type { ConsoleEnv } from "../console.env.ts";
import { signedIn } from "../console-guard.tsx";
import { renderPage } from "../console-render.tsx";
import { OverviewPage, WINDOWS, type CappedCount, type MetricsWindow } from "./overview.page.tsx";

/** The current number of rows in a status, up to one page of 200 (enough to tell "a few" from "many"). */
async function countInStatus(api: AdminApiClient, path: string, status: string): Promise<CappedCount | ApiError> {
  const result = await api.get<unknown[]>(path, { status, limit: 200 });
  if (!result.ok) return result.error;
  return { count: result.data.length, more: result.nextCursor !== null };
}

/** Overview: all three metric windows (for the totals table) plus live failed/dead counts, fetched in parallel. */
export const overviewRoutes = new Hono<ConsoleEnv>({ strict: false }).get("/", async (c) => {
  const { api } = signedIn(c);
  const asked = c.req.query("window");
  const window: MetricsWindow = WINDOWS.find((w) => w === asked) ?? "24h";
  const metricsFor = async (w: MetricsWindow): Promise<MetricsDto | ApiError> => {
    const result = await api.get<MetricsDto>("/metrics/", { window: w });
    return result.ok ? result.data : result.error;
  };
  const [m24, m7, m30, syncFailed, syncDead, eventsFailed, eventsDead] = await Promise.all([
    metricsFor("24h"),
    metricsFor("7d"),
    metricsFor("30d"),
    countInStatus(api, "/category-syncs/", "failed"),
    countInStatus(api, "/category-syncs/", "dead"),
    countInStatus(api, "/webhook-events/", "failed"),
    countInStatus(api, "/webhook-events/", "dead"),
  ]);
  return renderPage(
    c,
    { title: "Overview", active: "overview" },
    <OverviewPage
      window={window}
      metrics={{ "24h": m24, "7d": m7, "30d": m30 }}
      now={{ syncFailed, syncDead, eventsFailed, eventsDead }}
    />,
  );
});
