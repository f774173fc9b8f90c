// Event delivery benchmark (issue 14, SPEC §11): the real daemon (node dist/main.js serve) takes signed
// webhooks at a fixed 1,000 messages/s while three subscriptions to every event type deliver to real
// receivers in their own process (signatures verified with `standardwebhooks`). Measures the time from
// a message's `200` (taken by the load client) to its `message.received` arriving at each receiver
// (p50/p99), how long the deliveries take to catch up after the load, and the cost to ingress: the same
// daemon build with no subscription, measured in the same run, under the same 1,000/s (webhook p50/p99)
// and under a closed loop of 50 connections (deliveries/s), each on a fresh database.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { type BenchRow, compared, defineBenchmark } from '../lib/benchmark.js';
import { type LoadRequest, type LoadResult, runLoad } from '../lib/load-generator.js';
import { round } from '../lib/round.js';
import { freePort, startServer } from '../lib/server-process.js';
import { BENCH_APP_SECRET, signedDeliveries } from '../lib/webhook-bodies.js';
import type { ReceiverStats } from './receivers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ROOT_TOKEN = 'nwa_bench_root_token_0123456789abcdef';
const HOOKS = '/api/extensions/native-whatsapp/management/webhooks';
const RATE = 1000;
const SUBSCRIPTIONS = 3;

interface ModeResult {
  open: LoadResult;
  closed: LoadResult;
  /** ms from each message's 200 to its message.received at each receiver (with subscriptions). */
  latencies: number[];
  /** Messages answered 200 whose message.received did not reach a receiver in time. */
  missing: number;
  /** Seconds after the open-loop window until every receiver had every message.received. */
  catch_up_s: number;
  receivers: ReceiverStats[];
}

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

