import { createLogger } from "./platform/logger.ts";
import type { AppBindings } from "./platform/env.ts";
import { servicesFor, withLogger, type Services } from "./platform/services.ts";
import { purgeWebhookBodiesJob, sweepWebhookEventsJob } from "./webhooks/webhooks.jobs.ts";
import { reconcileItemsJob } from "./reconcile/reconcile.jobs.ts";
import { requeueErasuresJob } from "./erasure/erasure.jobs.ts";

/**
 * A periodic job, given the run's services (logging as the job) and its configuration (`env`; pass
 * services the values, not env). Jobs are independent: one failing never stops the others.
 */
export type ScheduledJob = (services: Services, scheduledTime: Date, env: AppBindings) => Promise<void>;

/**
 * Every 5 minutes: sweepers that re-queue work a failed queue send could have stranded. (Category syncs
 * need none: each user's ledger re-queues its own due jobs from its alarm.)
 */
export const FREQUENT_CRON = "*/5 * * * *";
/** Hourly: reconciliation with Pluggy and retention purges. */
export const HOURLY_CRON = "17 * * * *";

/* Each domain adds its job here (one import, one entry). */
const JOBS: Record<string, Record<string, ScheduledJob>> = {
  [FREQUENT_CRON]: { "webhook-sweeper": sweepWebhookEventsJob },
  [HOURLY_CRON]: { "webhook-retention": purgeWebhookBodiesJob, reconcile: reconcileItemsJob, "erasure-requeue": requeueErasuresJob },
};

/** The Worker's `scheduled` entry point. */
export async function runScheduled(controller: ScheduledController, env: AppBindings, ctx: ExecutionContext): Promise<void> {
  const logger = createLogger({ cron: controller.cron });
  const services = servicesFor(env, ctx, { logger });
  const jobs = JOBS[controller.cron] ?? {};
  const results = await Promise.allSettled(
    Object.entries(jobs).map(async ([name, job]) => {
      await job(withLogger(services, logger.child({ job: name })), new Date(controller.scheduledTime), env);
      return name;
    }),
  );
  for (const [index, result] of results.entries()) {
    if (result.status === "rejected") {
      const name = Object.keys(jobs)[index];
      logger.error("scheduled job failed", { job: name, error: result.reason instanceof Error ? result.reason.message : String(result.reason) });
    }
  }
}
