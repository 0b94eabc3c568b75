import { createSimulator } from "./sim.app.ts";

/** The simulator Worker's bindings (simulator/wrangler.toml vars, overridden by `--var` in scripts/dev.ts). */
export interface SimEnv {
  SIM_CLIENT_ID: string;
  SIM_CLIENT_SECRET: string;
  SIM_WEBHOOK_SECRET?: string;
  SIM_WEBHOOK_AUTH_TOKEN?: string;
  SIM_APP_WEBHOOK_URL?: string;
  /** "off" lifts Pluggy's per-IP rate limits (load runs from one address); anything else keeps them. */
  SIM_RATE_LIMITS?: string;
}

let simulator: ReturnType<typeof createSimulator> | undefined;

/** One in-memory simulator per isolate, built from the first request's bindings. */
export default {
  fetch(request: Request, env: SimEnv, ctx: ExecutionContext): Promise<Response> | Response {
    simulator ??= createSimulator({
      clientId: env.SIM_CLIENT_ID,
      clientSecret: env.SIM_CLIENT_SECRET,
      webhookSecret: env.SIM_WEBHOOK_SECRET ?? "",
      webhookAuthToken: env.SIM_WEBHOOK_AUTH_TOKEN ?? "",
      ...(env.SIM_APP_WEBHOOK_URL ? { appWebhookUrl: env.SIM_APP_WEBHOOK_URL } : {}),
      rateLimits: env.SIM_RATE_LIMITS?.trim().toLowerCase() !== "off",
    });
    return simulator.app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<SimEnv>;
