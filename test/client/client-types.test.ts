import { describe, expectTypeOf, it } from "vitest";
import type { z } from "@hono/zod-openapi";
import type { accountSchema, categorySchema, itemSchema, transactionSchema } from "../../src/banking/banking.schemas.ts";
import type { connectTokenBody, connectTokenSchema } from "../../src/connect/connect.schemas.ts";
import type { erasureQueuedSchema } from "../../src/erasure/erasure.schemas.ts";
import type { errorSchema } from "../../src/platform/openapi.ts";
import type {
  Account,
  ApiError,
  ApiErrorDetail,
  Category,
  ConnectToken,
  ConnectTokenRequest,
  Erasure,
  FinanceHubClient,
  Item,
  Page,
  Transaction,
  TransactionFilters,
} from "../../src/client/index.ts";

/*
 * The client's types are derived from the Worker's routes (AppType through hono/client), and the
 * routes' responses from the zod schemas: these assertions (checked by `npm run typecheck`) fail as
 * soon as a schema and the client disagree.
 */

type Resolved<K extends keyof FinanceHubClient> = FinanceHubClient[K] extends (...args: never[]) => Promise<infer R> ? R : never;

describe("client types follow the zod schemas", () => {
  it("resources are the schemas' output", () => {
    expectTypeOf<Transaction>().toEqualTypeOf<z.output<typeof transactionSchema>>();
    expectTypeOf<Account>().toEqualTypeOf<z.output<typeof accountSchema>>();
    expectTypeOf<Item>().toEqualTypeOf<z.output<typeof itemSchema>>();
    expectTypeOf<Category>().toEqualTypeOf<z.output<typeof categorySchema>>();
    expectTypeOf<ConnectToken>().toEqualTypeOf<z.output<typeof connectTokenSchema>>();
    expectTypeOf<Erasure>().toEqualTypeOf<z.output<typeof erasureQueuedSchema>>();
    expectTypeOf<ApiErrorDetail[]>().toEqualTypeOf<NonNullable<z.output<typeof errorSchema>["error"]["details"]>>();
  });

  it("requests are the schemas' input", () => {
    expectTypeOf<ConnectTokenRequest>().toEqualTypeOf<z.input<typeof connectTokenBody>>();
    expectTypeOf<TransactionFilters>().toHaveProperty("category_id").toEqualTypeOf<string | undefined>();
    expectTypeOf<TransactionFilters>().toHaveProperty("search").toEqualTypeOf<string | undefined>();
    expectTypeOf<FinanceHubClient["setTransactionCategory"]>().parameters.toEqualTypeOf<[id: string, categoryId: string | null]>();
  });

  it("each call resolves to the route's success body", () => {
    expectTypeOf<Resolved<"listTransactions">>().toEqualTypeOf<Page<z.output<typeof transactionSchema>>>();
    expectTypeOf<Resolved<"listAccounts">>().toEqualTypeOf<Page<z.output<typeof accountSchema>>>();
    expectTypeOf<Resolved<"listItems">>().toEqualTypeOf<Page<z.output<typeof itemSchema>>>();
    expectTypeOf<Resolved<"listCategories">>().toEqualTypeOf<z.output<typeof categorySchema>[]>();
    expectTypeOf<Resolved<"getTransaction">>().toEqualTypeOf<z.output<typeof transactionSchema>>();
    expectTypeOf<Resolved<"setTransactionCategory">>().toEqualTypeOf<z.output<typeof transactionSchema>>();
    expectTypeOf<Resolved<"registerItem">>().toEqualTypeOf<{ item: z.output<typeof itemSchema>; created: boolean }>();
    expectTypeOf<Resolved<"refreshItem">>().toEqualTypeOf<z.output<typeof itemSchema>>();
    expectTypeOf<Resolved<"deleteItem">>().toEqualTypeOf<void>();
    expectTypeOf<Resolved<"createConnectToken">>().toEqualTypeOf<z.output<typeof connectTokenSchema>>();
    expectTypeOf<Resolved<"eraseMe">>().toEqualTypeOf<z.output<typeof erasureQueuedSchema>>();
    expectTypeOf<FinanceHubClient["transactionPages"]>().returns.toEqualTypeOf<AsyncGenerator<Page<z.output<typeof transactionSchema>>, void, undefined>>();
  });

  it("ApiError carries the envelope's fields", () => {
    expectTypeOf<ApiError>().toHaveProperty("code").toEqualTypeOf<string>();
    expectTypeOf<ApiError>().toHaveProperty("status").toEqualTypeOf<number>();
    expectTypeOf<ApiError>().toHaveProperty("requestId").toEqualTypeOf<string | null>();
    expectTypeOf<ApiError>().toHaveProperty("retryAfterSeconds").toEqualTypeOf<number | null>();
  });
});
