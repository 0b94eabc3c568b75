import { createRouter } from "../platform/openapi.ts";
import { transactionRoutes } from "./transactions.routes.ts";

/** The user API's read side: transactions, categories, accounts, items. */
export const bankingRoutes = createRouter().route("/", transactionRoutes);
