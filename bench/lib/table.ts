// Prints benchmark rows as one aligned text table: the numbers, and for compared rows the baseline
// and the ratio to it.
import type { BenchRow } from './benchmark.js';

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return '0';
  return value.toPrecision(2);
}

export function formatTable(rows: BenchRow[]): string {
  const header = ['benchmark', 'case', 'metric', 'value', 'unit', 'vs baseline', 'ratio'];
  const body = rows.map((r) => [
    r.benchmark ?? '',
    r.case,
    r.metric,
    formatNumber(r.value),
    r.unit,
    r.baseline ?? '',
    r.ratio === undefined
      ? ''
      : `${r.ratio.toFixed(2)}×${r.better ? (r.better === 'higher' ? ' ↑' : ' ↓') : ''}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] as string).length)));
  const numeric = new Set([3, 6]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
