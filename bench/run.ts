// `npm run bench [-- --quick] [-- --only a,b] [-- --list]`: builds the daemon, runs every benchmark
// of the project (each bench/<name>/run.ts, one process each), prints one table and writes the
// numbers with the machine's description to bench/results/bench-<mode>-<timestamp>.json.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchRow } from './lib/benchmark.js';
import { buildBaselines } from './lib/contestants.js';
import { describeMachine, formatMachine } from './lib/machine.js';
import { type BenchResults, RESULTS_DIR, writeResults } from './lib/results.js';
import { reportRows, SCRIPT_FLAGS } from './lib/script-benchmarks.js';
import { formatTable } from './lib/table.js';

const BENCH_DIR = import.meta.dirname;
const ROOT = path.resolve(BENCH_DIR, '..');
const NOT_BENCHMARKS = new Set(['lib', 'results', 'baselines', 'node_modules']);

interface Found {
  name: string;
  file: string;
  kind: 'module' | 'script';
}

/** Every bench/<name>/run.ts; a module default-exports defineBenchmark, anything else is a script. */
export function discover(): Found[] {
  return readdirSync(BENCH_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !NOT_BENCHMARKS.has(d.name))
    .map((d) => ({ name: d.name, file: path.join(BENCH_DIR, d.name, 'run.ts') }))
    .filter((b) => existsSync(b.file))
    .map((b) => ({
      ...b,
      kind: /export default defineBenchmark\(/.test(readFileSync(b.file, 'utf8')) ? 'module' : 'script',
    }))
    .sort((a, b) => a.name.localeCompare(b.name)) as Found[];
}

function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return new Promise<{ code: number; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d.toString();
    });
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout }));
  });
}

async function runModule(
  b: Found,
  quick: boolean,
  dir: string,
): Promise<{ rows: BenchRow[]; description: string }> {
  const out = path.join(dir, `${b.name}.json`);
  const { code } = await run([
    '--import',
    'tsx',
    path.join(BENCH_DIR, 'lib/run-one.ts'),
    b.file,
    out,
    ...(quick ? ['--quick'] : []),
  ]);
  if (code !== 0) throw new Error(`exited with code ${code}`);
  const result = JSON.parse(readFileSync(out, 'utf8')) as { rows: BenchRow[]; description: string };
  return { rows: result.rows, description: result.description };
}

/** The report files in bench/results/ now, to put back what a quick run of a script overwrote. */
function snapshotResults(): Map<string, string> {
  const files = new Map<string, string>();
  if (!existsSync(RESULTS_DIR)) return files;
  // Report files only: the fault suite keeps its scratch files in a folder here (bench/results/tmp).
  for (const f of readdirSync(RESULTS_DIR, { withFileTypes: true })) {
    if (f.isFile()) files.set(f.name, readFileSync(path.join(RESULTS_DIR, f.name), 'utf8'));
  }
  return files;
}

async function runScript(b: Found, quick: boolean): Promise<{ rows: BenchRow[]; description: string }> {
  const flags = SCRIPT_FLAGS[b.name];
  const before = snapshotResults();
  const { code, stdout } = await run([
    '--import',
    'tsx',
    b.file,
    ...((quick ? flags?.quick : flags?.full) ?? []),
  ]);
  process.stderr.write(stdout.replace(/^/gm, `[${b.name}] `));
  if (code !== 0) throw new Error(`exited with code ${code}`);
  const written = /written to (\S+\.json)/.exec(stdout)?.[1];
  if (!written) throw new Error('printed no "written to <file>.json" line');
  const file = path.resolve(ROOT, written);
  const report = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  // Scripts write their own report; a quick run's numbers must not replace those of a full run.
  if (quick) {
    const previous = before.get(path.basename(file));
    if (previous === undefined) rmSync(file, { force: true });
    else writeFileSync(file, previous);
  }
  return {
    rows: reportRows(report),
    description:
      `script ${path.relative(ROOT, b.file)} ${flags ? '' : '(no quick flags known: its defaults)'}`.trim(),
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      list: { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
    },
  });
  const found = discover();
  if (values.list) {
    for (const b of found)
      process.stdout.write(`${b.name.padEnd(16)} ${b.kind}  ${path.relative(ROOT, b.file)}\n`);
    return 0;
  }
  const only = values.only ? new Set(values.only.split(',')) : undefined;
  const selected = found.filter((b) => !only || only.has(b.name));
  if (only && selected.length !== only.size) {
    process.stderr.write(`unknown benchmark in --only; known: ${found.map((b) => b.name).join(', ')}\n`);
    return 2;
  }
  const quick = values.quick === true;
  const machine = describeMachine();
  process.stderr.write(`machine: ${formatMachine(machine)}\n`);
  if (!values['no-build']) {
    process.stderr.write('building the daemon (npm run build)...\n');
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
    buildBaselines();
  }

  const startedAt = new Date();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nwa-bench-run-'));
  const results: BenchResults = {
    name: `bench-${quick ? 'quick' : 'full'}`,
    mode: quick ? 'quick' : 'full',
    started_at: startedAt.toISOString(),
    finished_at: '',
    machine,
    benchmarks: [],
    rows: [],
  };
  try {
    for (const b of selected) {
      process.stderr.write(`\n== ${b.name} (${b.kind}, ${quick ? 'quick' : 'full'})\n`);
      const t0 = performance.now();
      try {
        const { rows, description } =
          b.kind === 'module' ? await runModule(b, quick, dir) : await runScript(b, quick);
        results.rows.push(...rows.map((r) => ({ ...r, benchmark: r.benchmark ?? b.name })));
        results.benchmarks.push({
          name: b.name,
          description,
          seconds: (performance.now() - t0) / 1000,
          error: null,
        });
      } catch (err) {
        process.stderr.write(`[${b.name}] failed: ${(err as Error).message}\n`);
        results.benchmarks.push({
          name: b.name,
          description: '',
          seconds: (performance.now() - t0) / 1000,
          error: (err as Error).message,
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  results.finished_at = new Date().toISOString();

  const total = (Date.parse(results.finished_at) - startedAt.getTime()) / 1000;
  process.stdout.write(`\n${formatMachine(machine)}\n`);
  process.stdout.write(
    `${quick ? 'quick' : 'full'} run, ${total.toFixed(0)} s\n\n${formatTable(results.rows)}\n`,
  );
  for (const b of results.benchmarks) {
    process.stdout.write(
      `${b.error ? '✗' : '✓'} ${b.name} ${b.seconds.toFixed(0)} s${b.error ? `: ${b.error}` : ''}\n`,
    );
  }
  if (!values['no-write']) {
    const file = writeResults(results);
    process.stdout.write(`written to ${path.relative(ROOT, file)}\n`);
  }
  return results.benchmarks.some((b) => b.error) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
