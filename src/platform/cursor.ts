import type { z } from "zod";
import { AppError } from "./errors.ts";

/**
 * FNV-1a (32 bit) of the cursor's JSON. Not a secret (the query is always scoped to the caller, so a
 * forged cursor only moves within their own rows); it makes a cursor altered anywhere a 400 instead of
 * silently reading from some other position.
 */
function checksum(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, "0");
}

/**
 * Opaque keyset cursors: base64url of the last row's sort key as JSON plus its checksum. A cursor that
 * does not decode to the expected shape, or whose checksum does not match, is a 400, never a 500.
 */
export function encodeCursor(key: Record<string, string | number>): string {
  const json = JSON.stringify(key);
  const bytes = new TextEncoder().encode(`${json}.${checksum(json)}`);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function decodeCursor<T>(cursor: string, schema: z.ZodType<T>): T {
  const invalid = () =>
    new AppError("validation_error", "cursor: invalid or tampered cursor", {
      details: [{ field: "cursor", message: "invalid or tampered cursor" }],
    });
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) throw invalid();
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    const dot = text.lastIndexOf(".");
    if (dot < 0 || text.slice(dot + 1) !== checksum(text.slice(0, dot))) throw invalid();
    const json: unknown = JSON.parse(text.slice(0, dot));
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw invalid();
    return parsed.data;
  } catch {
    throw invalid();
  }
}
