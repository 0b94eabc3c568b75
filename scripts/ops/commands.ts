import { tokenCommand } from "./token.command.ts";
import { syncsCommand } from "./syncs.command.ts";
import { metricsCommand } from "./metrics.command.ts";
import { reconcileCommand } from "./reconcile.command.ts";
import { eraseUserCommand } from "./erase-user.command.ts";
import { replayCommand } from "./replay.command.ts";
import { webhooksCommand } from "./webhooks.command.ts";

export interface Command {
  summary: string;
  /** Receives the arguments after the command name; returns the exit code. */
  run(args: string[]): Promise<number | void>;
}

/* Each command lives in its own `<name>.command.ts`; add one line here. */
export const COMMANDS: Record<string, Command> = {
  token: tokenCommand,
  syncs: syncsCommand,
  metrics: metricsCommand,
  reconcile: reconcileCommand,
  "erase-user": eraseUserCommand,
  replay: replayCommand,
  webhooks: webhooksCommand,
};
