import { createDb } from "../db/client.ts";
import type { ScheduledJob } from "../scheduled.ts";
import { sweepPendingCategorySyncs } from "./sync-jobs.service.ts";

/** FREQUENT_CRON job: re-queue category syncs still pending past their due time (never lost). */
export const sweepCategorySyncs: ScheduledJob = async (env, logger, scheduledTime) => {
  await sweepPendingCategorySyncs({ db: createDb(env.DB), queue: env.CATEGORY_SYNC_QUEUE, logger }, scheduledTime);
};
