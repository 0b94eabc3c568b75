import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Runs before each test file; applies only migrations not yet applied, so repeats are safe.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
