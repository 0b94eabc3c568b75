import { createDb } from "../db/client.ts";
import type { ScheduledJob } from "../scheduled.ts";
import { requeueStaleErasures } from "./erasure.service.ts";

/** HOURLY_CRON: an erasure still queued after an hour (lost send, dead message) is queued again. */
export const requeueErasuresJob: ScheduledJob = async (env, logger, scheduledTime) => {
  await requeueStaleErasures({ db: createDb(env.DB), queue: env.EVENTS_QUEUE, logger }, scheduledTime);
};
