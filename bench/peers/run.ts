// Webhook handlers side by side under the same closed-loop load (signed deliveries, 50 keep-alive
// connections, load generator in its own process): the node:http ceiling, the per-insert durable floor
// (Hono + signature + one SQLite insert), the group-commit floor (the same, one commit per event-loop
// turn), the whatsapp-api-js peer, and the daemon. Each figure is compared
// with the durable floor measured in the same run; the 200s of servers that store are checked
// against their database afterwards.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type BenchRow, compared, defineBenchmark } from '../lib/benchmark.js';
import { type ContestantName, contestants } from '../lib/contestants.js';
import { type LoadResult, runLoad } from '../lib/load-generator.js';
import { signedDeliveries } from '../lib/webhook-bodies.js';

const ORDER: ContestantName[] = [
  'node:http',
  'hono+sqlite',
  'hono+sqlite group',
  'whatsapp-api-js',
  'daemon',
];
const FLOOR: ContestantName = 'hono+sqlite';
/** The floor the daemon's group-committed inbox is really up against (issue 20). */
const GROUP_FLOOR: ContestantName = 'hono+sqlite group';
const CONNECTIONS = 50;

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  peakMiB: number;
}

export default defineBenchmark({
  name: 'peers',
  description: 'webhook throughput and latency: node:http ceiling, durable floor, whatsapp-api-js, daemon',
  async run(ctx) {
    const seconds = ctx.quick ? 3 : 15;
    const warmup = ctx.quick ? 1 : 3;
    const requests = signedDeliveries(20_000);
    const measured = new Map<ContestantName, Measured>();
    const rows: BenchRow[] = [];

    for (const name of ORDER) {
      const contestant = contestants[name];
      const dir = path.join(ctx.tmpDir, name.replace(/[^a-z0-9]+/gi, '-'));
      mkdirSync(dir, { recursive: true });
      ctx.log(`${name}: warm-up ${warmup} s, then ${seconds} s at ${CONNECTIONS} connections`);
      const server = await contestant.start(dir);
      const loads: LoadResult[] = [];
      let peak = 0;
      try {
        loads.push(
          await runLoad({ url: server.url, requests, durationSec: warmup, connections: CONNECTIONS }),
        );
        loads.push(
          await runLoad({ url: server.url, requests, durationSec: seconds, connections: CONNECTIONS }),
        );
        peak = server.peakRss() ?? 0;
      } finally {
        await server.stop();
      }
      const load = loads[1] as LoadResult;
      const ok = load.statuses['200'] ?? 0;
      if (ok !== load.answered || load.errors > 0) {
        ctx.log(`${name}: not every answer was 200: ${JSON.stringify(load.statuses)}, ${load.errors} errors`);
      }
      measured.set(name, {
        rps: ok / load.seconds,
        p50: load.latency_ms.p50,
        p99: load.latency_ms.p99,
        peakMiB: peak / 2 ** 20,
      });
      if (contestant.storedRows) {
        const accepted = loads.reduce((s, l) => s + (l.statuses['200'] ?? 0), 0);
        const stored = contestant.storedRows(dir);
        rows.push({
          case: name,
          metric: 'answered 200 but not stored',
          value: Math.max(0, accepted - stored),
          unit: 'deliveries',
          better: 'lower',
          note: `${stored} rows stored for ${accepted} answers 200`,
        });
      }
    }

    const floor = measured.get(FLOOR);
    const group = measured.get(GROUP_FLOOR);
    const base = (v: number | undefined) => (v === undefined ? undefined : { case: FLOOR, value: v });
    for (const name of ORDER) {
      const m = measured.get(name);
      if (!m) continue;
      rows.push(
        compared(
          { case: name, metric: 'throughput', value: m.rps, unit: 'req/s', better: 'higher' },
          base(floor?.rps),
        ),
        compared(
          { case: name, metric: 'latency p50', value: m.p50, unit: 'ms', better: 'lower' },
          base(floor?.p50),
        ),
        compared(
          { case: name, metric: 'latency p99', value: m.p99, unit: 'ms', better: 'lower' },
          base(floor?.p99),
        ),
        compared(
          { case: name, metric: 'peak RSS', value: m.peakMiB, unit: 'MiB', better: 'lower' },
          base(floor?.peakMiB),
        ),
      );
      if (name === 'daemon' && group) {
        rows.push(
          compared(
            {
              case: name,
              metric: 'throughput vs group-commit floor',
              value: m.rps,
              unit: 'req/s',
              better: 'higher',
            },
            { case: GROUP_FLOOR, value: group.rps },
          ),
          compared(
            {
              case: name,
              metric: 'latency p99 vs group-commit floor',
              value: m.p99,
              unit: 'ms',
              better: 'lower',
            },
            { case: GROUP_FLOOR, value: group.p99 },
          ),
        );
      }
    }
    return rows;
  },
});
