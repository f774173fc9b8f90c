// Event delivery benchmark (issue 14, SPEC §11): the real daemon (node dist/main.js serve) takes signed
// webhooks at a fixed 1,000 messages/s while three subscriptions to `message.received` deliver to real
// receivers in their own process (signatures verified with `standardwebhooks`). Measures the time from
// a message's `200` (taken by the load client) to its `message.received` arriving at each receiver
// (p50/p99), how long the deliveries take to catch up after the load, and the cost to ingress against
// a second daemon with no subscription (its own database) in the same run: webhook p99 under the same
// 1,000/s, and deliveries/s under a closed loop of 50 connections, in rounds alternating between the
// two daemons (each round waits until both are idle) so that the box's background load falls on both.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { type BenchRow, compared, defineBenchmark } from '../lib/benchmark.js';
import { type LoadRequest, runLoad } from '../lib/load-generator.js';
import { round } from '../lib/round.js';
import { freePort, startServer } from '../lib/server-process.js';
import { BENCH_APP_SECRET, signedDeliveries } from '../lib/webhook-bodies.js';
import type { ReceiverStats } from './receivers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ROOT_TOKEN = 'nwa_bench_root_token_0123456789abcdef';
const HOOKS = '/api/extensions/native-whatsapp/management/webhooks';
const RATE = 1000;
const SUBSCRIPTIONS = 3;

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function startReceivers(): Promise<{ child: ChildProcess; urls: string[] }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'receivers.ts'), String(SUBSCRIPTIONS)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const urls = await new Promise<string[]>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) resolve((JSON.parse(line) as { urls: string[] }).urls);
    });
    child.once('exit', (code) => reject(new Error(`receivers exited (${code})`)));
  });
  return { child, urls };
}

async function stats(url: string): Promise<ReceiverStats> {
  return (await (await fetch(`${url}/stats`)).json()) as ReceiverStats;
}

interface Mode {
  name: string;
  url: string;
  dbFile: string;
  receivers: string[];
  stop(): Promise<void>;
}

function count(dbFile: string, query: string): number {
  const db = new SQLite(dbFile, { readonly: true, fileMustExist: true });
  try {
    return Number((db.prepare(query).get() as { n: number | null }).n ?? 0);
  } finally {
    db.close();
  }
}

/**
 * Until the daemon is idle again: the inbox processed and, with subscriptions, every event fanned out
 * and delivered. Returns the seconds it took.
 */
async function settled(mode: Mode, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const inbox = count(mode.dbFile, "select count(*) as n from inbox where state != 'processed'");
    const undelivered =
      mode.receivers.length === 0
        ? 0
        : count(mode.dbFile, "select count(*) as n from event_deliveries where state = 'pending'") +
          count(
            mode.dbFile,
            "select count(*) as n from event_subscriptions where cursor_seq < (select max(seq) from domain_events where internal = 0 and type = 'message.received')",
          );
    if (inbox === 0 && undelivered === 0) return (Date.now() - t0) / 1000;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${mode.name}: not idle within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function startMode(tmp: string, withSubscriptions: boolean): Promise<Mode> {
  const name = withSubscriptions ? 'with' : 'without';
  const dbFile = path.join(tmp, `${name}.db`);
  const port = await freePort();
  const daemon = await startServer({
    name: `daemon (${name} subscriptions)`,
    command: process.execPath,
    args: [path.join(ROOT, 'dist/main.js'), 'serve'],
    env: {
      PORT: String(port),
      DATABASE_PATH: dbFile,
      WHATSAPP_APP_SECRET: BENCH_APP_SECRET,
      API_ROOT_TOKEN: ROOT_TOKEN,
      LOG_LEVEL: 'warn',
    },
    readyPath: '/readyz',
    readyStatus: 200,
    port,
    logFile: path.join(tmp, `${name}.log`),
  });
  const receivers = withSubscriptions ? await startReceivers() : undefined;
  for (const url of receivers?.urls ?? []) {
    const res = await fetch(`${daemon.url}${HOOKS}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ROOT_TOKEN}`, 'content-type': 'application/json' },
      // The event measured. A '*' subscription gets about five events per first message
      // (opened, received, state_changed, escalated, routed): five times the requests.
      body: JSON.stringify({ url: `${url}/hooks`, types: ['message.received'], description: 'bench' }),
    });
    if (res.status !== 201) throw new Error(`subscribe: ${res.status} ${await res.text()}`);
    const { secret } = (await res.json()) as { secret: string };
    await fetch(`${url}/secret`, { method: 'POST', body: secret });
  }
  return {
    name,
    url: daemon.url,
    dbFile,
    receivers: receivers?.urls ?? [],
    async stop() {
      receivers?.child.kill('SIGTERM');
      await daemon.stop();
    },
  };
}