/** Polls the daemon's database (read-only, WAL) until the inbox is processed. */
async function inboxDrained(dbFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const db = new SQLite(dbFile, { readonly: true, fileMustExist: true });
    try {
      const left = db.prepare("select count(*) as n from inbox where state != 'processed'").get() as {
        n: number;
      };
      if (left.n === 0) return;
    } finally {
      db.close();
    }
    if (Date.now() > deadline) throw new Error('the inbox did not drain in time');
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function runMode(
  tmp: string,
  withSubscriptions: boolean,
  openRequests: LoadRequest[],
  closedRequests: LoadRequest[],
  seconds: number,
  log: (m: string) => void,
): Promise<ModeResult> {
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
  try {
    for (const url of receivers?.urls ?? []) {
      const res = await fetch(`${daemon.url}${HOOKS}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ROOT_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: `${url}/hooks`, types: ['message.received'], description: 'bench' }),
      });
      if (res.status !== 201) throw new Error(`subscribe: ${res.status} ${await res.text()}`);
      const { secret } = (await res.json()) as { secret: string };
      await fetch(`${url}/secret`, { method: 'POST', body: secret });
    }

    log(`${name} subscriptions: open loop, ${RATE}/s for ${seconds} s...`);
    const open = await runLoad({
      url: daemon.url,
      requests: openRequests,
      durationSec: seconds,
      connections: 32,
      rate: RATE,
      workers: 2,
      recordAccepted: true,
      recordAcceptedAt: true,
    });
    const windowEnd = Date.now();
    const latencies: number[] = [];
    let missing = 0;
    let catchUp = 0;
    let finalStats: ReceiverStats[] = [];
    if (receivers) {
      const okAt = new Map<string, number>();
      (open.accepted ?? []).forEach((i, k) => {
        const key = openRequests[i]?.key;
        if (key) okAt.set(key, open.accepted_at?.[k] as number);
      });
      // Until every receiver has every acknowledged message's message.received (or 5 minutes).
      const deadline = Date.now() + 300_000;
      for (;;) {
        finalStats = await Promise.all(receivers.urls.map(stats));
        const have = Math.min(...finalStats.map((s) => Object.keys(s.received_at).length));
        if (have >= okAt.size || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      catchUp = (Date.now() - windowEnd) / 1000;
      for (const s of finalStats) {
        for (const [wamid, t0] of okAt) {
          const t = s.received_at[wamid];
          if (t === undefined) missing += 1;
          else latencies.push(t - t0);
        }
      }
      latencies.sort((a, b) => a - b);
    }
    await inboxDrained(dbFile, 300_000);

    log(`${name} subscriptions: closed loop, 50 connections for ${seconds} s...`);
    const closed = await runLoad({
      url: daemon.url,
      requests: closedRequests,
      durationSec: seconds,
      connections: 50,
      tool: 'node',
    });
    if (receivers) finalStats = await Promise.all(receivers.urls.map(stats));
    return { open, closed, latencies, missing, catch_up_s: catchUp, receivers: finalStats };
  } finally {
    receivers?.child.kill('SIGTERM');
    await daemon.stop();
  }
}

export default defineBenchmark({
  name: 'events',
  description:
    'event webhooks at 1,000 msgs/s with 3 subscriptions (real receivers in their own process): 200 → message.received p50/p99, and ingress with vs without subscriptions in the same run',
  async run({ quick, tmpDir, log }) {
    const seconds = quick ? 5 : 20;
    // Distinct wamids for every request of both loops (a repeated one is a cheap duplicate).
    const openCount = Math.ceil(RATE * seconds * 1.1);
    const all = signedDeliveries(openCount + 60_000);
    const openRequests = all.slice(0, openCount);
    const closedRequests = all.slice(openCount);
    const without = await runMode(tmpDir, false, openRequests, closedRequests, seconds, log);
    const withSubs = await runMode(tmpDir, true, openRequests, closedRequests, seconds, log);
    const lat = withSubs.latencies;
    const report = {
      seconds,
      rate: RATE,
      subscriptions: SUBSCRIPTIONS,
      without: { open: without.open, closed: without.closed },
      with: {
        open: withSubs.open,
        closed: withSubs.closed,
        latency_samples: lat.length,
        missing: withSubs.missing,
        catch_up_s: withSubs.catch_up_s,
        receivers: withSubs.receivers.map((s) => ({ ...s, received_at: Object.keys(s.received_at).length })),
      },
    };
    writeFileSync(path.join(tmpDir, 'events-report.json'), JSON.stringify(report, null, 2));
    log(JSON.stringify({ ...report, without: undefined, with: { ...report.with, open: undefined } }));

    const delivered = withSubs.receivers.reduce((n, s) => n + s.requests, 0);
    const rows: BenchRow[] = [
      {
        case: `200 → message.received at ${RATE}/s, ${SUBSCRIPTIONS} subscriptions`,
        metric: 'p50',
        value: round(pct(lat, 50)),
        unit: 'ms',
        better: 'lower',
      },
      {
        case: `200 → message.received at ${RATE}/s, ${SUBSCRIPTIONS} subscriptions`,
        metric: 'p99',
        value: round(pct(lat, 99)),
        unit: 'ms',
        better: 'lower',
        note: `${lat.length} samples (messages × receivers), ${withSubs.missing} missing`,
      },
      {
        case: 'deliveries after the 1,000/s window',
        metric: 'catch-up',
        value: round(withSubs.catch_up_s),
        unit: 's',
        better: 'lower',
        note: `${delivered} requests to ${SUBSCRIPTIONS} receivers, ${withSubs.receivers.reduce((n, s) => n + s.duplicates, 0)} duplicates, ${withSubs.receivers.reduce((n, s) => n + s.unverified, 0)} unverified`,
      },
    ];
    const openBase = {
      case: `webhook p99 at ${RATE}/s, no subscription`,
      value: without.open.latency_ms.p99,
    };
    rows.push(
      { case: openBase.case, metric: 'p99', value: round(openBase.value), unit: 'ms', better: 'lower' },
      compared(
        {
          case: `webhook p99 at ${RATE}/s, ${SUBSCRIPTIONS} subscriptions`,
          metric: 'p99',
          value: round(withSubs.open.latency_ms.p99),
          unit: 'ms',
          better: 'lower',
        },
        openBase,
      ),
    );
    const closedBase = { case: 'ingress, 50 connections, no subscription', value: without.closed.rps };
    rows.push(
      {
        case: closedBase.case,
        metric: 'throughput',
        value: round(closedBase.value),
        unit: 'deliveries/s',
        better: 'higher',
      },
      compared(
        {
          case: `ingress, 50 connections, ${SUBSCRIPTIONS} subscriptions`,
          metric: 'throughput',
          value: round(withSubs.closed.rps),
          unit: 'deliveries/s',
          better: 'higher',
          note: 'target: ratio ≥ 0.9 (subscriptions cost ingress < 10%)',
        },
        closedBase,
      ),
    );
    return rows;
  },
});
