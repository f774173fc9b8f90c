// Ingress benchmark (issue 4): signed deliveries per second and the latency of the 200 at 50
// concurrent connections against the real daemon (node dist/main.js serve), next to a minimal
// "verify the signature + insert one row" Hono server measured in the same run, plus the latency
// at a fixed 1,000 deliveries/s. The load generator runs in its own process. Afterwards it measures
// how long the daemon's inbox processor takes to apply the backlog.
// Run: node --import tsx bench/ingress/run.ts [--duration 10] [--warmup 2]
// Writes bench/results/ingress-<date>.json and prints a summary.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import { round } from '../lib/round.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SECRET = 'bench_app_secret_0123456789abcdef';

interface LoadResult {
  mode: string;
  requests: number;
  ok: number;
  status_counts: Record<string, number>;
  deliveries_per_second: number;
  latency_ms: { p50: number; p90: number; p99: number; max: number; mean: number };
}

interface Server {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

function startProcess(
  args: string[],
  env: Record<string, string>,
  readyUrl: (out: string) => string | undefined,
) {
  return new Promise<Server>((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let ready = false;
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      });
    child.stdout?.on('data', (d: Buffer) => {
      if (ready) return; // the daemon's request log is discarded once it is up
      out += d.toString();
      const url = readyUrl(out);
      if (url) {
        ready = true;
        out = '';
        resolve({ child, url, stop });
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('exit', (code) => {
      if (!ready) reject(new Error(`server exited early (${code}): ${err}${out}`));
    });
  });
}

function runLoad(
  url: string,
  mode: 'closed' | 'open',
  opts: { connections: number; rate: number; duration: number; warmup: number; tag: string },
): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'bench/ingress/load.ts'),
        url,
        SECRET,
        mode,
        String(opts.connections),
        String(opts.rate),
        String(opts.duration),
        String(opts.warmup),
        opts.tag,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator failed (${code})`));
      resolve(JSON.parse(out.trim()) as LoadResult);
    });
  });
}

async function drainTime(
  dbFile: string,
  deadlineMs: number,
): Promise<{ seconds: number; rows: number; backlog: number; rows_per_second: number } | null> {
  const started = performance.now();
  const db = new SQLite(dbFile, { readonly: true });
  const countPending = () =>
    (db.prepare("select count(*) n from inbox where state = 'pending'").get() as { n: number }).n;
  try {
    const rows = (db.prepare('select count(*) n from inbox').get() as { n: number }).n;
    const backlog = countPending();
    for (;;) {
      const pending = countPending();
      if (pending === 0) {
        const seconds = (performance.now() - started) / 1000;
        return {
          seconds: Math.round(seconds * 100) / 100,
          rows,
          backlog,
          rows_per_second: Math.round(backlog / Math.max(seconds, 0.05)),
        };
      }
      if (performance.now() - started > deadlineMs) return null;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    db.close();
  }
}

/** Median time of a small synchronous commit (WAL, synchronous=FULL) on the same disk, in µs. */
function fsyncProbe(dir: string): number {
  const db = new SQLite(path.join(dir, `probe-${Date.now()}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('create table t (id integer primary key, b text)');
  const insert = db.prepare('insert into t (b) values (?)');
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    insert.run('x'.repeat(600));
    times.push(performance.now() - t);
  }
  db.close();
  times.sort((a, b) => a - b);
  return Math.round((times[100] as number) * 1000);
}

