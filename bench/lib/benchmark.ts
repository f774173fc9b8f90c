// The contract of a benchmark module: `bench/<name>/run.ts` default-exports defineBenchmark({...}).
// bench/run.ts finds every such module, runs each in its own process, and prints one table of the
// rows they return. A row that compares says against which baseline, measured in the same run.

export interface BenchRow {
  /** Filled in by the runner from the module's name when left out. */
  benchmark?: string;
  /** What was measured: "daemon webhook, 64 connections", "tick at 100k conversations". */
  case: string;
  metric: string;
  value: number;
  unit: string;
  /** The case this row is compared with, measured in the same run. */
  baseline?: string;
  /** value / baseline value. */
  ratio?: number;
  /** Which direction is good, so a reader knows whether a ratio above 1 is a win. */
  better?: 'higher' | 'lower';
  note?: string;
}

export interface BenchContext {
  /** --quick: a CI-sized run; every benchmark should finish within seconds to a minute. */
  quick: boolean;
  /** A scratch directory for this benchmark, removed afterwards. */
  tmpDir: string;
  /** Progress lines (stderr), so a long run shows it is alive. */
  log(message: string): void;
}

export interface Benchmark {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}

export function defineBenchmark(benchmark: Benchmark): Benchmark {
  return benchmark;
}

/** A row comparing `value` with `base` (same metric, same unit). */
export function compared(
  row: Omit<BenchRow, 'baseline' | 'ratio'>,
  baseline: { case: string; value: number } | undefined,
): BenchRow {
  if (!baseline || baseline.value === 0) return row;
  return { ...row, baseline: baseline.case, ratio: row.value / baseline.value };
}
