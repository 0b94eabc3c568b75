import { z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { AppError } from "./errors.ts";
import type { AppEnv } from "./env.ts";
import { onD1Session } from "./services.ts";

/**
 * Request and response header carrying a D1 session bookmark: read-your-writes across requests for what
 * lives in the catalog (D1). A user's banking data lives in their ledger, which is strongly consistent
 * and needs no bookmark; the header is never required.
 */
export const BOOKMARK_HEADER = "X-D1-Bookmark";

/**
 * What D1 hands out from `getBookmark()`: four dash-separated hex groups (8-8-8-32), the same shape
 * locally and in production. Checked here because D1 does not: local D1 accepts any string and hands
 * it back from `getBookmark()`, so an unchecked header would be reflected into the response.
 */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/i;

/**
 * OpenAPI documentation of the optional request header, for a route's `parameters: [bookmarkParameter]`.
 * Documentation only (the middleware validates): unlike a zod `request.headers` schema it does not make
 * every hono/client call pass `header: {}`.
 */
export const bookmarkParameter = {
  name: BOOKMARK_HEADER,
  in: "header" as const,
  required: false,
  description:
    "Optional. A bookmark from an earlier response's X-D1-Bookmark: this request's catalog reads (categories, category names) see at least that state. Your own banking data (items, accounts, transactions) is always read fresh, with or without it.",
  schema: { type: "string" as const, pattern: BOOKMARK.source },
  example: "00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683",
};

/**
 * The same header as a zod `request.headers` schema (lower-case key, as Hono's header validator sees
 * names). Prefer `parameters: [bookmarkParameter]`: this one makes hono/client callers pass `header`.
 */
export const bookmarkRequestHeaders = z.object({
  "x-d1-bookmark": z
    .string()
    .regex(new RegExp(`^(?:${BOOKMARK.source.slice(1, -1)})?$`, "i"))
    .optional()
    .openapi({ param: { in: "header" }, description: bookmarkParameter.description, example: bookmarkParameter.example }),
});

/** OpenAPI documentation of the response header, for `responses[status].headers`. */
export const bookmarkResponseHeaders = {
  [BOOKMARK_HEADER]: {
    description: "D1 session bookmark after this request's catalog reads (or the one sent, when it read none); send it back as X-D1-Bookmark.",
    schema: { type: "string" as const },
  },
};

export interface D1SessionOptions {
  /**
   * Where the session's first query goes when the client sent no bookmark. Reads take
   * `first-unconstrained` (any replica); write routes take `first-primary`, so the bookmark they
   * return covers the write.
   */
  constraint?: D1SessionConstraint;
}

/**
 * Runs the route on one D1 session (the Sessions API, so reads may be served by a replica) and hands
 * the session's bookmark back in `X-D1-Bookmark`. A client that sends that bookmark back reads at least
 * what it saw or wrote before, whichever replica answers. A malformed bookmark is a 400 naming the
 * header, never a silent fall-back to an unconstrained read. Route-level: `middleware: [requireUser,
 * d1Session()] as const`, then `c.var.services.catalog` is on the session (the app-level `services`
 * middleware must run first).
 */
export function d1Session(options: D1SessionOptions = {}) {
  const constraint = options.constraint ?? "first-unconstrained";
  return createMiddleware<AppEnv>(async (c, next) => {
    // An empty header is "no bookmark yet" (clients often send `bookmark ?? ""`), not an error.
    const incoming = c.req.header(BOOKMARK_HEADER)?.trim() || undefined;
    if (incoming !== undefined && !BOOKMARK.test(incoming)) {
      throw new AppError("validation_error", `${BOOKMARK_HEADER}: not a D1 bookmark`, {
        details: [{ field: BOOKMARK_HEADER, message: "not a D1 bookmark (send back the value of an earlier X-D1-Bookmark response header)" }],
      });
    }
    const session = c.env.DB.withSession(incoming ?? constraint);
    c.set("services", onD1Session(c.var.services, session));
    await next();
    const bookmark = session.getBookmark() ?? incoming;
    // c.header (not c.res.headers.set): it copies a finalized response whose headers are immutable.
    if (bookmark) c.header(BOOKMARK_HEADER, bookmark);
  });
}

/** For read routes: first query on any replica, or at least as new as the client's bookmark. */
export const readSession = d1Session();

/** For write routes that want to return a bookmark covering their write (writes always reach the primary). */
export const writeSession = d1Session({ constraint: "first-primary" });
