import { createRouter } from "../platform/openapi.ts";

/** Mount point; this domain's routes are added here. */
export const adminRoutes = createRouter();
