/**
 * Collects figures as phases measure them, then prints one table and, last, one `RATIO` line per goal:
 * `RATIO <name> <value> goal <op> <target>` followed by `MISS` when the goal is not met, the figure
 * could not be measured (value `n/a`, with the reason), or the run that produced it was not valid
 * (`MISS (invalid: …)`). Every goal states, in its phase's rows (`valid: <goal>`), what was checked to
 * make the figure valid — so a goal cannot be met by a run that failed fast. Misses are printed, never
 * hidden.
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
  /** Set when a validity check failed: the figure is shown but the goal is a MISS. */
  invalid?: string;
}

/** What makes a figure valid: the checks that passed (always stated) and the first that failed, if any. */
export interface Validity {
  /** What was checked, with the counts seen, e.g. "1000 of 1000 jobs synced; 1000 PATCHes answered 200". */
  checked: string;
  /** Why the figure is not valid (a check failed); undefined when every check passed. */
  problem?: string | undefined;
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

  /**
   * A figure with its goal, and what made it valid — stated in the phase's rows as `valid: <name>`. A
   * failed check (`validity.problem`) makes the goal a MISS whatever the value.
   */
  goal(phase: string, name: string, value: number | undefined, op: GoalOp, target: number, validity: Validity, note?: string): void {
    const invalid = validity.problem;
    this.row(phase, `valid: ${name}`, invalid ? "NO" : "yes", invalid ? `${invalid} (checked: ${validity.checked})` : validity.checked);
    this.goals.push({ name, value, op, target, ...(note ? { note } : {}), ...(invalid ? { invalid } : {}) });
  }

  /** Every goal of a phase that could not run, as a miss with the reason. */
  notMeasured(goals: Array<Pick<Goal, "name" | "op" | "target">>, reason: string): void {
    for (const g of goals) if (!this.goals.some((existing) => existing.name === g.name)) this.goals.push({ name: g.name, value: undefined, op: g.op, target: g.target, note: reason });
  }

  static met(goal: Goal): boolean {
    if (goal.invalid !== undefined) return false;
    if (goal.value === undefined || !Number.isFinite(goal.value)) return false;
    return goal.op === ">=" ? goal.value >= goal.target : goal.value <= goal.target;
  }

  ratioLines(): string[] {
    return this.goals.map((g) => {
      const value = g.value === undefined || !Number.isFinite(g.value) ? "n/a" : fixed(g.value, g.value >= 100 ? 1 : g.value >= 10 ? 2 : 3);
      const marker = Report.met(g)
        ? ""
        : g.value === undefined
          ? ` MISS (not measured: ${g.note ?? "unknown"})`
          : g.invalid !== undefined
            ? ` MISS (invalid: ${g.invalid})`
            : " MISS";
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
