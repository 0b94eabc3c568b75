import type { ScheduledJob } from "../scheduled.ts";
import { sweepPendingCategorySyncs } from "./sync-jobs.service.ts";

/** FREQUENT_CRON job: re-queue category syncs still pending past their due time (never lost). */
export const sweepCategorySyncs: ScheduledJob = async (services, scheduledTime) => {
  await sweepPendingCategorySyncs(services, scheduledTime);
};
