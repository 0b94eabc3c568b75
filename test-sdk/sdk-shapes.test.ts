import type { Account, Category, Connector, ConnectorCredential, ExecutionErrorCode, ExecutionStatus, Item, ItemStatus, Webhook } from "pluggy-sdk";
import { describe, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import type {
  accountSchema,
  categorySchema,
  connectorCredentialSchema,
  connectorSchema,
  EXECUTION_ERROR_CODES,
  EXECUTION_STATUSES,
  ITEM_STATUSES,
  itemSchema,
  transactionSchema,
  webhookSchema} from "./sdk-shapes.ts";
import {
  type AsServedTransaction,
} from "./sdk-shapes.ts";

/*
 * Compile-time: the runtime schemas the conformance suite checks answers with produce exactly the SDK's
 * types (the body of each `it` is checked by `npm run typecheck`; at run time there is nothing to do).
 */
describe("the suite's shape checks are the SDK's types", () => {
  it("cover the SDK's unions whose lists it does not export", () => {
    expectTypeOf<(typeof ITEM_STATUSES)[number]>().toEqualTypeOf<ItemStatus>();
    expectTypeOf<(typeof EXECUTION_STATUSES)[number]>().toEqualTypeOf<ExecutionStatus>();
    expectTypeOf<(typeof EXECUTION_ERROR_CODES)[number]>().toEqualTypeOf<ExecutionErrorCode>();
  });

  it("produce Connector, ConnectorCredential (a connector's credentials, an item's parameter), Item, Account, Category and Webhook exactly", () => {
    expectTypeOf<z.output<typeof connectorCredentialSchema>>().toEqualTypeOf<ConnectorCredential>();
    expectTypeOf<z.output<typeof connectorSchema>>().toEqualTypeOf<Connector>();
    expectTypeOf<z.output<typeof itemSchema>>().toEqualTypeOf<Item>();
    expectTypeOf<z.output<typeof accountSchema>>().toEqualTypeOf<Account>();
    expectTypeOf<z.output<typeof categorySchema>>().toEqualTypeOf<Category>();
    expectTypeOf<z.output<typeof webhookSchema>>().toEqualTypeOf<Webhook>();
  });

  it("produce Transaction with only the listed differences", () => {
    expectTypeOf<z.output<typeof transactionSchema>>().toEqualTypeOf<AsServedTransaction>();
  });
});
