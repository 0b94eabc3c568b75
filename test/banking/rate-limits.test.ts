import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { createDb } from "../../src/db/client.ts";
import { erasureRequests } from "../../src/db/schema.ts";
import type { AppBindings } from "../../src/platform/env.ts";
import type { EventsQueueMessage } from "../../src/queues/messages.ts";
import { authHeaders, uniqueUser } from "../helpers/auth.ts";
import { body, call } from "../helpers/http.ts";

/*
 * Per-user rate limits on the user API's writes (Workers Rate Limiting bindings, wrangler.toml):
 * CONNECTION_RATE_LIMITER (10 a minute, each action counted on its own) for registering, refreshing and
 * deleting items and for erasure; CATEGORY_CHANGE_RATE_LIMITER (120 a minute) for category changes.
 *
 * The limiter's windows are aligned to the clock, so a test may straddle a rollover: each sends until it
 * is limited, up to two windows' worth, and checks the first 429 came only after a full window's worth.
 * The requests are ones the limiter counts but the app answers cheaply (unknown ids → 404).
 */

const CONNECTION_LIMIT = 10;
const CATEGORY_CHANGE_LIMIT = 120;

type Send = (headers: Record<string, string>) => Promise<Response>;

async function sendUntilLimited(send: Send, headers: Record<string, string>, limit: number): Promise<{ statuses: number[]; limited: Response }> {
  const statuses: number[] = [];
  for (let i = 0; i <= 2 * limit; i++) {
    const response = await send(headers);
    statuses.push(response.status);
    if (response.status === 429) return { statuses, limited: response };
    await response.body?.cancel();
  }
  throw new Error(`never limited after ${statuses.length} requests: ${statuses.join(",")}`);
}

const uuid = () => crypto.randomUUID();

const LIMITED_ROUTES: Array<{ name: string; limit: number; send: Send; answer: number }> = [
  { name: "POST /api/banking/items/", limit: CONNECTION_LIMIT, answer: 404, send: (headers) => call("/api/banking/items/", { method: "POST", headers, json: { item_id: uuid() } }) },
  { name: "POST /api/banking/items/{id}/refresh/", limit: CONNECTION_LIMIT, answer: 404, send: (headers) => call(`/api/banking/items/${uuid()}/refresh/`, { method: "POST", headers }) },
  { name: "DELETE /api/banking/items/{id}/", limit: CONNECTION_LIMIT, answer: 404, send: (headers) => call(`/api/banking/items/${uuid()}/`, { method: "DELETE", headers }) },
  { name: "DELETE /api/banking/me/", limit: CONNECTION_LIMIT, answer: 202, send: (headers) => call("/api/banking/me/", { method: "DELETE", headers }) },
  {
    name: "PATCH /api/banking/transactions/{id}/",
    limit: CATEGORY_CHANGE_LIMIT,
    answer: 404,
    send: (headers) => call(`/api/banking/transactions/${uuid()}/`, { method: "PATCH", headers, json: { category: null } }),
  },
];

describe.each(LIMITED_ROUTES)("$name is rate limited per user", ({ limit, send, answer }) => {
  it(`answers 429 rate_limited with Retry-After once a user passes ${limit} a minute; other users are unaffected`, async () => {
    const user = uniqueUser("limited");
    const { statuses, limited } = await sendUntilLimited(send, await authHeaders(user), limit);
    const first429 = statuses.indexOf(429);
    expect(first429).toBeGreaterThanOrEqual(limit);
    expect(statuses.slice(0, first429).every((status) => status === answer)).toBe(true);
    expect(limited.headers.get("Retry-After")).toBe("60");
    const json = await body(limited);
    expect(json.error).toMatchObject({ code: "rate_limited", request_id: limited.headers.get("X-Request-Id") });
    expect(json.error.message).toMatch(/try again in a minute/);

    const other = await send(await authHeaders(uniqueUser("other")));
    expect(other.status).toBe(answer);
  });
});

it("each connection action is counted on its own: a user limited on registering can still refresh", async () => {
  const headers = await authHeaders(uniqueUser("limited"));
  const [register, refresh] = LIMITED_ROUTES;
  if (!register || !refresh) throw new Error("route table");
  await sendUntilLimited(register.send, headers, CONNECTION_LIMIT);
  expect((await refresh.send(headers)).status).toBe(404);
});

/** A queue stand-in that records what was sent. */
function recordingQueue(): { queue: Queue<EventsQueueMessage>; sent: EventsQueueMessage[] } {
  const sent: EventsQueueMessage[] = [];
  const queue = {
    send: async (message: EventsQueueMessage) => void sent.push(message),
    sendBatch: async (messages: Iterable<MessageSendRequest<EventsQueueMessage>>) => void sent.push(...[...messages].map((m) => m.body)),
  } as unknown as Queue<EventsQueueMessage>;
  return { queue, sent };
}

describe("DELETE /api/banking/me/ repeated", () => {
  it("a second request within 10 minutes answers 202 and queues nothing new; after 10 minutes it is a new request", async () => {
    const userId = uniqueUser("erase-twice");
    const { queue, sent } = recordingQueue();
    const eraseMe = async () => {
      const ctx = createExecutionContext();
      const response = await createApp().fetch(
        new Request("https://api.test/api/banking/me/", { method: "DELETE", headers: await authHeaders(userId) }),
        { ...(env as AppBindings), EVENTS_QUEUE: queue },
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return response;
    };

    expect((await eraseMe()).status).toBe(202);
    const db = createDb(env.DB);
    const [first] = await db.select().from(erasureRequests).where(eq(erasureRequests.userId, userId));
    const second = await eraseMe();
    expect(second.status).toBe(202);
    expect(await body(second)).toEqual({ data: { status: "queued" } });
    expect(sent).toEqual([{ kind: "user.erase", userId }]);
    const [afterRepeat] = await db.select().from(erasureRequests).where(eq(erasureRequests.userId, userId));
    expect(afterRepeat).toEqual(first);

    // Eleven minutes later the same request renews the erasure.
    const earlier = new Date(Date.now() - 11 * 60_000).toISOString();
    await db.update(erasureRequests).set({ requestedAt: earlier }).where(eq(erasureRequests.userId, userId));
    expect((await eraseMe()).status).toBe(202);
    expect(sent).toEqual([
      { kind: "user.erase", userId },
      { kind: "user.erase", userId },
    ]);
    const [renewed] = await db.select().from(erasureRequests).where(eq(erasureRequests.userId, userId));
    expect(renewed?.requestedAt && renewed.requestedAt > earlier).toBe(true);
  });
});
