import type { ScheduledJob } from "../scheduled.ts";
import { queueReconciliation } from "./reconcile.service.ts";

/**
 * HOURLY_CRON: queue every item whose reconciliation is due (the item directory's `next_reconcile_at`),
 * most overdue first, up to a bound per run, their delivery spread over most of the hour.
 */
export const reconcileItemsJob: ScheduledJob = async (services, scheduledTime) => {
  await queueReconciliation(services, { trigger: "cron", now: scheduledTime });
};
