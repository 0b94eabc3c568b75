import { env } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app.ts";
import { authenticate, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from "../../src/platform/auth.ts";
import type { AppBindings } from "../../src/platform/env.ts";
import { JWKS_FETCH_TIMEOUT_MS, JWKS_MAX_STALE_MS, JWKS_MIN_REFETCH_MS, JWKS_TTL_MS } from "../../src/platform/jwks.ts";
import { tokenFor, uniqueUser } from "../helpers/auth.ts";
import { body } from "../helpers/http.ts";
import { identityProvider, keyPair, signWith } from "../helpers/jwks.ts";

/*
 * Token policy beyond the route matrix (test/banking/auth-matrix.test.ts): the JWKS cache and its fetch
 * budget (counted at the local identity provider, test/helpers/jwks-server.ts), one issuer at a time,
 * required issuer/audience with a JWKS, the lifetime cap and the HS256 key length.
 */

const testEnv = env as AppBindings;
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Moves `Date` (only) forward, as if `ms` had passed; afterEach puts the clock back. */
function advanceClock(ms: number): void {
  vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + ms });
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Tokens whose kid no key set has: what a flood of forged tokens looks like. */
async function randomKidTokens(count: number): Promise<string[]> {
  const rogue = await keyPair("ES256");
  return Promise.all(Array.from({ length: count }, () => signWith({ ...rogue, privateJwk: { ...rogue.privateJwk, kid: crypto.randomUUID() } }, { sub: "mallory" })));
}

describe("JWKS keys: cached per isolate, refetched within a budget", () => {
  it("fetches the key set once for many tokens", async () => {
    const key = await keyPair("RS256");
    const provider = await identityProvider([key.publicJwk]);
    for (let i = 0; i < 5; i++) {
      await expect(authenticate(await signWith(key, { sub: `user-${i}` }), { ...testEnv, ...provider.env })).resolves.toMatchObject({ id: `user-${i}` });
    }
    expect(await provider.fetches()).toBe(1);
  });

  it("a flood of tokens with random kids costs at most one fetch a minute", async () => {
    const key = await keyPair("ES256");
    const provider = await identityProvider([key.publicJwk]);
    const configured = { ...testEnv, ...provider.env };
    await authenticate(await signWith(key, { sub: "alice" }), configured);
    expect(await provider.fetches()).toBe(1);

    const flood = await randomKidTokens(60);
    const answers = await Promise.allSettled(flood.map((token) => authenticate(token, configured)));
    expect(answers.every((answer) => answer.status === "rejected" && (answer.reason as { code?: string }).code === "unauthorized")).toBe(true);
    expect(await provider.fetches()).toBe(1);

    // A minute later an unknown kid may fetch again — once, however many arrive together.
    advanceClock(JWKS_MIN_REFETCH_MS + 1_000);
    await Promise.allSettled((await randomKidTokens(60)).map((token) => authenticate(token, configured)));
    expect(await provider.fetches()).toBe(2);
    await Promise.allSettled((await randomKidTokens(20)).map((token) => authenticate(token, configured)));
    expect(await provider.fetches()).toBe(2);
  });

  it("picks up a key published since: its kid refetches once the minute has passed", async () => {
    const old = await keyPair("RS256");
    const provider = await identityProvider([old.publicJwk]);
    const configured = { ...testEnv, ...provider.env };
    await authenticate(await signWith(old, { sub: "alice" }), configured);
    const rotated = await keyPair("RS256");
    await provider.publish([old.publicJwk, rotated.publicJwk]);
    advanceClock(JWKS_MIN_REFETCH_MS);
    await expect(authenticate(await signWith(rotated, { sub: "bob" }), configured)).resolves.toMatchObject({ id: "bob" });
    expect(await provider.fetches()).toBe(2);
  });

  it("refetches a known kid's set only after the TTL", async () => {
    const key = await keyPair("ES256");
    const provider = await identityProvider([key.publicJwk]);
    const configured = { ...testEnv, ...provider.env };
    await authenticate(await signWith(key, { sub: "alice" }), configured);
    advanceClock(JWKS_TTL_MS - 5_000);
    await authenticate(await signWith(key, { sub: "alice" }), configured);
    expect(await provider.fetches()).toBe(1);
    vi.useRealTimers();
    advanceClock(JWKS_TTL_MS + 1_000);
    await authenticate(await signWith(key, { sub: "alice" }), configured);
    expect(await provider.fetches()).toBe(2);
  });

  it("keeps using the last good set while the provider fails, then answers 503 once it is too old", async () => {
    const key = await keyPair("ES256");
    const provider = await identityProvider([key.publicJwk]);
    const configured = { ...testEnv, ...provider.env };
    await authenticate(await signWith(key, { sub: "alice" }), configured);
    await provider.misbehave({ status: 500 });
    advanceClock(JWKS_TTL_MS + 1_000);
    await expect(authenticate(await signWith(key, { sub: "alice" }), configured)).resolves.toMatchObject({ id: "alice" });
    expect(await provider.fetches()).toBe(2);
    vi.useRealTimers();
    advanceClock(JWKS_TTL_MS + JWKS_MAX_STALE_MS + 1_000);
    await expect(authenticate(await signWith(key, { sub: "alice" }), configured)).rejects.toMatchObject({ code: "upstream_unavailable", status: 503 });
  });

  it(`gives up on a key set that does not answer within ${JWKS_FETCH_TIMEOUT_MS / 1000} s: 503, not a request held open`, async () => {
    const key = await keyPair("RS256");
    const provider = await identityProvider([key.publicJwk]);
    // The provider would answer (with the right key) 3 s after the timeout; the timeout must end the wait first.
    await provider.misbehave({ delayMs: JWKS_FETCH_TIMEOUT_MS + 3_000 });
    await expect(authenticate(await signWith(key, { sub: "alice" }), { ...testEnv, ...provider.env })).rejects.toMatchObject({ code: "upstream_unavailable" });
    expect(await provider.fetches()).toBe(1);
  });

  it("a token without a kid or with another algorithm costs no fetch", async () => {
    const key = await keyPair("ES256");
    const provider = await identityProvider([key.publicJwk]);
    const configured = { ...testEnv, ...provider.env };
    const noKid = await sign({ sub: "x", iss: configured.AUTH_JWT_ISSUER, aud: configured.AUTH_JWT_AUDIENCE, exp: nowSeconds() + 60 }, { ...key.privateJwk, kid: undefined } as unknown as JsonWebKey, "ES256");
    await expect(authenticate(noKid, configured)).rejects.toMatchObject({ code: "unauthorized" });
    const hs512 = await sign({ sub: "x", exp: nowSeconds() + 60 }, testEnv.AUTH_JWT_SECRET, "HS512");
    await expect(authenticate(hs512, configured)).rejects.toMatchObject({ code: "unauthorized" });
    expect(await provider.fetches()).toBe(0);
  });
});

