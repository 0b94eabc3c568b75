import { createRouter } from "../platform/openapi.ts";
import { accountRoutes } from "./accounts.routes.ts";
import { categoryRoutes } from "./categories.routes.ts";
import { itemRoutes } from "./items.routes.ts";
import { transactionRoutes } from "./transactions.routes.ts";

/** The user API's read side: transactions, categories, accounts, items. */
export const bankingRoutes = createRouter()
  .route("/", transactionRoutes)
  .route("/", categoryRoutes)
  .route("/", accountRoutes)
  .route("/", itemRoutes);
