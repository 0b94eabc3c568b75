import { describe, expect, it } from "vitest";
import { sha256Hex, signBody, tokenMatches, toHex, verifySignature } from "../../src/webhooks/verify-signature.ts";

const encode = (text: string) => new TextEncoder().encode(text);

// RFC 4231 test case 2: HMAC-SHA256(key "Jefe", "what do ya want for nothing?").
const RFC4231_KEY = "Jefe";
const RFC4231_DATA = "what do ya want for nothing?";
const RFC4231_MAC = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
// SHA-256("abc"), FIPS 180-2 appendix B.1.
const ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

describe("known vectors", () => {
  it("signs like RFC 4231 test case 2", async () => {
    expect(await signBody(RFC4231_DATA, RFC4231_KEY)).toBe(RFC4231_MAC);
  });
  it("hashes like FIPS 180-2", async () => {
    expect(await sha256Hex(encode("abc"))).toBe(ABC_SHA256);
    expect(toHex(new Uint8Array([0, 15, 255]))).toBe("000fff");
  });
});

describe("verifySignature", () => {
  const body = encode(RFC4231_DATA);
  const keys = ["rotated-new", RFC4231_KEY];

  describe.each([
    { name: "lower-case hex, second key", header: RFC4231_MAC, expected: { ok: true, matchedKey: "key:1" } },
    { name: "upper-case hex", header: RFC4231_MAC.toUpperCase(), expected: { ok: true, matchedKey: "key:1" } },
    { name: "sha256= prefix", header: `sha256=${RFC4231_MAC}`, expected: { ok: true, matchedKey: "key:1" } },
    { name: "SHA256= prefix, upper-case hex", header: `SHA256=${RFC4231_MAC.toUpperCase()}`, expected: { ok: true, matchedKey: "key:1" } },
    { name: "surrounding whitespace", header: `  ${RFC4231_MAC} `, expected: { ok: true, matchedKey: "key:1" } },
    { name: "missing header", header: undefined, expected: { ok: false, reason: "missing_signature" } },
    { name: "empty header", header: "", expected: { ok: false, reason: "missing_signature" } },
    { name: "not hex", header: "z".repeat(64), expected: { ok: false, reason: "malformed_signature" } },
    { name: "truncated", header: RFC4231_MAC.slice(0, 62), expected: { ok: false, reason: "malformed_signature" } },
    { name: "other prefix", header: `sha1=${RFC4231_MAC}`, expected: { ok: false, reason: "malformed_signature" } },
    { name: "one hex digit off", header: `${RFC4231_MAC.slice(0, 63)}4`, expected: { ok: false, reason: "no_matching_key" } },
  ])("$name", ({ header, expected }) => {
    it("gives the expected verdict", async () => {
      expect(await verifySignature(body, header, keys)).toEqual(expected);
    });
  });

  it("reports the first key that matches (rotation: new key first)", async () => {
    const mac = await signBody(body, "rotated-new");
    expect(await verifySignature(body, mac, keys)).toEqual({ ok: true, matchedKey: "key:0" });
  });

  it("refuses a body changed by one byte", async () => {
    const changed = encode(RFC4231_DATA.replace("?", "!"));
    expect(await verifySignature(changed, RFC4231_MAC, keys)).toEqual({ ok: false, reason: "no_matching_key" });
  });

  it("refuses a signature made with an unknown key", async () => {
    expect(await verifySignature(body, await signBody(body, "someone-else"), keys)).toEqual({ ok: false, reason: "no_matching_key" });
  });

  describe("acceptUnsigned (the header token already authenticated the delivery)", () => {
    it.each([undefined, null, "", "   "])("a missing or blank header (%j) is accepted as `unsigned`", async (header) => {
      expect(await verifySignature(body, header, keys, { acceptUnsigned: true })).toEqual({ ok: true, matchedKey: "unsigned" });
    });
    it("a present signature is still verified: a valid one matches its key, a wrong or malformed one is refused", async () => {
      expect(await verifySignature(body, RFC4231_MAC, keys, { acceptUnsigned: true })).toEqual({ ok: true, matchedKey: "key:1" });
      expect(await verifySignature(body, "0".repeat(64), keys, { acceptUnsigned: true })).toEqual({ ok: false, reason: "no_matching_key" });
      expect(await verifySignature(body, "not-hex", keys, { acceptUnsigned: true })).toEqual({ ok: false, reason: "malformed_signature" });
    });
    it("without a key configured it is still `none`", async () => {
      expect(await verifySignature(body, undefined, [], { acceptUnsigned: true })).toEqual({ ok: true, matchedKey: "none" });
    });
  });

  it("accepts anything, as `none`, when no key is configured", async () => {
    expect(await verifySignature(body, undefined, [])).toEqual({ ok: true, matchedKey: "none" });
    expect(await verifySignature(body, "garbage", [])).toEqual({ ok: true, matchedKey: "none" });
  });
});

describe("tokenMatches", () => {
  it.each([
    { presented: "s3cret-token", expected: true },
    { presented: "s3cret-tokeN", expected: false },
    { presented: "s3cret-token ", expected: false },
    { presented: "s3cret", expected: false },
    { presented: "", expected: false },
    { presented: undefined, expected: false },
    { presented: null, expected: false },
  ])("$presented → $expected", async ({ presented, expected }) => {
    expect(await tokenMatches(presented, "s3cret-token")).toBe(expected);
  });

  it("accepts any token of a rotation list, and nothing when none is configured", async () => {
    expect(await tokenMatches("new-token", ["new-token", "old-token"])).toBe(true);
    expect(await tokenMatches("old-token", ["new-token", "old-token"])).toBe(true);
    expect(await tokenMatches("other", ["new-token", "old-token"])).toBe(false);
    expect(await tokenMatches("new-token", [])).toBe(false);
  });
});
