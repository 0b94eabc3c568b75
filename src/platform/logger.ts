/** Keys whose values never reach a log line, whatever the nesting. */
const SECRET_KEY = /(authorization|token|secret|password|api[-_]?key|signature|cookie|jwt|credential)/i;
/** A JWT or JWS in compact form (a base64url JSON header, `eyJ…`, then two more parts), anywhere in a string. */
const JWT = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
/** The credential after an HTTP auth scheme (`Bearer …`, `Basic …`), anywhere in a string. */
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*/gi;
/** Deeper than this, a value is replaced by a marker (never written unredacted). */
const MAX_DEPTH = 8;
/** Array entries written per array; the rest are counted in a final entry. */
export const MAX_ARRAY_ENTRIES = 50;

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Removes tokens from free text: error messages, stacks, URLs, whatever a careless field carries. */
export function scrubSecrets(text: string): string {
  return text.replace(AUTH_SCHEME, "$1 [redacted]").replace(JWT, "[redacted jwt]");
}

function redact(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return scrubSecrets(value);
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[circular]";
  if (depth >= MAX_DEPTH) return "[nested too deep to log]";
  seen.add(value);
  if (value instanceof Error) return { name: value.name, message: scrubSecrets(value.message) };
  if (Array.isArray(value)) {
    const kept = value.slice(0, MAX_ARRAY_ENTRIES).map((entry) => redact(entry, depth + 1, seen));
    if (value.length > MAX_ARRAY_ENTRIES) kept.push(`[${value.length - MAX_ARRAY_ENTRIES} more of ${value.length} entries not logged]`);
    return kept;
  }
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? "[redacted]" : redact(entry, depth + 1, seen);
  }
  return out;
}

/**
 * Structured JSON logs (one object per line, picked up by Workers Logs). Secret-looking keys are
 * redacted at any depth, JWTs and `Bearer`/`Basic` credentials are scrubbed from every string (the
 * message and error texts included), and a long array says how much of it was left out.
 */
export function createLogger(base: Record<string, unknown> = {}): Logger {
  const write = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    const line = JSON.stringify({
      level,
      message: scrubSecrets(message),
      time: new Date().toISOString(),
      ...(redact({ ...base, ...fields }, 0, new WeakSet()) as object),
    });
    if (level === "error") console.error(line);
    else if (level === "warn") console.warn(line);
    else console.log(line);
  };
  return {
    debug: (message, fields) => write("debug", message, fields),
    info: (message, fields) => write("info", message, fields),
    warn: (message, fields) => write("warn", message, fields),
    error: (message, fields) => write("error", message, fields),
    child: (fields) => createLogger({ ...base, ...fields }),
  };
}
