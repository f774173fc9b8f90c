// `node --import tsx bench/hostile/probe.ts [--deliveries N] [--deep] [--trickle N] [--fresh] [--dist DIR]
// [--no-prof] [--quiet-ms N] [--poll-ms N]`: why /healthz is slow while the built daemon is attacked
// (issue 12). Starts `dist/main.js serve` (or DIR/main.js, for A/B in one window) under `node --cpu-prof`
// with bench/hostile/loop-watch.mjs preloaded, polls /healthz, sends 1,000-message deliveries 2 s apart
// (optionally every third with a 10,000-level item, and trickling connections), waits until the inbox
// is applied, and prints the slow polls, the loop's stalls (wall time against CPU time: a stall without
// CPU is the box, not the daemon) and, from the profile, what ran in the longest ones.
// A diagnostic, not a benchmark: no numbers are written to bench/results.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { toMetaJson } from '../../src/webhook/meta-json.js';
import { signBody } from '../../src/webhook/signature.js';
import { freePort } from '../lib/server-process.js';
import { BENCH_APP_SECRET, WEBHOOK_PATH } from '../lib/webhook-bodies.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

function frameName(n: ProfileNode): string {
  const cf = n.callFrame;
  const url = cf.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
  return `${cf.functionName || '(anonymous)'} ${url}:${cf.lineNumber + 1}`;
}

/** Busy stretches (no idle sample for longer than `minMs`) and what ran in them. */
export function busyStretches(file: string, minMs = 30, top = 8): string {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
    startTime: number;
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stack = (id: number): string[] => {
    const out: string[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      out.push(frameName(byId.get(cur) as ProfileNode));
    }
    return out;
  };
  const lines: string[] = [];
  let t = 0;
  let runStart = -1;
  let runSamples: { id: number; dt: number }[] = [];
  const flush = () => {
    const ms = runSamples.reduce((s, x) => s + x.dt, 0) / 1000;
    if (ms >= minMs) {
      const self = new Map<string, number>();
      const incl = new Map<string, number>();
      for (const s of runSamples) {
        const st = stack(s.id);
        self.set(st[0] as string, (self.get(st[0] as string) ?? 0) + s.dt);
        for (const f of new Set(st)) if (f.includes('dist/')) incl.set(f, (incl.get(f) ?? 0) + s.dt);
      }
      const fmt = (m: Map<string, number>) =>
        [...m]
          .sort((a, b) => b[1] - a[1])
          .slice(0, top)
          .map(([k, v]) => `      ${(v / 1000).toFixed(1).padStart(7)} ms  ${k}`)
          .join('\n');
      lines.push(`busy ${ms.toFixed(1)} ms at +${(runStart / 1000).toFixed(0)} ms`);
      lines.push(`    self:\n${fmt(self)}`);
      lines.push(`    inclusive (dist):\n${fmt(incl)}`);
    }
    runSamples = [];
    runStart = -1;
  };
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    t += dt;
    const name = (byId.get(id) as ProfileNode).callFrame.functionName;
    if (name === '(idle)') {
      flush();
      return;
    }
    if (runStart < 0) runStart = t;
    runSamples.push({ id, dt });
  });
  flush();
  return lines.join('\n');
}

export interface Stall {
  from: number;
  to: number;
  wall: number;
  cpu: number;
}

/** For each stall the loop watcher saw, the daemon's frames the profile sampled in it. */
export function attributeStalls(file: string, stalls: Stall[], top = 10): string {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
    startTime: number;
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const times: number[] = [];
  let t = prof.startTime;
  for (const dt of prof.timeDeltas) {
    t += dt;
    times.push(t);
  }
  const lines: string[] = [];
  for (const st of stalls) {
    const self = new Map<string, number>();
    const incl = new Map<string, number>();
    let n = 0;
    prof.samples.forEach((id, i) => {
      const at = times[i] as number;
      if (at < st.from || at > st.to) return;
      const dt = prof.timeDeltas[i + 1] ?? 0;
      n++;
      const frames: string[] = [];
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        frames.push(frameName(byId.get(cur) as ProfileNode));
      }
      self.set(frames[0] as string, (self.get(frames[0] as string) ?? 0) + dt);
      for (const f of new Set(frames)) if (/dist\/|node:/.test(f)) incl.set(f, (incl.get(f) ?? 0) + dt);
    });
    const fmt = (m: Map<string, number>) =>
      [...m]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([k, v]) => `      ${(v / 1000).toFixed(1).padStart(7)} ms  ${k}`)
        .join('\n');
    lines.push(
      `stall ${st.wall.toFixed(0)} ms wall, ${st.cpu.toFixed(0)} ms CPU, at +${((st.from - prof.startTime) / 1000).toFixed(0)} ms (${n} samples)`,
    );
    lines.push(`    self:\n${fmt(self)}\n    inclusive:\n${fmt(incl)}`);
  }
  return lines.join('\n');
}

