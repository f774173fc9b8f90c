// `node --import tsx bench/profile.ts [--out DIR] [--deliveries N]`: a CPU profile of the daemon while
// it takes and processes plain text deliveries (5,000 customers, so most messages land on an existing
// conversation), for finding where processing time goes (issue 20). Starts the built daemon under
// `node --cpu-prof`, sends N signed deliveries at 20 connections, waits until the inbox is applied,
// stops it (the profile is written on exit) and prints self time by function and by file.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { runLoad } from './lib/load-generator.js';
import { freePort } from './lib/server-process.js';
import { BENCH_APP_SECRET, signedDeliveries } from './lib/webhook-bodies.js';

const ROOT = path.resolve(import.meta.dirname, '..');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** Self time by function and by file, the largest first, as text. */
export function summarise(file: string, top = 30): string {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    const cf = (byId.get(id) as ProfileNode).callFrame;
    const url = cf.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
    const fn = `${cf.functionName || '(anonymous)'} ${url}:${cf.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + dt);
    byFile.set(url || cf.functionName, (byFile.get(url || cf.functionName) ?? 0) + dt);
    total += dt;
  });
  const list = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, t]) => `${((100 * t) / total).toFixed(1).padStart(5)} %  ${k}`)
      .join('\n');
  return `sampled ${(total / 1e6).toFixed(2)} s\n\nself time by function\n${list(byFunction)}\n\nself time by file\n${list(byFile)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, deliveries: { type: 'string', default: '20000' } },
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'nwa-profile-'));
  const out = values.out ?? dir;
  const db = path.join(dir, 'daemon.db');
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${out}`, path.join(ROOT, 'dist/main.js'), 'serve'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        DATABASE_PATH: db,
        WHATSAPP_APP_SECRET: BENCH_APP_SECRET,
        API_ROOT_TOKEN: 'profile_root_token_0123456789',
        LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const requests = signedDeliveries(Number(values.deliveries));
  const started = performance.now();
  const load = await runLoad({
    url,
    requests,
    durationSec: 600,
    connections: 20,
    tool: 'node',
    maxRequests: requests.length,
  });
  const reader = new Database(db, { readonly: true });
  const pending = () =>
    (reader.prepare("select count(*) n from inbox where state = 'pending'").get() as { n: number }).n;
  while (pending() > 0) await new Promise((r) => setTimeout(r, 100));
  const seconds = (performance.now() - started) / 1000;
  reader.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const profile = readdirSync(out)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .at(-1);
  process.stdout.write(
    `${load.statuses['200'] ?? 0} deliveries taken and applied in ${seconds.toFixed(1)} s\n`,
  );
  if (profile) process.stdout.write(`${path.join(out, profile)}\n${summarise(path.join(out, profile))}`);
}
