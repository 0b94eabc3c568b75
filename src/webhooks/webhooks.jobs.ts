import type { ScheduledJob } from "../scheduled.ts";
import { purgeExpiredWebhookBodies, retentionDays, sweepWebhookEvents } from "./webhook-maintenance.service.ts";

/** FREQUENT_CRON: re-queue webhook events a failed queue send or a lost consumer left behind. */
export const sweepWebhookEventsJob: ScheduledJob = async (services, scheduledTime) => {
  await sweepWebhookEvents(services, scheduledTime);
};

/** HOURLY_CRON: purge raw webhook bodies older than WEBHOOK_RETENTION_DAYS. */
export const purgeWebhookBodiesJob: ScheduledJob = async (services, scheduledTime, env) => {
  await purgeExpiredWebhookBodies(services, scheduledTime, retentionDays(env.WEBHOOK_RETENTION_DAYS));
};
