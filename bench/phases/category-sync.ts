import { NotMeasurable, type BenchContext } from "../lib/context.ts";

export const CATEGORY_SYNC_GOALS: Array<{ name: string; op: ">=" | "<="; target: number }> = [];

export async function categorySync(_ctx: BenchContext): Promise<void> {
  throw new NotMeasurable("not written yet");
}
