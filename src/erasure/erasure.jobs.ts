import type { ScheduledJob } from "../scheduled.ts";
import { requeueStaleErasures } from "./erasure.service.ts";

/** HOURLY_CRON: an erasure still queued after an hour (lost send, dead message) is queued again. */
export const requeueErasuresJob: ScheduledJob = async (services, scheduledTime) => {
  await requeueStaleErasures(services, scheduledTime);
};
