import { OpenAPIHono, z } from "@hono/zod-openapi";
import { AppError, type ErrorDetail } from "./errors.ts";
import type { AppEnv } from "./env.ts";

/** The contract's error envelope, for the OpenAPI document. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "validation_error" }),
      message: z.string(),
      details: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
      request_id: z.string(),
    }),
  })
  .openapi("Error");

/** `{"data": T}` */
export const dataOf = <T extends z.ZodType>(schema: T) => z.object({ data: schema });

/** `{"data": T[], "next_cursor": string | null}` */
export const listOf = <T extends z.ZodType>(schema: T) => z.object({ data: z.array(schema), next_cursor: z.string().nullable() });

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

const errorResponse = (description: string) => jsonContent(errorSchema, description);

/** Standard error responses for a route's OpenAPI entry. */
export const errorResponses = {
  400: errorResponse("Validation error (`validation_error`, `invalid_json`)"),
  401: errorResponse("Missing, invalid or expired token"),
  403: errorResponse("Authenticated but not allowed"),
  404: errorResponse("Not found (also for another user's resource)"),
  409: errorResponse("Conflict"),
  410: errorResponse("Gone"),
  413: errorResponse("Payload too large"),
  415: errorResponse("Unsupported media type"),
  429: errorResponse("Rate limited"),
  502: errorResponse("Pluggy failed"),
  503: errorResponse("Pluggy unavailable"),
} as const;

/** The OpenAPI security requirement of every JWT-authenticated route. */
export const bearerSecurity = [{ bearerAuth: [] }];

/** The error responses every admin route documents: no/invalid token, and a user token without the admin role. */
export const adminAuthErrors = { 401: errorResponses[401], 403: errorResponses[403] } as const;

/** zod issues → `details` entries naming the field (unknown keys are named one by one). */
export function zodDetails(issues: readonly z.core.$ZodIssue[], prefix?: string): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const issue of issues) {
    const path = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        details.push({ field: [prefix, path, key].filter(Boolean).join("."), message: "unknown field" });
      }
      continue;
    }
    details.push({ field: [prefix, path].filter(Boolean).join(".") || (prefix ?? "body"), message: issue.message });
  }
  return details;
}

/** A failed zod parse → 400 `validation_error` naming each field. */
export function validationFailure(issues: readonly z.core.$ZodIssue[]): AppError {
  const details = zodDetails(issues);
  const message = details.map((d) => `${d.field}: ${d.message}`).join("; ") || "invalid request";
  return new AppError("validation_error", message, { details });
}

/**
 * A router for one domain. Validation failures throw AppError so `onError` renders the envelope.
 * Sub-routers must not `use("*")` middleware: mounted under a shared prefix it would leak onto other
 * routers' routes. Put auth on each route (`middleware: [requireUser]`).
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    strict: false,
    defaultHook: (result) => {
      if (!result.success) throw validationFailure(result.error.issues);
    },
  });
}
