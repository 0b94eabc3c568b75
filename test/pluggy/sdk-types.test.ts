import type { Account, Category, Item, Transaction, WebhookEventPayload } from "pluggy-sdk";
import { describe, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import type { cursorPageOf, pageOf, pluggyAccount, pluggyCategory, pluggyItem, pluggyTransaction } from "../../src/pluggy/pluggy.schemas.ts";
import type { webhookPayloadSchema } from "../../src/webhooks/webhook-payload.ts";

/*
 * Compile-time (checked by `npm run typecheck`; nothing happens at run time): whatever Pluggy's official
 * Node SDK (pluggy-sdk 0.90.0) says Pluggy sends, our zod parsers accept. The SDK types values after its
 * own JSON parsing turned ISO timestamps into Date objects; our parsers read the raw JSON, so the SDK's
 * types are compared as JSON (`Wire<T>`: every Date is the string it came as). A value of the SDK's type
 * failing one of our parsers would be a Pluggy answer we refuse. Where Pluggy sends more than the SDK's
 * types allow (null for a field typed non-null, see docs/pluggy.md), our parsers accept that too: they
 * are looser than the SDK, never stricter.
 */

/** A value as it travels in JSON: Date → its ISO string, recursively. */
type Wire<T> = T extends Date ? string : T extends readonly (infer U)[] ? Wire<U>[] : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;

describe("our Pluggy parsers accept every value of the SDK's types", () => {
  it("Transaction, Item, Account and Category (and the SDK's page envelopes)", () => {
    expectTypeOf<Wire<Transaction>>().toExtend<z.input<typeof pluggyTransaction>>();
    expectTypeOf<Wire<Item>>().toExtend<z.input<typeof pluggyItem>>();
    expectTypeOf<Wire<Account>>().toExtend<z.input<typeof pluggyAccount>>();
    expectTypeOf<Wire<Category>>().toExtend<z.input<typeof pluggyCategory>>();
    expectTypeOf<{ results: Wire<Account>[]; page: number; total: number; totalPages: number }>().toExtend<z.input<ReturnType<typeof pageOf<typeof pluggyAccount>>>>();
    expectTypeOf<{ results: Wire<Transaction>[]; next: string | null }>().toExtend<z.input<ReturnType<typeof cursorPageOf<typeof pluggyTransaction>>>>();
  });

  it("WebhookEventPayload, every event kind of it", () => {
    expectTypeOf<Wire<WebhookEventPayload>>().toExtend<z.input<typeof webhookPayloadSchema>>();
  });

  it("is a real check: a value our parsers would refuse is not accepted", () => {
    expectTypeOf<Omit<Wire<Transaction>, "amount"> & { amount: string }>().not.toExtend<z.input<typeof pluggyTransaction>>();
    expectTypeOf<Omit<Wire<Item>, "createdAt"> & { createdAt: Date }>().not.toExtend<z.input<typeof pluggyItem>>();
  });
});
