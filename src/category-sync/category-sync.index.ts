import { createRouter } from "../platform/openapi.ts";
import { transactionCategoryRoutes } from "./transaction-category.routes.ts";

/** The user side of category sync (`PATCH /api/banking/transactions/{id}/`), mounted at /api/banking. */
export const categorySyncRoutes = createRouter().route("/", transactionCategoryRoutes);
