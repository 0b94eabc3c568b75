import { createApp } from "./app.ts";
import type { AppBindings } from "./platform/env.ts";
import { dispatchQueueBatch } from "./queues/dispatch.ts";
import { runScheduled } from "./scheduled.ts";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env, ctx) => dispatchQueueBatch(batch, env, ctx),
  scheduled: async (controller, env, ctx) => {
    ctx.waitUntil(runScheduled(controller, env, ctx));
  },
} satisfies ExportedHandler<AppBindings>;

export type { AppType } from "./app.ts";
/** Durable Object classes must be exported by the Worker's main module. */
export { UserLedger } from "./ledger/user-ledger.ts";
