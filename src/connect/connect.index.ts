import { createRouter } from "../platform/openapi.ts";
import { connectionRoutes } from "./connect.routes.ts";

/** Bank connections: connect tokens, registering, refreshing and deleting items. */
export const connectRoutes = createRouter().route("/", connectionRoutes);
