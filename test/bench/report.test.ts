// The numbers the READMEs quote are generated from the committed benchmark results: README.md's
// bench:numbers block and bench/RESULTS.md must be exactly what `npm run bench:report` writes, so a
// number typed by hand, or results committed without regenerating, fail here.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchRow } from '../../bench/lib/benchmark.js';
import type { BenchResults } from '../../bench/lib/results.js';
import { renderHeadlines } from '../../bench/report.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('bench:report', () => {
  it('README.md and bench/RESULTS.md match the newest committed results', () => {
    let out = '';
    let code = 0;
    try {
      out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/report.ts', '--check'], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      code = (err as { status?: number }).status ?? 1;
      out = String((err as { stderr?: string }).stderr ?? '');
    }
    expect(out).toContain('match the results');
    expect(code).toBe(0);
  });
});

describe('bench:report headline targets', () => {
  const run = (rows: BenchRow[]): BenchResults => ({
    name: 'bench-full',
    mode: 'full',
    started_at: '2026-12-07T00:00:00.000Z',
    finished_at: '2026-12-07T00:00:01.000Z',
    machine: { cores: 2, cpu_model: 'test cpu', git_commit: 'abc' } as unknown as BenchResults['machine'],
    benchmarks: [],
    rows,
  });
  const line = (text: string, figure: string) => text.split('\n').find((l) => l.includes(`| ${figure} |`));

  it('says met or missed beside each targeted figure, from its value or its ratio', () => {
    const text = renderHeadlines(
      run([
        {
          benchmark: 'ingress',
          case: '(report)',
          metric: 'throughput_daemon_over_group',
          value: 0.5,
          unit: '×',
        },
        {
          benchmark: 'ingress',
          case: '(report)',
          metric: 'p99_daemon_over_group_at_1000',
          value: 1.5,
          unit: '×',
        },
        {
          benchmark: 'ingress',
          case: 'medians',
          metric: 'processing_cpu_us_per_delivery',
          value: 151,
          unit: '',
        },
        {
          benchmark: 'events',
          case: 'ingress, 50 connections, 3 subscriptions',
          metric: 'throughput',
          value: 9000,
          unit: 'deliveries/s',
          ratio: 0.95,
          baseline: 'no subscription',
          better: 'higher',
        },
      ]),
      'test.json',
    );
    expect(line(text, 'throughput_daemon_over_group')).toContain('0.50 × (target ≥ 0.8: missed)');
    // At the target is met: "at most 1.5×".
    expect(line(text, 'p99_daemon_over_group_at_1000')).toContain('(target ≤ 1.5: met)');
    expect(line(text, 'medians: processing_cpu_us_per_delivery')).toContain('151 (target ≤ 150: missed)');
    expect(line(text, 'ingress, 50 connections, 3 subscriptions: throughput')).toContain(
      '0.95× ↑ vs no subscription; target ≥ 0.9×: met',
    );
    // A figure without a target keeps its plain value; one missing from the run says so.
    expect(line(text, 'processing_over_ingress')).toContain('not in this run');
  });
});
