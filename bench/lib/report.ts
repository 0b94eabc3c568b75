/**
 * Collects figures as phases measure them, then prints one table and, last, one `RATIO` line per goal:
 * `RATIO <name> <value> goal <op> <target>` followed by `MISS` when the goal is not met or the figure
 * could not be measured (value `n/a`, with the reason). Misses are printed, never hidden.
 */

export type GoalOp = ">=" | "<=";

export interface Row {
  phase: string;
  metric: string;
  value: string;
  note?: string;
}

export interface Goal {
  name: string;
  /** undefined when the figure could not be measured. */
  value: number | undefined;
  op: GoalOp;
  target: number;
  /** Why the value is missing, or what the figure is. */
  note?: string;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export interface LatencySummary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(latencies: number[]): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, x) => sum + x, 0) / Math.max(1, sorted.length);
  return { n: sorted.length, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN, mean };
}

export const ms = (x: number): string => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms` : "n/a");
export const fixed = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : "n/a");

export class Report {
  readonly rows: Row[] = [];
  readonly goals: Goal[] = [];
  readonly timings: Array<{ phase: string; seconds: number; outcome: string }> = [];
  readonly context: Array<[string, string]> = [];

  row(phase: string, metric: string, value: string, note?: string): void {
    this.rows.push({ phase, metric, value, ...(note ? { note } : {}) });
  }

  latency(phase: string, label: string, summary: LatencySummary): void {
    this.row(phase, `${label} p50 / p90 / p99`, `${ms(summary.p50)} / ${ms(summary.p90)} / ${ms(summary.p99)}`, `n=${summary.n}, max ${ms(summary.max)}`);
  }

  goal(name: string, value: number | undefined, op: GoalOp, target: number, note?: string): void {
    this.goals.push({ name, value, op, target, ...(note ? { note } : {}) });
  }

  /** Every goal of a phase that could not run, as a miss with the reason. */
  notMeasured(goals: Array<Pick<Goal, "name" | "op" | "target">>, reason: string): void {
    for (const g of goals) if (!this.goals.some((existing) => existing.name === g.name)) this.goal(g.name, undefined, g.op, g.target, reason);
  }

  static met(goal: Goal): boolean {
    if (goal.value === undefined || !Number.isFinite(goal.value)) return false;
    return goal.op === ">=" ? goal.value >= goal.target : goal.value <= goal.target;
  }

  ratioLines(): string[] {
    return this.goals.map((g) => {
      const value = g.value === undefined || !Number.isFinite(g.value) ? "n/a" : fixed(g.value, g.value >= 100 ? 1 : g.value >= 10 ? 2 : 3);
      const marker = Report.met(g) ? "" : g.value === undefined ? ` MISS (not measured: ${g.note ?? "unknown"})` : " MISS";
      return `RATIO ${g.name} ${value} goal ${g.op} ${g.target}${marker}`;
    });
  }

  print(out: (line: string) => void = console.log): void {
    out("");
    for (const [key, value] of this.context) out(`${key.padEnd(12)} ${value}`);
    out("");
    const widths = [
      Math.max(5, ...this.rows.map((r) => r.phase.length)),
      Math.max(6, ...this.rows.map((r) => r.metric.length)),
      Math.max(5, ...this.rows.map((r) => r.value.length)),
    ];
    const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c)).join("  ").trimEnd();
    out(line(["phase", "metric", "value", "note"]));
    out(line(widths.map((w) => "-".repeat(w)).concat("----")));
    for (const r of this.rows) out(line([r.phase, r.metric, r.value, r.note ?? ""]));
    out("");
    out("phase timings:");
    for (const t of this.timings) out(`  ${t.phase.padEnd(16)} ${t.seconds.toFixed(1).padStart(6)} s  ${t.outcome}`);
    out("");
    for (const l of this.ratioLines()) out(l);
  }
}