/** Open loop at RATE: the webhook latencies and, with receivers, 200 → message.received per receiver. */
async function openPhase(mode: Mode, requests: LoadRequest[], seconds: number) {
  const open = await runLoad({
    url: mode.url,
    requests,
    durationSec: seconds,
    connections: 32,
    rate: RATE,
    workers: 2,
    recordAccepted: true,
    recordAcceptedAt: true,
  });
  const windowEnd = Date.now();
  const okAt = new Map<string, number>();
  (open.accepted ?? []).forEach((i, k) => {
    const key = requests[i]?.key;
    if (key) okAt.set(key, open.accepted_at?.[k] as number);
  });
  const latencies: number[] = [];
  let missing = 0;
  let finalStats: ReceiverStats[] = [];
  if (mode.receivers.length > 0) {
    const deadline = Date.now() + 600_000;
    for (;;) {
      finalStats = await Promise.all(mode.receivers.map(stats));
      const have = Math.min(...finalStats.map((s) => Object.keys(s.received_at).length));
      if (have >= okAt.size || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const s of finalStats) {
      for (const [wamid, t0] of okAt) {
        const t = s.received_at[wamid];
        if (t === undefined) missing += 1;
        else latencies.push(t - t0);
      }
    }
    latencies.sort((a, b) => a - b);
  }
  const catchUp = (Date.now() - windowEnd) / 1000;
  return { open, latencies, missing, catchUp, receivers: finalStats };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export default defineBenchmark({
  name: 'events',
  description:
    'event webhooks at 1,000 msgs/s with 3 subscriptions to message.received (real receivers in their own process): 200 → message.received p50/p99, and ingress with vs without subscriptions, alternating rounds in the same run',
  async run({ quick, tmpDir, log }) {
    // The box's load goes into the notes: on a shared machine every figure here moves with it.
    const loadBefore = os.loadavg()[0] as number;
    const seconds = quick ? 5 : 15;
    const burst = quick ? 4 : 8;
    const rounds = quick ? 1 : 3;
    // Distinct wamids for every request of every loop (a repeated one is a cheap duplicate); each
    // daemon has its own database, so both may take the same list.
    const openCount = Math.ceil(RATE * seconds * 1.1);
    const all = signedDeliveries(openCount + 40_000 * rounds);
    const openRequests = all.slice(0, openCount);
    const without = await startMode(tmpDir, false);
    const withSubs = await startMode(tmpDir, true);
    try {
      log(`open loop, ${RATE}/s for ${seconds} s: without subscriptions, then with...`);
      const openWithout = await openPhase(without, openRequests, seconds);
      const idleWithout = await settled(without, 600_000);
      const openWith = await openPhase(withSubs, openRequests, seconds);
      const idleWith = await settled(withSubs, 600_000);
      log(
        `open loop done (idle again after ${round(idleWithout)} s / ${round(openWith.catchUp + idleWith)} s); ${rounds} closed-loop rounds of ${burst} s each`,
      );
      // Closed loop, 50 connections, alternating so that the box's background load falls on both.
      const rps: { without: number[]; with: number[]; drain_with_s: number[] } = {
        without: [],
        with: [],
        drain_with_s: [],
      };
      for (let r = 0; r < rounds; r++) {
        const requests = all.slice(openCount + r * 40_000, openCount + (r + 1) * 40_000);
        for (const mode of [without, withSubs]) {
          const closed = await runLoad({
            url: mode.url,
            requests,
            durationSec: burst,
            connections: 50,
            tool: 'node',
          });
          const idle = await settled(mode, 900_000);
          if (mode === without) rps.without.push(closed.rps);
          else {
            rps.with.push(closed.rps);
            rps.drain_with_s.push(idle);
          }
          log(
            `round ${r + 1}, ${mode.name} subscriptions: ${round(closed.rps)} deliveries/s; idle after ${round(idle)} s`,
          );
        }
      }
      const receivers = await Promise.all(withSubs.receivers.map(stats));
      const lat = openWith.latencies;
      writeFileSync(
        path.join(tmpDir, 'events-report.json'),
        JSON.stringify({ openWithout: openWithout.open, openWith: openWith.open, rps }, null, 2),
      );
      const requests = receivers.reduce((n, s) => n + s.requests, 0);
      const duplicates = receivers.reduce((n, s) => n + s.duplicates, 0);
      const unverified = receivers.reduce((n, s) => n + s.unverified, 0);
      const latencyCase = `200 → message.received at ${RATE}/s, ${SUBSCRIPTIONS} subscriptions`;
      const rows: BenchRow[] = [
        { case: latencyCase, metric: 'p50', value: round(pct(lat, 50)), unit: 'ms', better: 'lower' },
        {
          case: latencyCase,
          metric: 'p99',
          value: round(pct(lat, 99)),
          unit: 'ms',
          better: 'lower',
          note: `${lat.length} samples (messages × receivers), ${openWith.missing} missing; load average ${loadBefore.toFixed(1)} → ${(os.loadavg()[0] as number).toFixed(1)} on ${os.cpus().length} cores`,
        },
        {
          case: `deliveries after the ${RATE}/s window`,
          metric: 'catch-up',
          value: round(openWith.catchUp),
          unit: 's',
          better: 'lower',
          note: `${requests} requests to ${SUBSCRIPTIONS} receivers in the run, ${duplicates} duplicates, ${unverified} failing the signature check`,
        },
      ];
      const openBase = {
        case: `webhook p99 at ${RATE}/s, no subscription`,
        value: openWithout.open.latency_ms.p99,
      };
      rows.push(
        { case: openBase.case, metric: 'p99', value: round(openBase.value), unit: 'ms', better: 'lower' },
        compared(
          {
            case: `webhook p99 at ${RATE}/s, ${SUBSCRIPTIONS} subscriptions`,
            metric: 'p99',
            value: round(openWith.open.latency_ms.p99),
            unit: 'ms',
            better: 'lower',
          },
          openBase,
        ),
      );
      const closedBase = {
        case: 'ingress, 50 connections, no subscription',
        value: median(rps.without),
      };
      rows.push(
        {
          case: closedBase.case,
          metric: 'throughput',
          value: round(closedBase.value),
          unit: 'deliveries/s',
          better: 'higher',
          note: `median of ${rounds} rounds: ${rps.without.map((x) => Math.round(x)).join(', ')}`,
        },
        compared(
          {
            case: `ingress, 50 connections, ${SUBSCRIPTIONS} subscriptions`,
            metric: 'throughput',
            value: round(median(rps.with)),
            unit: 'deliveries/s',
            better: 'higher',
            note: `median of ${rounds} rounds alternating with the line above: ${rps.with.map((x) => Math.round(x)).join(', ')}; deliveries caught up ${rps.drain_with_s.map((x) => Math.round(x)).join(', ')} s after each; target ratio ≥ 0.9`,
          },
          closedBase,
        ),
      );
      return rows;
    } finally {
      await withSubs.stop();
      await without.stop();
    }
  },
});
