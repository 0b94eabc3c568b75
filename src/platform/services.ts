import { createMiddleware } from "hono/factory";
import { createDb, type Db } from "../db/client.ts";
import { createPluggyClient, type PluggyApi, type PluggyProfileName } from "../pluggy/pluggy.client.ts";
import type { CategorySyncMessage, EventsQueueMessage } from "../queues/messages.ts";
import { ledgerFor } from "../ledger/ledger-stub.ts";
import type { UserLedger } from "../ledger/user-ledger.ts";
import type { AppEnv, AppBindings } from "./env.ts";
import { createLogger, type Logger } from "./logger.ts";
import { catalogBinding, catalogStatementsRoute } from "./catalog-counter.ts";

/**
 * What services need, built once per invocation (a request, a queue batch, a cron run) and handed to
 * every service as its `deps` (services take `deps` + their input; tests pass just the fields they use).
 * This is the one place that turns bindings into clients.
 */
export interface Services {
  /** drizzle over D1 (or over the request's D1 session, on routes with `readSession`/`writeSession`). */
  readonly catalog: Db;
  /** WEBHOOK_ARCHIVE: the raw webhook bodies. */
  readonly bucket: R2Bucket;
  readonly eventsQueue: Queue<EventsQueueMessage>;
  readonly categorySyncQueue: Queue<CategorySyncMessage>;
  /** The Pluggy client for this invocation's profile, created on first use (routes that never call Pluggy pay nothing). */
  readonly pluggy: PluggyApi;
  readonly logger: Logger;
  /**
   * A user's ledger (their banking data: a SQLite Durable Object per user). Routes pass the caller's
   * id; consumers the owner the catalog's item directory names. Calls are RPCs, each a unit of work.
   */
  ledger(userId: string): DurableObjectStub<UserLedger>;
  /** Work that may finish after the answer (ExecutionContext.waitUntil). */
  waitUntil(promise: Promise<unknown>): void;
}

export interface ServicesOptions {
  /** How patient the Pluggy client is (PLUGGY_PROFILES): `interactive` for HTTP routes, `background` (default) for queues and crons. */
  profile?: PluggyProfileName;
  logger?: Logger;
  /** The D1 binding or session the catalog runs on (default `env.DB`). */
  d1?: D1Database | D1DatabaseSession;
}

/**
 * The services of one invocation: queue consumers call it once per batch, crons once per scheduled
 * run; HTTP routes get theirs from the `services` middleware as `c.var.services`.
 */
export function servicesFor(env: AppBindings, ctx: Pick<ExecutionContext, "waitUntil">, options: ServicesOptions = {}): Services {
  const profile = options.profile ?? "background";
  // One Pluggy client per logger: a copy made by withLogger logs its Pluggy retries through its own logger.
  const clients = new WeakMap<Logger, PluggyApi>();
  return {
    catalog: createDb(options.d1 ?? catalogBinding(env)),
    bucket: env.WEBHOOK_ARCHIVE,
    eventsQueue: env.EVENTS_QUEUE as Queue<EventsQueueMessage>,
    categorySyncQueue: env.CATEGORY_SYNC_QUEUE as Queue<CategorySyncMessage>,
    logger: options.logger ?? createLogger(),
    get pluggy(): PluggyApi {
      let client = clients.get(this.logger);
      if (!client) {
        client = createPluggyClient(env, { profile, logger: this.logger });
        clients.set(this.logger, client);
      }
      return client;
    },
    ledger: (userId) => ledgerFor(env, userId),
    waitUntil: (promise) => ctx.waitUntil(promise),
  };
}

/** A copy of `services` (getters kept as getters, so nothing lazy is built) with some fields replaced. */
function derive(services: Services, overrides: PropertyDescriptorMap): Services {
  return Object.defineProperties({}, { ...Object.getOwnPropertyDescriptors(services), ...overrides }) as Services;
}

/** The same services logging through `logger` (e.g. one queue message's child logger), Pluggy client included. */
export function withLogger(services: Services, logger: Logger): Services {
  return derive(services, { logger: { value: logger, enumerable: true } });
}

/** The same services with the catalog on a D1 session (see platform/d1-session.ts). */
export function onD1Session(services: Services, session: D1DatabaseSession): Services {
  return derive(services, { catalog: { value: createDb(session), enumerable: true } });
}

/**
 * Sets `c.var.services` for the request: the interactive Pluggy profile, the request's logger. Applied
 * once in app.ts; the D1 session middleware then moves the catalog onto the request's session.
 */
export const services = createMiddleware<AppEnv>(async (c, next) => {
  const benchCounts = catalogStatementsRoute(c.env, c.req.method, c.req.path); // bench mode only (catalog-counter.ts)
  if (benchCounts) return benchCounts;
  // c.executionCtx is read only when something is deferred, as the routes did before.
  c.set("services", servicesFor(c.env, { waitUntil: (promise) => c.executionCtx.waitUntil(promise) }, { profile: "interactive", logger: c.var.logger }));
  await next();
});

/** The deps of a service that only reads or writes the catalog. */
export type CatalogDeps = Pick<Services, "catalog">;
