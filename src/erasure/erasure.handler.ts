import type { z } from "zod";
import { withLogger } from "../platform/services.ts";
import type { HandlerContext } from "../queues/consumer.ts";
import type { EventsQueueMessage, userEraseMessage } from "../queues/messages.ts";
import { eraseUser, ERASURE_SWEEP_DELAY_SECONDS } from "./erasure.service.ts";

export type UserEraseMessage = z.infer<typeof userEraseMessage>;

/**
 * `user.erase` consumer: runs `eraseUser`. Any failure is retried through the queue (the steps are
 * idempotent and the item rows go last, so the retry finishes the job). After pass one, a sweep pass is
 * queued ten minutes out with the erased item ids, for webhooks about them that arrive late (Pluggy
 * sends `item/deleted` for each item we delete); its send is best effort.
 */
export async function handleUserEraseMessage(message: UserEraseMessage, context: HandlerContext): Promise<void> {
  const logger = context.logger.child({ kind: message.kind, user_id: message.userId, sweep: message.sweep === true });
  const services = withLogger(context.services, logger);
  const result = await eraseUser(
    services,
    message.userId,
    { sweep: message.sweep === true, itemIds: message.itemIds ?? [] },
  );
  if (message.sweep) return;
  const sweep: EventsQueueMessage = { kind: "user.erase", userId: message.userId, sweep: true, itemIds: result.itemIds.slice(0, 1000) };
  try {
    await services.eventsQueue.send(sweep, { delaySeconds: ERASURE_SWEEP_DELAY_SECONDS });
  } catch (error) {
    logger.warn("could not queue the erasure's sweep pass", { error: error instanceof Error ? error.message : String(error) });
  }
}

/**
 * `user.erase` on the dead-letter queue: every retry failed. The request stays `queued`, so the hourly
 * job queues it again; the log line tells operators an erasure is overdue.
 */
export async function handleDeadUserEraseMessage(message: UserEraseMessage, context: HandlerContext): Promise<void> {
  context.logger.error("erasure dead: retries exhausted; the request stays queued and is retried hourly", {
    kind: message.kind,
    user_id: message.userId,
    sweep: message.sweep === true,
    attempts: context.attempts,
  });
}
