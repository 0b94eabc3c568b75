import { z } from "@hono/zod-openapi";

export const erasureQueuedSchema = z
  .object({ status: z.literal("queued").openapi({ description: "The erasure runs in the background; repeating the request is harmless" }) })
  .openapi("ErasureQueued");

export const erasureUserParams = z.object({
  user_id: z
    .string()
    .min(1)
    .max(255)
    .openapi({ param: { in: "path", name: "user_id" }, description: "The user id (the JWT `sub`)", example: "user-123" }),
});
