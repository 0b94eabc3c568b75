import { describe, expect, it } from "vitest";
import { call, body } from "../helpers/http.ts";
import { authHeaders, uniqueUser } from "../helpers/auth.ts";

describe("transactions smoke", () => {
  it("lists empty for a new user, with and without trailing slash", async () => {
    const headers = await authHeaders(uniqueUser());
    for (const path of ["/api/banking/transactions/", "/api/banking/transactions"]) {
      const res = await call(path, { headers });
      expect(res.status).toBe(200);
      expect(await body(res)).toEqual({ data: [], next_cursor: null });
    }
  });
  it("refuses unknown query params and bad cursors", async () => {
    const headers = await authHeaders(uniqueUser());
    const res = await call("/api/banking/transactions/?foo=1", { headers });
    expect(res.status).toBe(400);
    const json = await body(res);
    expect(json.error.code).toBe("validation_error");
    expect(json.error.details[0].field).toBe("foo");
    const bad = await call("/api/banking/transactions/?cursor=zzz", { headers });
    expect(bad.status).toBe(400);
    const limit = await call("/api/banking/transactions/?limit=0", { headers });
    expect((await body(limit)).error.details[0].field).toBe("limit");
  });
  it("401 without token", async () => {
    const res = await call("/api/banking/transactions/");
    expect(res.status).toBe(401);
    expect((await body(res)).error.code).toBe("unauthorized");
  });
});
