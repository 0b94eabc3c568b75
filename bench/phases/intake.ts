import { NotMeasurable, type BenchContext } from "../lib/context.ts";

export const INTAKE_GOALS: Array<{ name: string; op: ">=" | "<="; target: number }> = [];

export async function intake(_ctx: BenchContext): Promise<void> {
  throw new NotMeasurable("not written yet");
}