describe("one issuer", () => {
  it("with AUTH_JWKS_URL set, an HS256 token signed with AUTH_JWT_SECRET is refused", async () => {
    const provider = await identityProvider([(await keyPair("RS256")).publicJwk]);
    const token = await tokenFor(uniqueUser(), { extra: { iss: provider.env.AUTH_JWT_ISSUER, aud: provider.env.AUTH_JWT_AUDIENCE } });
    await expect(authenticate(token, { ...testEnv, ...provider.env })).rejects.toMatchObject({ code: "unauthorized" });
    await expect(authenticate(token, { ...testEnv, ...provider.env, AUTH_ALLOW_HS256: "false" })).rejects.toMatchObject({ code: "unauthorized" });
    expect(await provider.fetches()).toBe(0);
  });

  it("AUTH_ALLOW_HS256=true keeps HS256 tokens valid beside the JWKS (a migration), with the same issuer and audience", async () => {
    const provider = await identityProvider([(await keyPair("RS256")).publicJwk]);
    const user = uniqueUser();
    const allowed = { ...testEnv, ...provider.env, AUTH_ALLOW_HS256: "true" };
    const token = await tokenFor(user, { extra: { iss: provider.env.AUTH_JWT_ISSUER, aud: provider.env.AUTH_JWT_AUDIENCE } });
    await expect(authenticate(token, allowed)).resolves.toMatchObject({ id: user });
    await expect(authenticate(await tokenFor(user), allowed)).rejects.toMatchObject({ code: "unauthorized" });
  });
});

