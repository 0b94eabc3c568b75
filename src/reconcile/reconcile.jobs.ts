import type { ScheduledJob } from "../scheduled.ts";
import { queueReconciliation } from "./reconcile.service.ts";

/**
 * HOURLY_CRON: queue the items least recently reconciled (skipping those done in the last few hours),
 * a bounded number per run, their delivery spread over most of the hour.
 */
export const reconcileItemsJob: ScheduledJob = async (services, scheduledTime) => {
  await queueReconciliation(services, { trigger: "cron", now: scheduledTime });
};
