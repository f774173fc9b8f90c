// The fault suite's totals: each scenario writes its own numbers (bench/results/tmp/faults-<name>.json,
// so scenarios running in parallel never write one file together); the suite's teardown merges them
// into bench/results/faults-latest.json and prints one table.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TMP = path.join(ROOT, 'bench/results/tmp');
export const LATEST = path.join(ROOT, 'bench/results/faults-latest.json');
// A shortened or replayed run (FAULTS_ROUNDS, FAULTS_OUTAGE_S, FAULTS_EVENTS_S, FAULTS_SEED) must not replace the
// committed totals of a full run: its merged totals go to the scratch folder instead.
const SHORTENED = ['FAULTS_ROUNDS', 'FAULTS_OUTAGE_S', 'FAULTS_SEED', 'FAULTS_EVENTS_S'].some(
  (k) => process.env[k] !== undefined,
);
const OUTPUT = SHORTENED ? path.join(TMP, 'faults-run.json') : LATEST;

export type Totals = Record<string, number | string | boolean | null>;

export function writeScenarioTotals(name: string, totals: Totals): void {
  mkdirSync(TMP, { recursive: true });
  writeFileSync(path.join(TMP, `faults-${name}.json`), `${JSON.stringify(totals, null, 2)}\n`);
}

export function clearScenarioTotals(): void {
  if (!existsSync(TMP)) return;
  for (const f of readdirSync(TMP)) if (/^faults-.*\.json$/.test(f)) rmSync(path.join(TMP, f));
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** Merges what the scenarios wrote into faults-latest.json and returns the table to print. */
export function mergeScenarioTotals(): string {
  if (!existsSync(TMP)) return 'fault suite: no scenario wrote totals';
  const scenarios: Record<string, Totals> = {};
  for (const f of readdirSync(TMP).sort()) {
    const m = /^faults-(.*)\.json$/.exec(f);
    if (m?.[1] === 'run') continue;
    if (m?.[1]) scenarios[m[1]] = JSON.parse(readFileSync(path.join(TMP, f), 'utf8')) as Totals;
  }
  if (Object.keys(scenarios).length === 0) return 'fault suite: no scenario wrote totals';
  const doc = {
    generated_at: new Date().toISOString(),
    command: 'npm run test:faults',
    // The code the totals speak for; "dirty" when the tree had uncommitted changes.
    git_commit: gitCommit(),
    machine: {
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model ?? 'unknown',
      memory_gb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
    },
    scenarios,
  };
  writeFileSync(OUTPUT, `${JSON.stringify(doc, null, 2)}\n`);
  const lines = ['', `Fault suite totals (also in ${path.relative(ROOT, OUTPUT)})`];
  for (const [name, totals] of Object.entries(scenarios)) {
    lines.push('', `  ${name}`);
    const width = Math.max(...Object.keys(totals).map((k) => k.length));
    for (const [k, v] of Object.entries(totals)) lines.push(`    ${k.padEnd(width)}  ${String(v)}`);
  }
  return `${lines.join('\n')}\n`;
}
