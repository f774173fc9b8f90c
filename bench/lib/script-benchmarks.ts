// Benchmarks written as scripts (`node --import tsx bench/<name>/run.ts [flags]`, writing their own
// JSON report and printing "written to <file>") rather than as defineBenchmark modules. The runner
// gives them the flags below for the quick and full modes and turns the numbers of their report
// into table rows. A new benchmark should prefer defineBenchmark (see bench/README.md).
import type { BenchRow } from './benchmark.js';

export const SCRIPT_FLAGS: Record<string, { quick: string[]; full: string[] }> = {
  ingress: {
    quick: ['--rounds', '1', '--duration', '2', '--warmup', '1'],
    full: ['--rounds', '3', '--duration', '12', '--warmup', '2'],
  },
  outbound: {
    quick: ['--sizes', '10000,100000', '--due', '2000', '--sends', '400'],
    full: ['--sizes', '100000,1000000', '--due', '10000', '--sends', '1600'],
  },
  campaigns: {
    quick: ['--recipients', '10000', '--sends', '200'],
    full: ['--recipients', '100000', '--sends', '800'],
  },
  insights: { quick: ['--quick'], full: ['--sizes', '10000,1000000'] },
  regex: { quick: ['--quick'], full: [] },
  refactor: {
    quick: ['--rounds', '2', '--duration', '3', '--warmup', '1'],
    full: ['--rounds', '6', '--duration', '15', '--warmup', '3'],
  },
};

// Descriptive parts of a report, not measurements.
const SKIP = new Set([
  'machine',
  'context',
  'settings',
  'targets',
  'date',
  'node',
  'bench',
  'benchmark',
  'platform',
]);

function unitOf(key: string): string {
  if (/per_second|_per_s$|rate/.test(key)) return '/s';
  if (/(^|_)ms$|_ms_/.test(key)) return 'ms';
  if (/_us$/.test(key)) return 'µs';
  if (/(^|_)s$|seconds?$/.test(key)) return 's';
  if (/_mb($|_)/.test(key)) return 'MiB';
  return '';
}

/** Every numeric leaf of a script's report as a row; leaves under `ratios` are ratios. */
export function reportRows(report: unknown): BenchRow[] {
  const rows: BenchRow[] = [];
  const walk = (value: unknown, at: string[]) => {
    if (typeof value === 'number' && Number.isFinite(value)) {
      const key = at.at(-1) ?? '';
      const isRatio = at[0] === 'ratios';
      rows.push({
        case: at.slice(isRatio ? 1 : 0, -1).join('.') || '(report)',
        metric: key,
        value,
        unit: isRatio ? '×' : unitOf(key),
      });
      return;
    }
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, [...at, String(i)]);
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) if (!(at.length === 0 && SKIP.has(k))) walk(v, [...at, k]);
    }
  };
  walk(report, []);
  return rows;
}
