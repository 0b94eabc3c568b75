/**
 * How `npm run dev` starts the Pluggy simulator: `wrangler dev` of simulator/wrangler.toml on its own
 * port, its vars overridden with `--var`. The SDK conformance suite (test-sdk/) starts it with the same
 * arguments, so what the suite proves is what a developer runs.
 */
export interface SimulatorVars {
  /** The Pluggy application keys `POST /auth` accepts. */
  clientId: string;
  clientSecret: string;
  /** Signs webhooks (X-Pluggy-Signature); empty → unsigned. */
  webhookSecret: string;
  /** Sent as X-Webhook-Token when set. */
  webhookAuthToken: string;
  /** Where the simulator delivers webhooks; empty → it delivers none on its own. */
  appWebhookUrl: string;
}

/** The `wrangler` arguments (after the executable) that start the simulator on `port` (inspector on port + 1000 unless given). */
export function simulatorDevArgs(port: number, vars: SimulatorVars, inspectorPort = port + 1000): string[] {
  return [
    "dev",
    "-c",
    "simulator/wrangler.toml",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--var",
    `SIM_CLIENT_ID:${vars.clientId}`,
    "--var",
    `SIM_CLIENT_SECRET:${vars.clientSecret}`,
    "--var",
    `SIM_WEBHOOK_SECRET:${vars.webhookSecret}`,
    "--var",
    `SIM_WEBHOOK_AUTH_TOKEN:${vars.webhookAuthToken}`,
    "--var",
    `SIM_APP_WEBHOOK_URL:${vars.appWebhookUrl}`,
  ];
}