function bigDelivery(seq: number, count: number, deepItem: boolean): { body: string; signature: string } {
  const ts = String(Math.floor(Date.now() / 1000) - 60);
  const messages = Array.from({ length: count }, (_, i) => ({
    from: String(4917100000000 + i),
    id: `wamid.probe.${seq}.${i}`,
    timestamp: ts,
    type: 'text',
    text: { body: i === 0 && deepItem ? 'DEEP' : `message ${i} of delivery ${seq}` },
  }));
  const value = {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
    contacts: messages.map((m) => ({ profile: { name: 'Kunde' }, wa_id: m.from })),
    messages,
  };
  let body = toMetaJson({
    object: 'whatsapp_business_account',
    entry: [{ id: '102290129340398', changes: [{ field: 'messages', value }] }],
  });
  if (deepItem) body = body.replace('"DEEP"', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`);
  return { body, signature: signBody(body, BENCH_APP_SECRET) };
}

const pollAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** GET /healthz on one keep-alive connection; says whether it had to connect anew and how long that took. */
function healthz(url: string, fresh: boolean): Promise<string> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/healthz`, { agent: fresh ? false : pollAgent }, (res) => {
      const head = performance.now() - started;
      res.resume();
      const headAt = Date.now();
      res.on('end', () => resolve(`${how}, headers after ${head.toFixed(0)} ms at ${headAt}`));
    });
    let how = 'reused';
    req.on('socket', (s) => {
      if (s.connecting) {
        how = 'new connection';
        s.once('connect', () => {
          how = `new connection in ${(performance.now() - started).toFixed(0)} ms at ${Date.now()}`;
        });
      }
    });
    req.on('error', reject);
  });
}

