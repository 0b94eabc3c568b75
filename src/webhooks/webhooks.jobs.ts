import { createDb } from "../db/client.ts";
import type { ScheduledJob } from "../scheduled.ts";
import { purgeExpiredWebhookBodies, retentionDays, sweepWebhookEvents } from "./webhook-maintenance.service.ts";

/** FREQUENT_CRON: re-queue webhook events a failed queue send or a lost consumer left behind. */
export const sweepWebhookEventsJob: ScheduledJob = async (env, logger, scheduledTime) => {
  await sweepWebhookEvents(createDb(env.DB), env.EVENTS_QUEUE, scheduledTime, logger);
};

/** HOURLY_CRON: purge raw webhook bodies older than WEBHOOK_RETENTION_DAYS. */
export const purgeWebhookBodiesJob: ScheduledJob = async (env, logger, scheduledTime) => {
  await purgeExpiredWebhookBodies(createDb(env.DB), env.WEBHOOK_ARCHIVE, scheduledTime, retentionDays(env.WEBHOOK_RETENTION_DAYS), logger);
};
