import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/platform/logger.ts";
import { tokenFor } from "../helpers/auth.ts";

/* What reaches Workers Logs: one JSON object per line, with no secret in it at any depth. */

afterEach(() => vi.restoreAllMocks());

/** Logs through `log` and returns the written line, raw and parsed. */
function captured(log: (logger: ReturnType<typeof createLogger>) => void): { raw: string; line: Record<string, unknown> } {
  const lines: string[] = [];
  for (const method of ["log", "warn", "error"] as const) vi.spyOn(console, method).mockImplementation((line: unknown) => void lines.push(String(line)));
  log(createLogger({ request_id: "req-1" }));
  expect(lines).toHaveLength(1);
  const raw = lines[0] ?? "";
  return { raw, line: JSON.parse(raw) as Record<string, unknown> };
}

describe("log redaction", () => {
  it("redacts secret-named keys at every depth", () => {
    let nested: Record<string, unknown> = { password: "hunter2-deep", api_key: "key-deep" };
    for (let i = 0; i < 7; i++) nested = { level: nested };
    const { raw } = captured((logger) => logger.info("deep", { context: nested, list: [[[[[[{ authorization: "Basic c2VjcmV0" }]]]]]] }));
    expect(raw).not.toContain("hunter2-deep");
    expect(raw).not.toContain("key-deep");
    expect(raw).not.toContain("c2VjcmV0");
  });

  it("never writes a value deeper than it inspects: it is replaced, not passed through", () => {
    let nested: unknown = "the bottom, never reached";
    for (let i = 0; i < 20; i++) nested = { next: nested };
    const { raw } = captured((logger) => logger.info("very deep", { nested }));
    expect(raw).toContain("[nested too deep to log]");
    expect(raw).not.toContain("the bottom");
  });

  it("scrubs JWTs and bearer credentials from every string, the message and error texts included", async () => {
    const jwt = await tokenFor("someone");
    const { raw, line } = captured((logger) =>
      logger.error(`verification of ${jwt} failed`, {
        error: new Error(`upstream said: Authorization: Bearer ${jwt}`),
        stack: `Error: bad token ${jwt}\n    at verify`,
        url: `https://api.example/callback?token_hint=${jwt}`,
        notes: ["header was Bearer abc.def-ghi_123=", { deeper: [`eyJhbGciOiJIUzI1NiJ9.${jwt.split(".")[1]}.sig`] }],
      }),
    );
    expect(raw).not.toContain(jwt.split(".")[1] ?? "never");
    expect(raw).not.toContain("abc.def-ghi_123");
    expect(line.message).toBe("verification of [redacted jwt] failed");
    expect(line.error).toEqual({ name: "Error", message: "upstream said: Authorization: Bearer [redacted]" });
    expect(raw).toContain("header was Bearer [redacted]");
  });

  it("says how much of a long array it left out instead of cutting it silently", () => {
    const ids = Array.from({ length: 120 }, (_, i) => `id-${i}`);
    const { line } = captured((logger) => logger.info("batch", { ids }));
    const logged = line.ids as string[];
    expect(logged).toHaveLength(51);
    expect(logged.slice(0, 50)).toEqual(ids.slice(0, 50));
    expect(logged[50]).toBe("[70 more of 120 entries not logged]");
    const short = captured((logger) => logger.info("batch", { ids: ids.slice(0, 30) })).line.ids;
    expect(short).toEqual(ids.slice(0, 30));
  });

  it("writes a line even for circular fields", () => {
    const loop: Record<string, unknown> = { name: "loop" };
    loop.self = loop;
    const { line } = captured((logger) => logger.warn("cycle", { loop }));
    expect(line.loop).toEqual({ name: "loop", self: "[circular]" });
  });
});
