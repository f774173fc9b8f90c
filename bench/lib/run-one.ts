// Runs one benchmark module in this (child) process: `node --import tsx bench/lib/run-one.ts
// <module> <result file> [--quick]`. Isolated so one benchmark's memory, timers or crash cannot
// touch the next one's numbers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Benchmark, BenchRow } from './benchmark.js';

const [modulePath, resultFile, ...flags] = process.argv.slice(2);
const quick = flags.includes('--quick');

async function main(): Promise<void> {
  const mod = (await import(pathToFileURL(path.resolve(modulePath as string)).href)) as {
    default?: Benchmark;
  };
  const bench = mod.default;
  if (!bench || typeof bench.run !== 'function') {
    throw new Error(`${modulePath} does not default-export defineBenchmark({...})`);
  }
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), `nwa-bench-${bench.name}-`));
  const started = performance.now();
  try {
    const rows: BenchRow[] = await bench.run({
      quick,
      tmpDir,
      log: (message) => process.stderr.write(`[${bench.name}] ${message}\n`),
    });
    writeFileSync(
      resultFile as string,
      JSON.stringify({
        name: bench.name,
        description: bench.description,
        seconds: (performance.now() - started) / 1000,
        rows,
      }),
    );
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
