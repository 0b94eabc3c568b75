import type { z } from "zod";
import { AppError } from "./errors.ts";

/**
 * Opaque keyset cursors: base64url JSON of the last row's sort key. A cursor that does not decode to
 * the expected shape is a 400, never a 500.
 */
export function encodeCursor(key: Record<string, string | number>): string {
  const bytes = new TextEncoder().encode(JSON.stringify(key));
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
    const json: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw invalid();
    return parsed.data;
  } catch {
    throw invalid();
  }
}