export async function runIngressBench(options: { duration: number; warmup: number }) {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const dir = mkdtempSync(path.join(tmpdir(), 'nwa-bench-ingress-'));
  const load = { connections: 50, duration: options.duration, warmup: options.warmup };
  const results: Record<string, Record<string, unknown>> = { baseline: {}, daemon: {} };
  const context: Record<string, unknown> = { loadavg_before: loadavg(), fsync_us_before: fsyncProbe(dir) };
  const servers: Server[] = [];
  try {
    // Both servers run side by side (an idle one costs nothing) and the load runs alternate between
    // them, so that a noisy neighbour on the machine weighs on both rather than on one.
    const baseline = await startProcess(
      ['--import', 'tsx', path.join(ROOT, 'bench/ingress/baseline-server.ts')],
      { PORT: '0', DATABASE_PATH: path.join(dir, 'baseline.db'), APP_SECRET: SECRET },
      (out) => {
        const m = /ready (\d+)/.exec(out);
        return m ? `http://127.0.0.1:${m[1]}` : undefined;
      },
    );
    servers.push(baseline);
    // The real daemon as an operator runs it: info logs (to a discarded pipe), metrics, processing.
    const dbFile = path.join(dir, 'daemon.db');
    const daemon = await startProcess(
      [path.join(ROOT, 'dist/main.js'), 'serve'],
      {
        PORT: '0',
        DATABASE_PATH: dbFile,
        WHATSAPP_APP_SECRET: SECRET,
        WHATSAPP_VERIFY_TOKEN: 'bench_verify_token',
        API_ROOT_TOKEN: 'nwa_bench_root_token_0123456789abcdef',
        LOG_FORMAT: 'json',
      },
      (out) => {
        const m = /"port":(\d+)/.exec(out);
        return m ? `http://127.0.0.1:${m[1]}` : undefined;
      },
    );
    servers.push(daemon);

    process.stderr.write('baseline: closed loop, 50 connections...\n');
    results.baseline = { closed_50: await runLoad(baseline.url, 'closed', { ...load, rate: 0, tag: 'B1' }) };
    process.stderr.write('daemon: closed loop, 50 connections...\n');
    const daemonClosed = await runLoad(daemon.url, 'closed', { ...load, rate: 0, tag: 'D1' });
    const drainClosed = await drainTime(dbFile, 120_000);
    process.stderr.write('daemon: open loop, 1000/s...\n');
    const daemonOpen = await runLoad(daemon.url, 'open', { ...load, rate: 1000, tag: 'D2' });
    const drainOpen = await drainTime(dbFile, 120_000);
    process.stderr.write('baseline: open loop, 1000/s...\n');
    (results.baseline as Record<string, unknown>).open_1000 = await runLoad(baseline.url, 'open', {
      ...load,
      rate: 1000,
      tag: 'B2',
    });
    results.daemon = {
      closed_50: daemonClosed,
      open_1000: daemonOpen,
      backlog_drain_after_closed_s: drainClosed?.seconds ?? null,
      // Deliveries waiting when the closed run ended, and how fast the idle daemon applied them.
      backlog_after_closed: drainClosed?.backlog ?? null,
      backlog_applied_per_second: drainClosed?.rows_per_second ?? null,
      backlog_drain_after_open_s: drainOpen?.seconds ?? null,
      inbox_rows: drainOpen?.rows ?? null,
    };
  } finally {
    for (const s of servers) await s.stop();
    context.loadavg_after = loadavg();
    context.fsync_us_after = fsyncProbe(dir);
    rmSync(dir, { recursive: true, force: true });
  }

  const base = results.baseline as { closed_50: LoadResult; open_1000: LoadResult };
  const dmn = results.daemon as { closed_50: LoadResult; open_1000: LoadResult };
  const report = {
    benchmark: 'ingress',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      node: process.version,
      platform: process.platform,
    },
    settings: { connections: 50, duration_s: options.duration, warmup_s: options.warmup, open_rate: 1000 },
    // The machine while measuring: load average and the median time of one fsynced commit.
    context,
    results,
    ratios: {
      throughput_daemon_over_baseline: round(
        dmn.closed_50.deliveries_per_second / base.closed_50.deliveries_per_second,
      ),
      p99_daemon_ms_at_1000: dmn.open_1000.latency_ms.p99,
      p99_baseline_ms_at_1000: base.open_1000.latency_ms.p99,
    },
    targets: {
      throughput_ratio_at_least: 0.8,
      p99_ms_at_1000_below: 20,
      met:
        dmn.closed_50.deliveries_per_second >= 0.8 * base.closed_50.deliveries_per_second &&
        dmn.open_1000.latency_ms.p99 < 20,
    },
  };
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  const file = path.join(ROOT, 'bench/results', `ingress-${report.date.slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return { report, file };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { duration: { type: 'string', default: '10' }, warmup: { type: 'string', default: '2' } },
  });
  const { report, file } = await runIngressBench({
    duration: Number(values.duration),
    warmup: Number(values.warmup),
  });
  const r = report.results as Record<string, Record<string, LoadResult>>;
  const line = (name: string, x: LoadResult) =>
    `${name.padEnd(28)} ${String(x.deliveries_per_second).padStart(9)}/s  p50 ${x.latency_ms.p50} ms  p99 ${x.latency_ms.p99} ms  max ${x.latency_ms.max} ms  (${JSON.stringify(x.status_counts)})`;
  process.stdout.write(
    [
      line('baseline, 50 connections', r.baseline?.closed_50 as LoadResult),
      line('daemon, 50 connections', r.daemon?.closed_50 as LoadResult),
      line('baseline, 1000/s', r.baseline?.open_1000 as LoadResult),
      line('daemon, 1000/s', r.daemon?.open_1000 as LoadResult),
      `daemon backlog of ${report.results.daemon?.backlog_after_closed} applied in ${report.results.daemon?.backlog_drain_after_closed_s} s after the closed run (${report.results.daemon?.backlog_applied_per_second}/s)`,
      `throughput ratio daemon/baseline: ${report.ratios.throughput_daemon_over_baseline} (target ≥ 0.8); p99 at 1000/s: ${report.ratios.p99_daemon_ms_at_1000} ms (target < 20)`,
      `machine: ${JSON.stringify(report.context)}`,
      `written to ${path.relative(ROOT, file)}`,
      '',
    ].join('\n'),
  );
}
