// Load generator for the ingress benchmark, run in its own process so it does not share an event
// loop with the server. Sends signed single-message deliveries (unique wamids, Meta's escaping) over
// keep-alive connections, in one of two modes:
//   closed: N connections, each sends its next request when the previous one is answered (max rate)
//   open:   a fixed arrival rate; latency counts from the intended send time, so a server that falls
//           behind is charged for the queueing (no coordinated omission).
// Usage: load.ts URL SECRET MODE(closed|open) CONNECTIONS RATE DURATION_S WARMUP_S TAG
// Prints one JSON object with throughput and latency percentiles.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { toMetaJson } from '../../src/webhook/meta-json.js';
import { round } from '../lib/round.js';

const [url, secret, mode, connArg, rateArg, durationArg, warmupArg, tag] = process.argv.slice(2);
if (!url || !secret || (mode !== 'closed' && mode !== 'open')) {
  process.stderr.write('usage: load.ts URL SECRET closed|open CONNECTIONS RATE DURATION_S WARMUP_S TAG\n');
  process.exit(2);
}
const connections = Number(connArg);
const rate = Number(rateArg);
const durationMs = Number(durationArg) * 1000;
const warmupMs = Number(warmupArg) * 1000;
const target = new URL('/webhooks/whatsapp', url);
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });

let seq = 0;
const BASE_TIMESTAMP = Math.floor(Date.now() / 1000) - 3600;
function nextDelivery(): { body: Buffer; signature: string } {
  seq += 1;
  const wa = `4917${String(100_000_000 + (seq % 5000)).padStart(9, '0')}`;
  const body = Buffer.from(
    toMetaJson({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            {
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
                contacts: [{ profile: { name: 'Zoë Müller' }, wa_id: wa }],
                messages: [
                  {
                    from: wa,
                    id: `wamid.BENCH${tag}${seq}`,
                    // Just before now: older than 30 days would be an item error (SPEC §9a), not the work to measure.
                    timestamp: String(BASE_TIMESTAMP + (seq % 3600)),
                    text: { body: `Olá! Pedido nº ${seq} — https://loja.example/p/${seq}?ref=promoção 👍` },
                    type: 'text',
                  },
                ],
              },
              field: 'messages',
            },
          ],
        },
      ],
    }),
  );
  return {
    body,
    signature: `sha256=${createHmac('sha256', secret as string)
      .update(body)
      .digest('hex')}`,
  };
}

function send(): Promise<number> {
  const d = nextDelivery();
  return new Promise((resolve) => {
    const req = http.request(
      target,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': d.body.length,
          'x-hub-signature-256': d.signature,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(-1));
    req.end(d.body);
  });
}

interface Sample {
  at: number;
  ms: number;
  status: number;
}

async function closedLoop(until: number, samples: Sample[]): Promise<void> {
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        const start = performance.now();
        const status = await send();
        samples.push({ at: start, ms: performance.now() - start, status });
      }
    }),
  );
}

async function openLoop(from: number, until: number, samples: Sample[]): Promise<void> {
  const interval = 1000 / rate;
  let i = 0;
  const inflight: Promise<void>[] = [];
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      while (from + i * interval <= now && from + i * interval < until) {
        const intended = from + i * interval;
        i += 1;
        inflight.push(
          send().then((status) => {
            samples.push({ at: intended, ms: performance.now() - intended, status });
          }),
        );
      }
      if (from + i * interval >= until) done();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(inflight);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const warmup: Sample[] = [];
const samples: Sample[] = [];
const t0 = performance.now();
if (mode === 'closed') {
  await closedLoop(t0 + warmupMs, warmup);
  const start = performance.now();
  await closedLoop(start + durationMs, samples);
} else {
  await openLoop(t0, t0 + warmupMs, warmup);
  const start = performance.now();
  await openLoop(start, start + durationMs, samples);
}
agent.destroy();

const measured = samples.filter((s) => s.status === 200);
const latencies = measured.map((s) => s.ms).sort((a, b) => a - b);
const statusCounts: Record<string, number> = {};
for (const s of samples) statusCounts[s.status] = (statusCounts[s.status] ?? 0) + 1;
// A loop, not Math.min(...): a fast server yields more samples than a call's arguments can hold.
const first = samples.reduce((m, s) => Math.min(m, s.at), Number.POSITIVE_INFINITY);
const last = samples.reduce((m, s) => Math.max(m, s.at + s.ms), Number.NEGATIVE_INFINITY);
process.stdout.write(
  `${JSON.stringify({
    mode,
    connections,
    target_rate: mode === 'open' ? rate : null,
    requests: samples.length,
    ok: measured.length,
    status_counts: statusCounts,
    seconds: round((last - first) / 1000),
    deliveries_per_second: round(measured.length / ((last - first) / 1000)),
    latency_ms: {
      p50: round(percentile(latencies, 50)),
      p90: round(percentile(latencies, 90)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies[latencies.length - 1] ?? Number.NaN),
      mean: round(latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length)),
    },
    warmup_requests: warmup.length,
  })}\n`,
);
