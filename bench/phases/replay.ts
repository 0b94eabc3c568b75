import { NotMeasurable, type BenchContext } from "../lib/context.ts";

export const REPLAY_GOALS: Array<{ name: string; op: ">=" | "<="; target: number }> = [];

export async function replay(_ctx: BenchContext): Promise<void> {
  throw new NotMeasurable("not written yet");
}
