import { defineConfig } from "drizzle-kit";

// Each user's ledger (a SQLite Durable Object) applies these itself when it wakes (src/ledger/ledger.migrate.ts).
export default defineConfig({
  schema: "./src/ledger/ledger.schema.ts",
  out: "./src/ledger/migrations",
  dialect: "sqlite",
  driver: "durable-sqlite",
});
