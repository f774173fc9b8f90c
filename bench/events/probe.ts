// A CPU profile of the daemon while it delivers events (issue 14): the built daemon under
// --cpu-prof with three subscriptions to `message.received` on real receivers (receivers.ts), a
// closed-loop burst of signed webhooks, then the wait until every event is delivered. Prints the
// burst's rate, the time to deliver, the daemon's CPU time over the whole run and the profile's
// heaviest functions and folders (self time), so a change to delivery can be compared before and
// after. SUBS=0 runs it without subscriptions; BURST_ONLY=1 stops the daemon when the burst ends (the
// profile and the CPU time are then the burst's alone: compare SUBS=3 with SUBS=0, alternating).
// Run: npm run build && [SUBS=n] [BURST_ONLY=1] node --import tsx bench/events/probe.ts [messages] [outDir]
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { runLoad } from '../lib/load-generator.js';
import { freePort, startServer } from '../lib/server-process.js';
import { BENCH_APP_SECRET, signedDeliveries } from '../lib/webhook-bodies.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TOKEN = 'nwa_bench_root_token_0123456789abcdef';
const messages = Number(process.argv[2] ?? 5000);
const out = process.argv[3] ?? path.join(os.tmpdir(), `events-probe-${process.pid}`);
mkdirSync(out, { recursive: true });

const receivers = spawn(
  process.execPath,
  ['--import', 'tsx', path.join(import.meta.dirname, 'receivers.ts'), process.env.SUBS ?? '3'],
  {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const urls = await new Promise<string[]>((resolve) => {
  let buf = '';
  receivers.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    const line = buf.split('\n').find((l) => l.startsWith('{'));
    if (line && buf.includes('\n')) resolve((JSON.parse(line) as { urls: string[] }).urls);
  });
});
const port = await freePort();
const dbFile = path.join(out, 'probe.db');
const daemon = await startServer({
  name: 'daemon',
  command: process.execPath,
  args: ['--cpu-prof', `--cpu-prof-dir=${out}`, path.join(ROOT, 'dist/main.js'), 'serve'],
  env: {
    PORT: String(port),
    DATABASE_PATH: dbFile,
    WHATSAPP_APP_SECRET: BENCH_APP_SECRET,
    API_ROOT_TOKEN: TOKEN,
    LOG_LEVEL: 'warn',
  },
  readyPath: '/readyz',
  readyStatus: 200,
  port,
  logFile: path.join(out, 'daemon.log'),
});
for (const url of urls) {
  const res = await fetch(`${daemon.url}/api/extensions/native-whatsapp/management/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${url}/hooks`, types: ['message.received'] }),
  });
  const { secret } = (await res.json()) as { secret: string };
  await fetch(`${url}/secret`, { method: 'POST', body: secret });
}
const cpu0 = readCpu(daemon.pid);
const t0 = Date.now();
const load = await runLoad({
  url: daemon.url,
  requests: signedDeliveries(messages),
  durationSec: 60,
  connections: 50,
  tool: 'node',
  maxRequests: messages,
});
const burst = (Date.now() - t0) / 1000;
if (process.env.BURST_ONLY) {
  console.log(
    `burst ${(messages / burst).toFixed(0)}/s ${burst.toFixed(1)} s, cpu ${((readCpu(daemon.pid) - cpu0) / 100).toFixed(1)} s`,
  );
  await daemon.stop();
  receivers.kill('SIGTERM');
}
if (!process.env.BURST_ONLY) {
  const db = new SQLite(dbFile, { readonly: true });
  for (; !process.env.BURST_ONLY; ) {
    const n = db
      .prepare(
        "select (select count(*) from inbox where state != 'processed') + (select count(*) from event_deliveries where state = 'pending') + (select count(*) from event_subscriptions where cursor_seq < (select max(seq) from domain_events where internal = 0 and type = 'message.received')) as n",
      )
      .get() as { n: number };
    if (n.n === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const total = (Date.now() - t0) / 1000;
  const delivered = (
    db.prepare("select count(*) as n from event_deliveries where state = 'delivered'").get() as { n: number }
  ).n;
  const cpu = (readCpu(daemon.pid) - cpu0) / 100;
  await daemon.stop();
  receivers.kill('SIGTERM');
  console.log(
    `burst ${load.rps.toFixed(0)} deliveries/s over ${burst.toFixed(1)} s; all ${delivered} events delivered after ${total.toFixed(1)} s; daemon CPU ${cpu.toFixed(1)} s = ${((cpu * 1e6) / Math.max(1, delivered)).toFixed(0)} µs per event delivery (ingress and processing included)`,
  );
}
const file = readdirSync(out)
  .filter((f) => f.endsWith('.cpuprofile'))
  .sort()
  .pop();
if (file) {
  const prof = JSON.parse(readFileSync(path.join(out, file), 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const self = new Map<number, number>();
  prof.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  });
  const byFn = new Map<string, number>();
  for (const n of prof.nodes) {
    const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/.*\/(node_modules|dist)\//, '$1/')}:${n.callFrame.lineNumber}`;
    byFn.set(key, (byFn.get(key) ?? 0) + (self.get(n.id) ?? 0));
  }
  const all = [...byFn.values()].reduce((a, b) => a + b, 0);
  const byGroup = new Map<string, number>();
  for (const n of prof.nodes) {
    const u = n.callFrame.url;
    const g = u.includes('/dist/src/')
      ? `src/${u.split('/dist/src/')[1]?.split('/')[0]}`
      : u.includes('node_modules/')
        ? `nm/${u.split('node_modules/').pop()?.split('/')[0]}`
        : u.startsWith('node:')
          ? u.split('/').slice(0, 2).join('/')
          : n.callFrame.functionName || '(native)';
    byGroup.set(g, (byGroup.get(g) ?? 0) + (self.get(n.id) ?? 0));
  }
  console.log(
    [...byGroup]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 25)
      .map(([k, v]) => `${k} ${((100 * v) / all).toFixed(1)}%`)
      .join(' | '),
  );
  for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${((100 * v) / all).toFixed(1).padStart(5)}%  ${k}`);
  }
}

function readCpu(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(f[11]) + Number(f[12]);
}
