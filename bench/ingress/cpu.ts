// CPU time per webhook request of the daemon against the group-commit floor, in alternating rounds
// (issue 20). On a shared, loaded machine wall-clock rates are noise, but the CPU a server process
// spends per answered request (user + system, from /proc) moves little with the load around it, so it
// is what a change to the request path is judged by here. Each round drives one server with the closed
// loop of bench/ingress/load.ts (50 connections); the servers take turns so a noisy neighbour weighs
// on both. With --profile the daemon runs under `node --cpu-prof` and the self time of its profile is
// printed (the profile covers the whole run, processing included).
// Run: npm run build && node --import tsx bench/ingress/cpu.ts [--rounds 3] [--duration 4] [--profile]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildBaselines } from '../lib/contestants.js';
import { summarise } from '../profile.js';
import { type LoadResult, runLoadMeasured, type Server, startProcess } from './run.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SECRET = 'bench_app_secret_0123456789abcdef';

/** User and system CPU time of a process so far, µs (Linux /proc; USER_HZ 100). */
function userSys(pid: number | undefined): { user: number; sys: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) * 1e4, sys: Number(fields[12]) * 1e4 };
  } catch {
    return { user: Number.NaN, sys: Number.NaN };
  }
}

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '50' },
    profile: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    // Another checkout's built daemon (e.g. the commit before a change), run as a third contestant.
    compare: { type: 'string' },
  },
});

if (!values['no-build']) execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
buildBaselines();
const dir = mkdtempSync(path.join(tmpdir(), 'nwa-bench-ingress-cpu-'));
const readyLine = (out: string) => {
  const m = /ready (\d+)/.exec(out);
  return m ? `http://127.0.0.1:${m[1]}` : undefined;
};
const servers: Server[] = [];
const contestants: [string, Server][] = [];
const rows: { round: number; server: string; result: LoadResult }[] = [];
const loadBefore = loadavg();
try {
  const group = await startProcess(
    [path.join(ROOT, 'bench/.build/bench/baselines/group-commit-server.js')],
    { PORT: '0', DATABASE_PATH: path.join(dir, 'group.db'), APP_SECRET: SECRET },
    readyLine,
  );
  servers.push(group);
  const startDaemon = async (root: string, name: string) => {
    const server = await startProcess(
      [
        ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, name)}`] : []),
        path.join(root, 'dist/main.js'),
        'serve',
      ],
      {
        PORT: '0',
        DATABASE_PATH: path.join(dir, `${name}.db`),
        WHATSAPP_APP_SECRET: SECRET,
        WHATSAPP_VERIFY_TOKEN: 'bench_verify_token',
        API_ROOT_TOKEN: 'nwa_bench_root_token_0123456789abcdef',
        LOG_FORMAT: 'json',
        // Passed through for experiments on a patched build (e.g. a switch that holds processing back).
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('NWA_'))),
      } as Record<string, string>,
      (out) => {
        const m = /"port":(\d+)/.exec(out);
        return m ? `http://127.0.0.1:${m[1]}` : undefined;
      },
    );
    servers.push(server);
    return server;
  };
  contestants.push(['group floor', group]);
  contestants.push(['daemon', await startDaemon(ROOT, 'daemon')]);
  if (values.compare)
    contestants.push(['compared', await startDaemon(path.resolve(values.compare), 'compared')]);
  const load = {
    connections: Number(values.connections),
    rate: 0,
    duration: Number(values.duration),
    warmup: Number(values.warmup),
  };
  for (let round = 1; round <= Number(values.rounds); round++) {
    // Rotate which goes first, so none always follows another's leftover work.
    const order = contestants.map(
      (_, i) => contestants[(i + round - 1) % contestants.length] as [string, Server],
    );
    for (const [name, server] of order) {
      const before = userSys(server.child.pid);
      const result = await runLoadMeasured(server, 'closed', { ...load, tag: `C${round}${name[0]}` });
      const after = userSys(server.child.pid);
      const sent = result.requests + (result.warmup_requests ?? 0);
      rows.push({ round, server: name, result });
      process.stderr.write(
        `round ${round} ${name.padEnd(12)} ${String(result.deliveries_per_second).padStart(8)}/s  cpu ${result.cpu_us_per_request} µs/req (user ${Math.round((after.user - before.user) / sent)}, sys ${Math.round((after.sys - before.sys) / sent)})  p99 ${result.latency_ms.p99} ms  ${JSON.stringify(result.status_counts)}\n`,
      );
    }
  }
} finally {
  for (const s of servers) await s.stop();
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
const cpuOf = (name: string) =>
  median(rows.filter((r) => r.server === name).map((r) => r.result.cpu_us_per_request ?? Number.NaN));
const rateOf = (name: string) =>
  median(rows.filter((r) => r.server === name).map((r) => r.result.deliveries_per_second));
const lines = contestants.map(
  ([name]) =>
    `${name.padEnd(12)} median CPU ${cpuOf(name)} µs/req (${(cpuOf(name) / cpuOf('group floor')).toFixed(2)}× the group floor), median rate ${rateOf(name)}/s (${(rateOf(name) / rateOf('group floor')).toFixed(2)}×)`,
);
process.stdout.write(
  [
    ...lines,
    `load average before ${loadBefore.map((x) => x.toFixed(1)).join(' ')}, after ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
    '',
  ].join('\n'),
);
if (values.profile) {
  for (const [name] of contestants.slice(1)) {
    const profile = readdirSync(path.join(dir, name))
      .filter((f) => f.endsWith('.cpuprofile'))
      .at(-1);
    if (profile) process.stdout.write(`\n== ${name}\n${summarise(path.join(dir, name, profile), 45)}`);
  }
  process.stdout.write(`profiles kept in ${dir}\n`);
} else {
  rmSync(dir, { recursive: true, force: true });
}
