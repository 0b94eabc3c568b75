import type { z } from "zod";
import { backoffSeconds, QUEUE_BACKOFF, type BackoffOptions } from "../platform/backoff.ts";
import type { Logger } from "../platform/logger.ts";
import { withLogger, type Services } from "../platform/services.ts";

/** Thrown by a handler to ask for a retry, optionally no sooner than `minDelaySeconds` (e.g. a 429's reset). */
export class RetryableError extends Error {
  readonly minDelaySeconds: number;
  constructor(message: string, options: { minDelaySeconds?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "RetryableError";
    this.minDelaySeconds = options.minDelaySeconds ?? 0;
  }
}

export interface HandlerContext {
  /** The batch's services (built once per batch), logging through this message's logger. */
  services: Services;
  /** Delivery attempt, starting at 1. */
  attempts: number;
  logger: Logger;
  waitUntil(promise: Promise<unknown>): void;
}

/** Processes one message body. Resolve = ack; throw = retry with backoff (never the whole batch). */
export type MessageHandler<T> = (body: T, context: HandlerContext) => Promise<void>;

/**
 * Runs a batch message by message: each is parsed with `schema`, handled, then acked or retried with
 * a capped, jittered exponential delay. A body that does not parse is logged and acked (a poison
 * message would only come back). Never throws, so one bad message cannot retry its neighbours.
 * `backoff` lets a queue tune its retry delays (default QUEUE_BACKOFF). Messages for which
 * `concurrent` returns true are handled at the same time as the rest (their handlers must be safe
 * under concurrency, as every handler already is across batches); the others keep their order.
 */
export async function consumeBatch<T>(
  batch: MessageBatch<unknown>,
  schema: z.ZodType<T>,
  handle: (body: T, context: HandlerContext) => Promise<void>,
  services: Services,
  backoff: BackoffOptions = QUEUE_BACKOFF,
  concurrent?: (body: T) => boolean,
): Promise<void> {
  const run = async (message: Message<unknown>, body: T, log: Logger) => {
    try {
      await handle(body, { services: withLogger(services, log), attempts: message.attempts, logger: log, waitUntil: (p) => services.waitUntil(p) });
      message.ack();
    } catch (error) {
      const floor = error instanceof RetryableError ? error.minDelaySeconds : 0;
      const delaySeconds = backoffSeconds(message.attempts, backoff, floor);
      log.warn("queue message failed; retrying", {
        delay_seconds: delaySeconds,
        error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
      });
      message.retry({ delaySeconds });
    }
  };
  const inOrder: Array<() => Promise<void>> = [];
  const atOnce: Array<Promise<void>> = [];
  for (const message of batch.messages) {
    const log = services.logger.child({ queue: batch.queue, message_id: message.id, attempts: message.attempts });
    const parsed = schema.safeParse(message.body);
    if (!parsed.success) {
      log.error("queue message does not match its schema; dropped", { issues: parsed.error.issues.slice(0, 5) });
      message.ack();
      continue;
    }
    const body = parsed.data;
    if (concurrent?.(body)) atOnce.push(run(message, body, log));
    else inOrder.push(() => run(message, body, log));
  }
  await Promise.all([
    (async () => {
      for (const next of inOrder) await next();
    })(),
    ...atOnce,
  ]);
}
