import { describe, expect, it } from "vitest";
import { AppError } from "../../src/platform/errors.ts";
import { PluggyError } from "../../src/pluggy/pluggy.errors.ts";
import { pluggyErrorToAppError } from "../../src/pluggy/pluggy.http.ts";

/* The one mapping from a failed Pluggy call to the contract's envelope (src/pluggy/pluggy.http.ts). */

describe.each([
  ["a timeout", new PluggyError(0, "Pluggy did not answer within 15000 ms", { codeDescription: "TIMEOUT" }), 503, "upstream_unavailable", undefined],
  ["a network failure", new PluggyError(0, "could not reach Pluggy", { codeDescription: "NETWORK_ERROR" }), 503, "upstream_unavailable", undefined],
  ["a 503 with Retry-After", new PluggyError(503, "down", { retryAfterSeconds: 30 }), 503, "upstream_unavailable", "30"],
  ["a 500", new PluggyError(500, "NullPointerException at com.pluggy..."), 502, "upstream_error", undefined],
  ["a 401 (our client keys)", new PluggyError(401, "bad keys", { codeDescription: "CLIENT_KEYS_UNAUTHORIZED" }), 502, "upstream_error", undefined],
  ["an unexpected body", new PluggyError(502, "unexpected Pluggy response", { codeDescription: "INVALID_RESPONSE" }), 502, "upstream_error", undefined],
  ["a 429", new PluggyError(429, "Too many requests", { retryAfterSeconds: 12 }), 429, "rate_limited", "12"],
  ["a 429 without reset", new PluggyError(429, "Too many requests"), 429, "rate_limited", "60"],
  ["a 409", new PluggyError(409, "Item is already updating", { codeDescription: "ITEM_IS_ALREADY_UPDATING" }), 409, "conflict", undefined],
  ["a 400 frequency refusal", new PluggyError(400, "too soon", { codeDescription: "CLIENT_IS_UPDATING_BEFORE_ALLOWED_FREQUENCY" }), 409, "conflict", undefined],
])("Pluggy failing with %s", (_name, pluggyError, status, code, retryAfter) => {
  it(`answers ${status} ${code}`, () => {
    const mapped = pluggyErrorToAppError(pluggyError);
    expect(mapped).toBeInstanceOf(AppError);
    expect(mapped).toMatchObject({ status, code });
    expect((mapped as AppError).headers?.["Retry-After"]).toBe(retryAfter);
  });
});

describe("pluggyErrorToAppError", () => {
  it("quotes Pluggy's reason on 409 and 429, but only status and code on 502", () => {
    expect((pluggyErrorToAppError(new PluggyError(409, "Item is already updating", { codeDescription: "ITEM_IS_ALREADY_UPDATING" })) as AppError).message).toBe(
      "Pluggy: Item is already updating (ITEM_IS_ALREADY_UPDATING)",
    );
    const hidden = pluggyErrorToAppError(new PluggyError(500, "NullPointerException at com.pluggy.Secret")) as AppError;
    expect(hidden.message).toBe("Pluggy request failed (500)");
  });

  it("leaves anything that is not a PluggyError unchanged", () => {
    const error = new TypeError("boom");
    expect(pluggyErrorToAppError(error)).toBe(error);
  });
});
