import { createRouter } from "../platform/openapi.ts";
import { categoriesAdminRoutes } from "./categories.admin.routes.ts";
import { categorySyncsAdminRoutes } from "./category-syncs.admin.routes.ts";
import { mappingsAdminRoutes } from "./mappings.admin.routes.ts";
import { metricsAdminRoutes } from "./metrics.admin.routes.ts";

/** This domain's admin API (categories, Pluggy categories, mappings, sync jobs, metrics), mounted at /api/admin. */
export const categorySyncAdminRoutes = createRouter()
  .route("/", categoriesAdminRoutes)
  .route("/", mappingsAdminRoutes)
  .route("/", categorySyncsAdminRoutes)
  .route("/", metricsAdminRoutes);
