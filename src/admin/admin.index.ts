import { createRouter } from "../platform/openapi.ts";
import { categorySyncAdminRoutes } from "../category-sync/category-sync.admin.index.ts";
import { webhookAdminRoutes } from "../webhooks/webhooks.admin.routes.ts";
import { reconcileAdminRoutes } from "../reconcile/reconcile.routes.ts";
import { erasureAdminRoutes } from "../erasure/erasure.routes.ts";

/** Mount point; this domain's routes are added here. */
export const adminRoutes = createRouter()
  .route("/", categorySyncAdminRoutes)
  .route("/", webhookAdminRoutes)
  .route("/", reconcileAdminRoutes)
  .route("/", erasureAdminRoutes);
