// Load shedding (SPEC §9, issues 9 and 20): measure the daemon's webhook capacity (closed loop), then
// offer twice that rate for 60 s (open loop, quick mode 10 s) and count what happened to every request:
// accepted (200), shed (503/429 with Retry-After), failed, and lost — counted by delivery id: every
// wamid answered 200 must be in the inbox exactly once afterwards. The open-loop client opens more
// connections when all are busy, so the offered rate is really sent, and times latency from when each
// request was due (no coordinated omission). Memory is sampled throughout to show it stays bounded. The
// overload runs twice at the same offered rate, each against a fresh daemon: with the default
// settings, and with the opt-in event-loop bound (load.max_event_loop_delay_ms).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { type BenchContext, type BenchRow, compared, defineBenchmark } from '../lib/benchmark.js';
import { contestants, DAEMON_ROOT_TOKEN } from '../lib/contestants.js';
import { type LoadRequest, type LoadResult, runLoad } from '../lib/load-generator.js';
import { signedDeliveries } from '../lib/webhook-bodies.js';

const MiB = 2 ** 20;
const CAPACITY_CASE = 'capacity (closed loop, 64 connections)';

/** Shed counts by reason and the inbox backlog, from the daemon's own /metrics. */
async function daemonCounters(url: string): Promise<{ shed: Record<string, number>; backlog: number }> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${DAEMON_ROOT_TOKEN}` } });
  const text = await res.text();
  const shed: Record<string, number> = {};
  for (const m of text.matchAll(
    /^nwa_http_shed_total\{surface="webhook",reason="(\w+)"(?:,instance_id="[^"]*")?\} (\d+)/gm,
  )) {
    shed[m[1] as string] = Number(m[2]);
  }
  const backlog = Number(
    /^nwa_inbox_backlog(?:\{instance_id="[^"]*"\})? (\d+)/m.exec(text)?.[1] ?? Number.NaN,
  );
  return { shed, backlog };
}

/** How often each wamid stands in the inbox of a stopped daemon (the raw bodies, as stored). */
function inboxWamids(dbFile: string): Map<string, number> {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const counts = new Map<string, number>();
    const rows = db
      .prepare("select json_extract(body, '$.entry[0].changes[0].value.messages[0].id') as w from inbox")
      .iterate() as Iterable<{ w: string | null }>;
    for (const { w } of rows) if (w) counts.set(w, (counts.get(w) ?? 0) + 1);
    return counts;
  } finally {
    db.close();
  }
}

/** Of the requests answered 200: how many have no inbox row, and how many have more than one. */
function accountById(
  dbFile: string,
  requests: LoadRequest[],
  accepted: number[],
): { lost: number; twice: number; distinct: number } {
  const stored = inboxWamids(dbFile);
  let lost = 0;
  let twice = 0;
  const seen = new Set<string>();
  for (const i of accepted) {
    const key = requests[i]?.key;
    if (!key) continue;
    seen.add(key);
    const n = stored.get(key) ?? 0;
    if (n === 0) lost += 1;
    else if (n > 1) twice += 1;
  }
  return { lost, twice, distinct: seen.size };
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

interface Variant {
  label: string;
  config?: Record<string, unknown>;
}

const VARIANTS: Variant[] = [
  { label: 'defaults' },
  { label: 'max_event_loop_delay_ms 200', config: { load: { max_event_loop_delay_ms: 200 } } },
];

/** Offers `rate` for `seconds` to a fresh daemon and accounts for every request. */
async function overloadRun(
  ctx: BenchContext,
  variant: Variant,
  requests: LoadRequest[],
  rate: number,
  seconds: number,
  capacity: LoadResult,
): Promise<BenchRow[]> {
  const dir = path.join(ctx.tmpDir, variant.label.replace(/[^a-z0-9]+/gi, '-'));
  mkdirSync(dir, { recursive: true });
  const server = await contestants.daemon.start(dir, variant.config ? { config: variant.config } : {});
  let overload: LoadResult;
  let samples: number[];
  let idle = 0;
  let peak = 0;
  let counters: Awaited<ReturnType<typeof daemonCounters>> = { shed: {}, backlog: Number.NaN };
  try {
    idle = server.rss() ?? 0;
    ctx.log(`${variant.label}: offering ${rate} req/s for ${seconds} s`);
    const stopSampling = server.sampleRss(250);
    overload = await runLoad({
      url: server.url,
      requests,
      durationSec: seconds,
      rate,
      // More connections than webhook_max_in_flight (256) from the start, and up to 2,048 as the daemon
      // holds them: the daemon, not the client, decides what is shed, and the offered rate is sent.
      connections: 512,
      maxConnections: 2048,
      recordAccepted: true,
      workers: 2,
    });
    samples = stopSampling();
    peak = server.peakRss() ?? 0;
    counters = await daemonCounters(server.url);
  } finally {
    await server.stop();
  }
  const stored = contestants.daemon.storedRows?.(dir) ?? 0;
  const byId = accountById(path.join(dir, 'daemon.db'), requests, overload.accepted ?? []);
  const ok = overload.statuses['200'] ?? 0;
  const shed = (overload.statuses['503'] ?? 0) + (overload.statuses['429'] ?? 0);
  const other = overload.answered - ok - shed;
  // Flat memory: the last tenth of the run against the tenth at its middle (the first tenth is
  // the climb from idle to working size, not growth).
  const tenth = Math.max(1, Math.floor(samples.length / 10));
  const middleStart = Math.floor(samples.length / 2) - Math.floor(tenth / 2);
  const middle = mean(samples.slice(middleStart, middleStart + tenth));
  const late = mean(samples.slice(-tenth));
  ctx.log(`${variant.label}: statuses ${JSON.stringify(overload.statuses)}, ${overload.errors} errors`);
  const c = `2× capacity ${seconds} s, ${variant.label}`;
  return [
    { case: c, metric: 'offered', value: (overload.sent + overload.not_sent) / seconds, unit: 'req/s' },
    compared(
      { case: c, metric: 'sent', value: overload.sent / seconds, unit: 'req/s', better: 'higher' },
      { case: CAPACITY_CASE, value: capacity.rps },
    ),
    {
      case: c,
      metric: 'not sent by the client',
      value: overload.not_sent,
      unit: 'requests',
      note: `still waiting for a connection when the window closed; ${overload.connections_used ?? '?'} connections used`,
    },
    compared(
      { case: c, metric: 'accepted (200)', value: ok / seconds, unit: 'req/s', better: 'higher' },
      { case: CAPACITY_CASE, value: capacity.rps },
    ),
    { case: c, metric: 'accepted (200)', value: ok, unit: 'requests' },
    { case: c, metric: 'shed (503/429 + Retry-After)', value: shed, unit: 'requests' },
    ...Object.entries(counters.shed).map(([reason, n]) => ({
      case: c,
      metric: `shed because of ${reason}`,
      value: n,
      unit: 'requests',
      note: "the daemon's nwa_http_shed_total",
    })),
    {
      case: c,
      metric: 'inbox backlog at the end',
      value: counters.backlog,
      unit: 'rows',
      note: 'stored, not yet processed',
    },
    { case: c, metric: 'other answers', value: other, unit: 'requests', better: 'lower' },
    {
      case: c,
      metric: 'connection errors/timeouts (10 s)',
      value: overload.errors,
      unit: 'requests',
      better: 'lower',
    },
    {
      case: c,
      metric: 'lost (a wamid answered 200, not in the inbox)',
      value: byId.lost,
      unit: 'deliveries',
      better: 'lower',
      note: `by delivery id: ${byId.distinct} distinct wamids answered 200, ${stored} inbox rows`,
    },
    {
      case: c,
      metric: 'stored twice (a wamid answered 200, two inbox rows)',
      value: byId.twice,
      unit: 'deliveries',
      better: 'lower',
    },
    compared(
      {
        case: c,
        metric: 'latency p50 of all answers (from when due)',
        value: overload.latency_ms.p50,
        unit: 'ms',
        better: 'lower',
      },
      { case: CAPACITY_CASE, value: capacity.latency_ms.p50 },
    ),
    compared(
      {
        case: c,
        metric: 'latency p99 of all answers (from when due)',
        value: overload.latency_ms.p99,
        unit: 'ms',
        better: 'lower',
      },
      { case: CAPACITY_CASE, value: capacity.latency_ms.p99 },
    ),
    compared(
      { case: c, metric: 'peak RSS', value: peak / MiB, unit: 'MiB', better: 'lower' },
      { case: 'RSS of the idle daemon', value: idle / MiB },
    ),
    compared(
      { case: c, metric: 'RSS, last tenth of the run', value: late / MiB, unit: 'MiB', better: 'lower' },
      { case: 'RSS, middle tenth of the run', value: middle / MiB },
    ),
  ];
}

export default defineBenchmark({
  name: 'overload',
  description: 'the daemon at twice its measured webhook capacity: accepted, shed, lost, memory',
  async run(ctx) {
    const capacitySeconds = ctx.quick ? 3 : 15;
    const overloadSeconds = ctx.quick ? 8 : 60;
    // Far more distinct deliveries than a run sends, so every 200 is a new row to account for.
    const requests = signedDeliveries(ctx.quick ? 50_000 : 300_000);

    const dir = path.join(ctx.tmpDir, 'capacity');
    mkdirSync(dir, { recursive: true });
    const server = await contestants.daemon.start(dir);
    let capacity: LoadResult;
    try {
      ctx.log(`capacity: closed loop, 64 connections, ${capacitySeconds} s`);
      // The same client as the overload runs, so both numbers pay the same client cost.
      capacity = await runLoad({
        url: server.url,
        requests,
        durationSec: capacitySeconds,
        connections: 64,
        tool: 'node',
        workers: 2,
      });
    } finally {
      await server.stop();
    }
    const stored = contestants.daemon.storedRows?.(dir) ?? 0;
    const capacityOk = capacity.statuses['200'] ?? 0;
    const rate = Math.max(1, Math.round(2 * capacity.rps));
    ctx.log(`capacity ${capacity.rps.toFixed(0)} req/s`);

    const rows: BenchRow[] = [
      { case: CAPACITY_CASE, metric: 'throughput', value: capacity.rps, unit: 'req/s', better: 'higher' },
      {
        case: CAPACITY_CASE,
        metric: 'latency p50',
        value: capacity.latency_ms.p50,
        unit: 'ms',
        better: 'lower',
      },
      {
        case: CAPACITY_CASE,
        metric: 'latency p99',
        value: capacity.latency_ms.p99,
        unit: 'ms',
        better: 'lower',
      },
      {
        case: CAPACITY_CASE,
        metric: 'lost (200 but not in the inbox)',
        value: Math.max(0, capacityOk - stored),
        unit: 'deliveries',
        better: 'lower',
      },
    ];
    for (const variant of VARIANTS) {
      rows.push(...(await overloadRun(ctx, variant, requests, rate, overloadSeconds, capacity)));
    }
    return rows;
  },
});