function trickle(url: string, connections: number): () => void {
  const { hostname, port } = new URL(url);
  const sockets = new Set<net.Socket>();
  let stopped = false;
  const open = () => {
    if (stopped) return;
    const s = net.connect(Number(port), hostname, () => {
      s.write(
        `POST ${WEBHOOK_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
          'X-Hub-Signature-256: sha256=00\r\nContent-Length: 100000\r\n\r\n{',
      );
    });
    const timer = setInterval(() => s.write('"'), 200);
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => {
      clearInterval(timer);
      sockets.delete(s);
      open();
    });
  };
  for (let i = 0; i < connections; i++) open();
  return () => {
    stopped = true;
    for (const s of sockets) s.destroy();
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      deliveries: { type: 'string', default: '1' },
      messages: { type: 'string', default: '1000' },
      deep: { type: 'boolean', default: false },
      trickle: { type: 'string', default: '0' },
      'no-prof': { type: 'boolean', default: false },
      'poll-ms': { type: 'string', default: '20' },
      'trickle-first': { type: 'boolean', default: false },
      stalls: { type: 'string', default: '6' },
      'quiet-ms': { type: 'string', default: '0' },
      fetch: { type: 'boolean', default: false },
      /** Every /healthz on a new connection (as probes of an orchestrator come), not one kept alive. */
      fresh: { type: 'boolean', default: false },
      /** Print the daemon's accept queue and per-/healthz timings as the run goes. */
      verbose: { type: 'boolean', default: false },
      'hold-ms': { type: 'string', default: '0' },
      /** Another build to probe (A/B in the same window): the folder holding main.js. */
      dist: { type: 'string' },
    },
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'nwa-probe-'));
  const db = path.join(dir, 'daemon.db');
  const port = await freePort();
  const prof = values['no-prof'] ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  const watch = ['--import', path.join(import.meta.dirname, 'loop-watch.mjs')];
  const child = spawn(
    process.execPath,
    [...watch, ...prof, path.join(values.dist ?? path.join(ROOT, 'dist'), 'main.js'), 'serve'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_PATH: db,
        WHATSAPP_APP_SECRET: BENCH_APP_SECRET,
        WHATSAPP_VERIFY_TOKEN: 'probe_verify_token',
        API_ROOT_TOKEN: 'probe_root_token_0123456789',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const stalls: Stall[] = [];
  let errText = '';
  child.stderr?.on('data', (d: Buffer) => {
    errText += d.toString();
    const lines = errText.split('\n');
    errText = lines.pop() ?? '';
    for (const l of lines) {
      if (l.startsWith('LOOPWATCH ')) stalls.push(JSON.parse(l.slice(10)) as Stall);
      else if (l.startsWith('LOOPHTTP ') || l.startsWith('LOOPACCEPT ')) {
        if (values.verbose) process.stdout.write(`  daemon: ${l}\n`);
      } else process.stderr.write(`${l}\n`);
    }
  });
  let readyAt = 0;
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  readyAt = stalls.length;
  const t0 = performance.now();
  const polls: { at: number; ms: number; how: string }[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const started = performance.now();
      const how = values.fetch
        ? await fetch(`${url}/healthz`).then(async (r) => {
            await r.arrayBuffer();
            return 'fetch';
          })
        : await healthz(url, values.fresh);
      polls.push({ at: started - t0, ms: performance.now() - started, how });
      await new Promise((r) => setTimeout(r, Number(values['poll-ms'])));
    }
  })();
  await new Promise((r) => setTimeout(r, Number(values['quiet-ms'])));
  const hostileFrom = polls.length;
  const stopTrickle = Number(values.trickle) > 0 ? trickle(url, Number(values.trickle)) : () => undefined;
  if (values['trickle-first']) await new Promise((r) => setTimeout(r, 500));
  const n = Number(values.deliveries);
  for (let seq = 0; seq < n; seq++) {
    const d = bigDelivery(seq, Number(values.messages), values.deep && seq % 3 === 2);
    const sentAt = performance.now() - t0;
    const res = await fetch(`${url}${WEBHOOK_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': d.signature },
      body: d.body,
    });
    await res.arrayBuffer();
    process.stdout.write(
      `delivery ${seq} (${d.body.length} bytes) sent at +${sentAt.toFixed(0)} ms: ${res.status} after ${(performance.now() - t0 - sentAt).toFixed(0)} ms\n`,
    );
    if (seq < n - 1) await new Promise((r) => setTimeout(r, 2_000));
  }
  await new Promise((r) => setTimeout(r, Number(values['hold-ms'])));
  const reader = new Database(db, { readonly: true });
  const pending = () =>
    (reader.prepare("select count(*) n from inbox where state = 'pending'").get() as { n: number }).n;
  while (pending() > 0) await new Promise((r) => setTimeout(r, 100));
  process.stdout.write(`applied at +${(performance.now() - t0).toFixed(0)} ms\n`);
  await new Promise((r) => setTimeout(r, 500));
  reader.close();
  stopTrickle();
  polling = false;
  await poller;
  if (hostileFrom > 0) {
    const q = polls
      .slice(0, hostileFrom)
      .map((p) => p.ms)
      .sort((a, b) => a - b);
    process.stdout.write(
      `quiet /healthz: ${q.length} polls, p99 ${q[Math.floor(0.99 * q.length)]?.toFixed(1)} ms\n`,
    );
  }
  const sorted = polls
    .slice(hostileFrom)
    .map((p) => p.ms)
    .sort((a, b) => a - b);
  const q = (x: number) => sorted[Math.min(sorted.length - 1, Math.floor(x * sorted.length))]?.toFixed(1);
  process.stdout.write(
    `/healthz: ${sorted.length} polls, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms\n`,
  );
  for (const p of polls.filter((x) => x.ms > 50)) {
    process.stdout.write(`  slow poll at +${p.at.toFixed(0)} ms: ${p.ms.toFixed(0)} ms (${p.how})\n`);
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const profile = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .at(-1);
  const late = stalls.slice(readyAt);
  process.stdout.write(
    `loop stalls > 30 ms after ready: ${late.length}, total ${late.reduce((s, x) => s + x.wall, 0).toFixed(0)} ms wall, ` +
      `${late.reduce((s, x) => s + x.cpu, 0).toFixed(0)} ms CPU; longest ${Math.max(0, ...late.map((x) => x.wall)).toFixed(0)} ms\n`,
  );
  if (profile) {
    const top = [...late].sort((a, b) => b.wall - a.wall).slice(0, Number(values.stalls));
    process.stdout.write(`${path.join(dir, profile)}\n${attributeStalls(path.join(dir, profile), top)}\n`);
  }
}
