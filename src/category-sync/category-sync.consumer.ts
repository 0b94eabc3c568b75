import type { MessageHandler } from "../queues/consumer.ts";
import type { CategorySyncMessage } from "../queues/messages.ts";
import { markCategorySyncDead, syncCategoryJob } from "./sync-jobs.service.ts";

/** `category.sync` on the category-sync queue: push the job's category to Pluggy (see syncCategoryJob). */
export const handleCategorySync: MessageHandler<CategorySyncMessage> = async (message, context) => {
  const outcome = await syncCategoryJob(context.services, message);
  context.logger.info("category sync handled", { job_id: message.jobId, user_id: message.userId, version: message.version, outcome });
};

/** `category.sync` on the dead-letter queue: retries are exhausted, mark the job dead in its user's ledger. */
export const handleDeadCategorySync: MessageHandler<CategorySyncMessage> = async (message, context) => {
  const marked = await markCategorySyncDead(context.services, message);
  context.logger.warn("category sync dead-lettered", { job_id: message.jobId, user_id: message.userId, version: message.version, marked_dead: marked });
};
