import { createRouter } from "../platform/openapi.ts";
import { webhookIntakeRoutes } from "./webhook-intake.routes.ts";

/** Pluggy's webhook intake, mounted at /api/banking (POST /api/banking/pluggy/webhook/). */
export const webhookRoutes = createRouter().route("/", webhookIntakeRoutes);
