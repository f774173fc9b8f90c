// The house refactor, before and after (issue 21: "the benchmarks show no regression, same run"). Builds
// two revisions side by side: "before" (a detached `git worktree` of BEFORE_REV in bench/.build/refactor,
// node_modules linked to this checkout's, `npm run build` there) and this checkout (`npm run build`).
// Both daemons run at once and the rounds alternate between them (before, after, after, before, ...),
// so a noisy neighbour on a shared machine weighs on both:
// - ingress: signed deliveries per second at 50 connections, closed loop (bench/ingress's load generator);
// - processing: the daemon's CPU time per delivery (from /proc) while it applies the backlog that round
//   left behind, with nothing arriving (bench/ingress's drain).
// Which revision is "before", and why, is in bench/refactor/README.md.
// Run: npm run bench -- --only refactor [--quick], or
//      node --import tsx bench/refactor/run.ts [--rounds 4] [--duration 10] [--warmup 2] [--before REV]
// Writes bench/results/refactor-<date>.json and prints a summary.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { drainTime, type LoadResult, runLoad, type Server, startDaemon } from '../ingress/run.js';
import { round } from '../lib/round.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** The parent of 2293ee1 "house: files moved so arrows run down", the wave's first structural change. */
export const BEFORE_REV = '6a1aba1';

/** A detached worktree of `rev` under bench/.build/refactor, built; reused when already at `rev`. */
function buildBefore(rev: string): string {
  const sha = execFileSync('git', ['rev-parse', `${rev}^{commit}`], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = path.join(ROOT, 'bench/.build/refactor', sha.slice(0, 12));
  if (!existsSync(path.join(dir, 'dist/main.js'))) {
    if (existsSync(dir)) {
      execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT, stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    }
    mkdirSync(path.dirname(dir), { recursive: true });
    execFileSync('git', ['worktree', 'add', '--detach', dir, sha], { cwd: ROOT, stdio: 'inherit' });
    // The same installed packages as this checkout (the wave changed no dependency after BEFORE_REV).
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: dir, stdio: 'inherit' });
  }
  return dir;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

interface Round {
  deliveries_per_second: number;
  p99_ms: number;
  backlog: number | null;
  cpu_us_per_delivery: number | null;
}

export async function runRefactorBench(options: {
  rounds: number;
  duration: number;
  warmup: number;
  before: string;
}) {
  const beforeTree = buildBefore(options.before);
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const beforeSha = execFileSync('git', ['rev-parse', '--short', options.before], {
    cwd: ROOT,
    encoding: 'utf8',
  }).trim();
  const afterSha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).trim();
  const dirty =
    execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim() !==
    '';
  const dir = mkdtempSync(path.join(tmpdir(), 'nwa-bench-refactor-'));
  const context: Record<string, unknown> = { loadavg_before: loadavg() };
  const rounds: Record<'before' | 'after', Round[]> = { before: [], after: [] };
  const servers: Server[] = [];
  try {
    const daemons = {
      before: {
        db: path.join(dir, 'before.db'),
        server: await startDaemon(beforeTree, path.join(dir, 'before.db')),
      },
      after: { db: path.join(dir, 'after.db'), server: await startDaemon(ROOT, path.join(dir, 'after.db')) },
    };
    servers.push(daemons.before.server, daemons.after.server);
    for (let r = 0; r < options.rounds; r++) {
      // ABBA: each revision goes first in every other round.
      const order = r % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const);
      for (const which of order) {
        const d = daemons[which];
        process.stderr.write(`round ${r + 1}/${options.rounds}: ${which}, closed loop, 50 connections...\n`);
        const load: LoadResult = await runLoad(d.server.url, 'closed', {
          connections: 50,
          rate: 0,
          duration: options.duration,
          warmup: options.warmup,
          tag: `R${r}${which[0]}`,
        });
        const drain = await drainTime(d.db, 300_000, d.server.child.pid);
        rounds[which].push({
          deliveries_per_second: load.deliveries_per_second,
          p99_ms: load.latency_ms.p99,
          backlog: drain?.backlog ?? null,
          cpu_us_per_delivery: drain?.cpu_us_per_delivery ?? null,
        });
      }
    }
  } finally {
    for (const s of servers) await s.stop();
    context.loadavg_after = loadavg();
    rmSync(dir, { recursive: true, force: true });
  }

  const summary = (rs: Round[]) => ({
    deliveries_per_second: round(median(rs.map((x) => x.deliveries_per_second))),
    p99_ms: round(median(rs.map((x) => x.p99_ms))),
    processing_cpu_us_per_delivery: round(
      median(rs.flatMap((x) => (x.cpu_us_per_delivery === null ? [] : [x.cpu_us_per_delivery]))),
    ),
  });
  const before = summary(rounds.before);
  const after = summary(rounds.after);
  const report = {
    benchmark: 'refactor',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      node: process.version,
      platform: process.platform,
    },
    settings: {
      rounds: options.rounds,
      duration_s: options.duration,
      warmup_s: options.warmup,
      connections: 50,
      before: beforeSha,
      after: `${afterSha}${dirty ? ' + uncommitted src changes' : ''}`,
    },
    context,
    // Medians over the rounds.
    results: { before, after },
    rounds,
    ratios: {
      ingress_after_over_before: round(after.deliveries_per_second / before.deliveries_per_second),
      processing_cpu_after_over_before: round(
        after.processing_cpu_us_per_delivery / before.processing_cpu_us_per_delivery,
      ),
    },
  };
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  const file = path.join(ROOT, 'bench/results', `refactor-${report.date.slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return { report, file };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '4' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      before: { type: 'string', default: BEFORE_REV },
    },
  });
  const { report, file } = await runRefactorBench({
    rounds: Number(values.rounds),
    duration: Number(values.duration),
    warmup: Number(values.warmup),
    before: values.before as string,
  });
  const line = (name: string, x: typeof report.results.before) =>
    `${name.padEnd(34)} ${String(x.deliveries_per_second).padStart(7)}/s at 50 connections (p99 ${x.p99_ms} ms), processing ${x.processing_cpu_us_per_delivery} µs CPU per delivery`;
  process.stdout.write(
    [
      line(`before (${report.settings.before})`, report.results.before),
      line(`after (${report.settings.after})`, report.results.after),
      `after/before: ingress ${report.ratios.ingress_after_over_before}×, processing CPU ${report.ratios.processing_cpu_after_over_before}× (medians of ${report.settings.rounds} alternating rounds)`,
      `machine: ${JSON.stringify(report.context)}`,
      `written to ${path.relative(ROOT, file)}`,
      '',
    ].join('\n'),
  );
}
