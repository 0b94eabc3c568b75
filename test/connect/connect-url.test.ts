import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import { createDb } from "../../src/db/client.ts";
import { createConnectToken } from "../../src/connect/connect-token.service.ts";
import { createPluggyClient } from "../../src/pluggy/pluggy.client.ts";
import { authHeaders, uniqueUser } from "../helpers/auth.ts";

/*
 * PLUGGY_CONNECT_URL: where `connect_url` points. Production keeps Pluggy's page (wrangler.toml's
 * default, covered by connect-token.test.ts); `npm run dev` points it at the simulator's Connect page.
 */

describe("PLUGGY_CONNECT_URL", () => {
  it("is the base of connect_url, keeping its path, with the widget options as query parameters", async () => {
    const result = await createConnectToken(
      { catalog: createDb(env.DB), pluggy: createPluggyClient(env), allowedOrigins: [], connectUrl: "http://localhost:8788/connect" },
      uniqueUser(),
      { country_codes: ["BR"], include_sandbox: true },
    );
    expect(result.connect_url).toBe(`http://localhost:8788/connect?connect_token=${encodeURIComponent(result.connect_token)}&countries=BR&with_sandbox=true`);
  });

  it("is read from the Worker's environment by POST /api/banking/pluggy/connect-token/", async () => {
    const user = uniqueUser();
    const request = new Request("https://api.test/api/banking/pluggy/connect-token/", {
      method: "POST",
      headers: { ...(await authHeaders(user)), "Content-Type": "application/json" },
      body: JSON.stringify({ connector_types: ["PERSONAL_BANK"] }),
    });
    const ctx = createExecutionContext();
    const response = await worker.fetch(request, { ...env, PLUGGY_CONNECT_URL: "http://localhost:19288/connect/" }, ctx);
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: { connect_url: string; connect_token: string } };
    const url = new URL(data.connect_url);
    expect(`${url.origin}${url.pathname}`).toBe("http://localhost:19288/connect/");
    expect(Object.fromEntries(url.searchParams)).toEqual({ connect_token: data.connect_token, connector_types: "PERSONAL_BANK" });
  });
});