/** A request to a user route through a fresh app with `overrides`, capturing what was logged at error level. */
async function userRequest(token: string, overrides: Partial<AppBindings>): Promise<{ response: Response; logged: string }> {
  const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
  const response = await createApp().fetch(new Request("https://api.test/api/banking/items/", { headers: { Authorization: `Bearer ${token}` } }), { ...testEnv, ...overrides });
  const logged = errors.mock.calls.map((call) => call.map(String).join(" ")).join("\n");
  errors.mockRestore();
  return { response, logged };
}

describe("token policy", () => {
  it.each([
    ["AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE", { AUTH_JWT_ISSUER: undefined, AUTH_JWT_AUDIENCE: undefined }],
    ["AUTH_JWT_ISSUER", { AUTH_JWT_ISSUER: "" }],
    ["AUTH_JWT_AUDIENCE", { AUTH_JWT_AUDIENCE: undefined }],
  ])("a JWKS without %s is a configuration error: a clean 500, and the log names what is missing", async (missing, unset) => {
    const key = await keyPair("RS256");
    const provider = await identityProvider([key.publicJwk]);
    const { response, logged } = await userRequest(await signWith(key, { sub: uniqueUser() }), { ...provider.env, ...unset });
    expect(response.status).toBe(500);
    const json = await body(response);
    expect(json.error).toEqual({ code: "internal_error", message: "internal error", request_id: response.headers.get("X-Request-Id") });
    expect(JSON.stringify(json)).not.toMatch(/AUTH_|JWKS/);
    for (const name of missing.split(" and ")) expect(logged).toContain(name);
    expect(logged).toContain("configuration error");
    expect(await provider.fetches()).toBe(0);
  });

  it("caps a token's lifetime (exp − iat) at 24 h by default", async () => {
    const user = uniqueUser();
    const now = nowSeconds();
    const day = 24 * 3600;
    expect(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS).toBe(day);
    await expect(authenticate(await tokenFor(user, { expiresInSeconds: day }), testEnv)).resolves.toMatchObject({ id: user });
    await expect(authenticate(await tokenFor(user, { expiresInSeconds: day + 1 }), testEnv)).rejects.toMatchObject({ code: "unauthorized" });
    // Issued long ago, still unexpired: the lifetime is what counts, not what is left of it.
    await expect(authenticate(await tokenFor(user, { extra: { iat: now - 30 * day, exp: now + 60 } }), testEnv)).rejects.toMatchObject({ code: "unauthorized" });
    // Without iat, what is left of it may not exceed the cap either.
    const noIat = await sign({ sub: user, exp: now + day + 3600 }, testEnv.AUTH_JWT_SECRET, "HS256");
    await expect(authenticate(noIat, testEnv)).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("AUTH_JWT_MAX_LIFETIME_SECONDS sets the cap, for JWKS tokens too", async () => {
    const user = uniqueUser();
    const shorter = { ...testEnv, AUTH_JWT_MAX_LIFETIME_SECONDS: "3600" };
    await expect(authenticate(await tokenFor(user, { expiresInSeconds: 3600 }), shorter)).resolves.toMatchObject({ id: user });
    await expect(authenticate(await tokenFor(user, { expiresInSeconds: 7200 }), shorter)).rejects.toMatchObject({ code: "unauthorized" });
    const key = await keyPair("ES256");
    const provider = await identityProvider([key.publicJwk]);
    const long = await signWith(key, { sub: user, iat: nowSeconds(), exp: nowSeconds() + 7200 });
    await expect(authenticate(long, { ...shorter, ...provider.env })).rejects.toMatchObject({ code: "unauthorized" });
    await expect(authenticate(long, { ...testEnv, ...provider.env })).resolves.toMatchObject({ id: user });
  });

  it("refuses an HS256 secret shorter than 32 bytes: a clean 500, and the log says why", async () => {
    const secret = "only-31-bytes-of-secret-0123456";
    expect(new TextEncoder().encode(secret).byteLength).toBe(31);
    const token = await tokenFor(uniqueUser(), { secret });
    const { response, logged } = await userRequest(token, { AUTH_JWT_SECRET: secret });
    expect(response.status).toBe(500);
    expect((await body(response)).error.code).toBe("internal_error");
    expect(logged).toContain("AUTH_JWT_SECRET is 31 bytes");
    expect(logged).toContain("at least 32 bytes");
    // 32 bytes is enough.
    const enough = `${secret}7`;
    expect((await userRequest(await tokenFor(uniqueUser(), { secret: enough }), { AUTH_JWT_SECRET: enough })).response.status).toBe(200);
  });
});
