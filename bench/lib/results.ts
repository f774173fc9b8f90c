// Writes one run's numbers to bench/results/<name>-<timestamp>.json with the machine description,
// so the figures travel with the commit that produced them.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchRow } from './benchmark.js';
import type { Machine } from './machine.js';

export const RESULTS_DIR = path.resolve(import.meta.dirname, '../results');

export interface BenchResults {
  name: string;
  mode: 'quick' | 'full';
  started_at: string;
  finished_at: string;
  machine: Machine;
  benchmarks: { name: string; description: string; seconds: number; error: string | null }[];
  rows: BenchRow[];
}

export function writeResults(results: BenchResults, dir = RESULTS_DIR): string {
  mkdirSync(dir, { recursive: true });
  const stamp = results.started_at.replace(/[:.]/g, '-');
  const file = path.join(dir, `${results.name}-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
