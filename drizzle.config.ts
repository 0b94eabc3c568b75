import { defineConfig } from "drizzle-kit";

// Migrations are generated here and applied only by `wrangler d1 migrations apply` (never drizzle-kit migrate).
export default defineConfig({
  schema: ["./src/db/schema.ts", "./src/catalog/directory.schema.ts", "./src/catalog/attention.schema.ts"],
  out: "./migrations",
  dialect: "sqlite",
});
