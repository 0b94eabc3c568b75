import { z } from "zod";
import { categorySyncMessage } from "../queues/messages.ts";

/**
 * A category-sync message once jobs live in the user's ledger: the consumer needs `userId` to reach
 * that ledger (a job id alone no longer says where the job is). Same kind and fields as
 * `categorySyncMessage` otherwise, so today's consumer still parses it (zod drops the extra key).
 */
export const ledgerCategorySyncMessage = categorySyncMessage.extend({
  userId: z.string().min(1),
});
export type LedgerCategorySyncMessage = z.infer<typeof ledgerCategorySyncMessage>;
