import { z } from "@hono/zod-openapi";
import { webhookAuthConfig } from "../platform/env.ts";
import { AppError } from "../platform/errors.ts";
import { createRouter, dataOf, errorResponses, jsonContent } from "../platform/openapi.ts";
import { checkRateLimit, RATE_LIMIT_PERIOD_SECONDS } from "./intake-rate-limit.ts";
import { BodyTooLargeError, readCappedBody } from "./read-capped-body.ts";
import { acceptDelivery } from "./webhook-intake.service.ts";
import { incrementWebhookCounter, WEBHOOK_COUNTERS } from "./webhook-metrics.ts";
import { sha256Hex, tokenMatches, verifySignature } from "./verify-signature.ts";

/** Larger webhook bodies are refused with 413 and never read past this (docs/http-api.md, "Pluggy webhooks"). */
export const MAX_WEBHOOK_BODY_BYTES = 256 * 1024;
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

const intakeResult = z
  .object({
    event_id: z.string(),
    status: z.enum(["accepted", "duplicate"]),
  })
  .openapi("WebhookIntakeResult");

export const webhookIntakeRoutes = createRouter();

// Documented here, handled below without a validator: the signature covers the raw bytes, so the body
// is read (capped) and verified by hand before anything parses it.
webhookIntakeRoutes.openAPIRegistry.registerPath({
  method: "post",
  path: "/pluggy/webhook",
  tags: ["Webhooks"],
  summary: "Pluggy webhook intake: verified, archived in R2, queued; answers before any processing",
  description:
    "Authenticated by `X-Pluggy-Signature` (hex HMAC-SHA256 of the raw body, optional `sha256=` prefix, any of the keys in " +
    "PLUGGY_WEBHOOK_SECRET) and, when PLUGGY_WEBHOOK_AUTH_TOKEN is set, `X-Webhook-Token`. With both set (and " +
    "PLUGGY_WEBHOOK_REQUIRE_SIGNATURE not `true`), a delivery with the right token and no signature header is accepted and counted as " +
    "`unsigned`; a present but wrong signature is always refused. A body whose `clientId` is present and not PLUGGY_CLIENT_ID is refused " +
    "(401, nothing stored). Body ≤ 256 KiB. A repeated `eventId` answers `duplicate` and is not processed again. Any storage failure " +
    "answers 503 so Pluggy delivers again.",
  request: {
    headers: z.object({
      "X-Pluggy-Signature": z.string().optional().openapi({ example: "sha256=3f1c…" }),
      "X-Webhook-Token": z.string().optional(),
    }),
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z
            .looseObject({
              event: z.string().openapi({ description: "1–128 characters, no unpaired UTF-16 surrogates or control characters" }),
              eventId: z.string().openapi({ description: "1–256 characters, no unpaired UTF-16 surrogates or control characters, not `.` or `..`" }),
              itemId: z.string().optional().openapi({ description: "When a string: at most 256 characters, same rules as `eventId` (null or empty reads as absent)" }),
            })
            .openapi("PluggyWebhookBody"),
        },
      },
    },
  },
  responses: {
    200: jsonContent(dataOf(intakeResult), "Accepted, or a duplicate of an event already accepted"),
    400: jsonContent(errorResponses[400].content["application/json"].schema, "Signed, but not a valid event (or an id that cannot be a key); the bytes are kept as a `rejected` delivery"),
    401: jsonContent(
      errorResponses[401].content["application/json"].schema,
      "`invalid_signature`: missing or wrong signature or token; `unauthorized`: the body's `clientId` is another Pluggy application's. Nothing stored",
    ),
    413: errorResponses[413],
    415: errorResponses[415],
    429: errorResponses[429],
    503: jsonContent(errorResponses[503].content["application/json"].schema, "Could not store the delivery; Pluggy retries"),
  },
});

webhookIntakeRoutes.post("/pluggy/webhook", async (c) => {
  const env = c.env;
  const services = c.var.services;
  const logger = services.logger;
  const requestId = c.var.requestId;
  const receivedAt = new Date().toISOString();
  // The limiter answers while the body streams in; a refusal is only counted for an address under its limit.
  const limit = checkRateLimit({ limiter: env.WEBHOOK_RATE_LIMITER, logger }, c.req.header("CF-Connecting-IP") ?? "unknown");
  const rateLimited = () =>
    new AppError("rate_limited", "too many webhook deliveries from this address", { headers: { "Retry-After": String(RATE_LIMIT_PERIOD_SECONDS) } });
  const countRefused = () =>
    c.executionCtx.waitUntil(limit.verdict.then((allowed) => (allowed ? incrementWebhookCounter(services, WEBHOOK_COUNTERS.rejected, receivedAt) : undefined)).catch(() => undefined));

  const contentType = c.req.header("Content-Type");
  if (contentType !== undefined && !JSON_MEDIA_TYPE.test(contentType)) {
    c.executionCtx.waitUntil(limit.verdict);
    throw new AppError("unsupported_media_type", "webhook body must be application/json");
  }
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await readCappedBody(c.req.raw, MAX_WEBHOOK_BODY_BYTES);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    countRefused();
    throw new AppError("payload_too_large", `webhook body exceeds ${MAX_WEBHOOK_BODY_BYTES} bytes`);
  }
  if (limit.trusted) c.executionCtx.waitUntil(limit.verdict);
  else if (!(await limit.verdict)) throw rateLimited();

  const auth = webhookAuthConfig(env);
  // A delivery without a signature header passes verifySignature as `unsigned` only in the rollout mode
  // (token and secret set, signatures not required) — and is still refused below unless the token matched.
  const [tokenOk, verdict, sha256] = await Promise.all([
    auth.tokens.length > 0 ? tokenMatches(c.req.header("X-Webhook-Token"), auth.tokens) : Promise.resolve(true),
    verifySignature(bytes, c.req.header("X-Pluggy-Signature"), auth.secrets, { acceptUnsigned: auth.acceptUnsigned }),
    sha256Hex(bytes),
  ]);
  if (!tokenOk || !verdict.ok) {
    if (!(await limit.verdict)) throw rateLimited();
    logger.warn("webhook refused: authentication failed", {
      reason: tokenOk ? (verdict.ok ? null : verdict.reason) : "token_mismatch",
      ip: c.req.header("CF-Connecting-IP") ?? null,
    });
    countRefused();
    throw new AppError("invalid_signature", "missing or invalid webhook signature");
  }
  if (verdict.matchedKey === "none") logger.warn("PLUGGY_WEBHOOK_SECRET is not set: accepted a webhook without checking its signature");
  if (verdict.matchedKey === "unsigned") logger.warn("accepted a webhook without X-Pluggy-Signature on its X-Webhook-Token (counted as unsigned)");

  const result = await acceptDelivery(
    {
      catalog: services.catalog,
      bucket: services.bucket,
      eventsQueue: services.eventsQueue,
      logger,
      waitUntil: services.waitUntil,
      clientId: env.PLUGGY_CLIENT_ID?.trim() || undefined,
    },
    { bytes, sha256, contentType: contentType ?? "application/json", matchedKey: verdict.matchedKey, requestId, receivedAt },
  );
  return c.json({ data: { event_id: result.eventId, status: result.status } }, 200);
});
