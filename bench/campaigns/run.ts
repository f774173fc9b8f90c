// Campaign benchmark (issue 8).
// 1. Creation: POST a 100,000-recipient campaign (one request, ~3.5 MB of JSON) to the real app in a
//    child process of its own: the request's time, the peak RSS and heap above the idle process, and
//    the longest the event loop was blocked meanwhile (the insert runs in chunks inside one
//    transaction and yields between chunk groups).
// 2. Send rate: a campaign capped at 40/s on a channel capped at 80/s, sent by the real daemon to
//    the fake Cloud API in its own process; the achieved rate and the most requests the API saw in
//    any one-second window (target: close to 40/s, never above 40 in a window).
// Run: node --import tsx bench/campaigns/run.ts [--recipients 100000] [--sends 800]
// Writes bench/results/campaigns-<date>.json and prints a summary.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createToken } from '../../src/auth/tokens.js';
import { resolveConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { type Daemon, startDaemon } from '../../src/daemon.js';
import { createLogger } from '../../src/observability/logger.js';
import { templatesRepo } from '../../src/store/templates-repo.js';
import { type ArrivalRate, arrivalRate } from '../lib/arrival-rate.js';
import { runJsonChild } from '../lib/child-json.js';
import { startGraphProcess } from '../lib/fake-graph-process.js';
import { round } from '../lib/round.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PNID = '106540352242922';
const BASE = '/api/extensions/native-whatsapp/runtime/campaigns';
const CAMPAIGN_RATE = 40;
const CHANNEL_RATE = 80;

const silentLogger = () =>
  createLogger({ level: 'silent', format: 'json', destination: new Writable({ write: (_c, _e, d) => d() }) });

async function daemonWith(
  dir: string,
  document: Record<string, unknown>,
): Promise<{ daemon: Daemon; token: string }> {
  const { config, sources } = resolveConfig([
    {
      name: 'bench',
      document: {
        database: { path: path.join(dir, 'bench.db') },
        log: { level: 'silent', format: 'json' },
        server: { port: 0 },
        ...document,
      },
    },
  ]);
  const daemon = await startDaemon({
    config: config as Config,
    layers: sources,
    logger: silentLogger(),
    listen: false,
  });
  const { deps } = daemon;
  const token = (
    await createToken(
      deps.db,
      { ids: deps.ids, random: deps.random, now: deps.clock.now() },
      { tier: 'root', name: 'bench' },
    )
  ).token;
  const call = async (p: string, body: unknown) => {
    const res = await daemon.app.app.request(p, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${p}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const agent = await call('/api/agents', { name: 'Bench', phone_number_id: PNID });
  await call('/api/marketplace/extensions/install', {
    offerId: 1,
    agentUuid: agent.uuid,
    installMode: 'purchase',
  });
  return { daemon, token };
}

interface CreationResult {
  recipients: number;
  body_mb: number;
  request_ms: number;
  peak_rss_mb_above_idle: number;
  peak_heap_mb_above_idle: number;
  max_event_loop_block_ms: number;
}

/** In a child process, so RSS and heap are this measurement's alone. */
async function creationChild(n: number): Promise<CreationResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nwa-bench-campaign-create-'));
  const { daemon, token } = await daemonWith(dir, {
    templates: [{ name: 'promo', language: 'en' }],
    channels: { phone_number_id: PNID },
  });
  try {
    const body = JSON.stringify({
      name: 'Bench',
      agent_uuid: (await daemon.deps.db.selectFrom('agents').select('uuid').executeTakeFirstOrThrow()).uuid,
      template: { name: 'promo', language: 'en' },
      recipients: Array.from({ length: n }, (_, i) => ({
        wa_id: `49${String(1_500_000_000 + i)}`,
        parameters: [`Customer ${i}`],
      })),
    });
    global.gc?.();
    await new Promise((r) => setTimeout(r, 200));
    const idle = process.memoryUsage();
    let peakHeap = idle.heapUsed;
    let peakRss = idle.rss;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    }, 2);
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const started = performance.now();
    const res = await daemon.app.app.request(BASE, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    const requestMs = performance.now() - started;
    loop.disable();
    clearInterval(sampler);
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss, process.resourceUsage().maxRSS * 1024);
    if (res.status !== 201) throw new Error(`create: ${res.status} ${(await res.text()).slice(0, 300)}`);
    return {
      recipients: n,
      body_mb: round(Buffer.byteLength(body) / 2 ** 20),
      request_ms: round(requestMs),
      peak_rss_mb_above_idle: round((peakRss - idle.rss) / 2 ** 20),
      peak_heap_mb_above_idle: round((peakHeap - idle.heapUsed) / 2 ** 20),
      max_event_loop_block_ms: round(loop.max / 1e6),
    };
  } finally {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function runCreationChild(n: number): Promise<CreationResult> {
  return runJsonChild<CreationResult>('bench/campaigns/run.ts', ['--child-create', String(n)]);
}

interface SendRateResult extends ArrivalRate {
  campaign_rate_per_second: number;
  channel_rate_per_second: number;
  all_sent: boolean;
}

async function sendRate(n: number): Promise<SendRateResult> {
  const graph = await startGraphProcess();
  const dir = mkdtempSync(path.join(tmpdir(), 'nwa-bench-campaign-send-'));
  const { daemon, token } = await daemonWith(dir, {
    channels: {
      app_secret: 'bench_app_secret_0123456789abcdef',
      verify_token: 'bench_verify_token_0123',
      access_token: 'EAAbench_access_token_0123456789',
      api_base_url: graph.url,
      phone_number_id: PNID,
    },
    outbound: { rate_per_second: CHANNEL_RATE, concurrency: 16 },
  });
  try {
    const { deps } = daemon;
    await templatesRepo.upsertIfNewer(deps.db, {
      name: 'promo',
      language: 'en',
      status: 'APPROVED',
      category: 'MARKETING',
      template_id: null,
      reason: null,
      updated_at: deps.clock.now(),
    });
    const post = async (p: string, body: unknown) => {
      const res = await daemon.app.app.request(p, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return (await res.json()) as Record<string, unknown>;
    };
    const agent = await deps.db.selectFrom('agents').select('uuid').executeTakeFirstOrThrow();
    const created = await post(BASE, {
      name: 'Rate',
      agent_uuid: agent.uuid,
      template: { name: 'promo', language: 'en' },
      recipients: Array.from({ length: n }, (_, i) => ({ wa_id: `49${String(1_600_000_000 + i)}` })),
      rate_per_second: CAMPAIGN_RATE,
    });
    await post(`${BASE}/${created.id}/start`, {});
    const deadline = Date.now() + (n / CAMPAIGN_RATE) * 3000 + 30_000;
    for (;;) {
      const row = await deps.db
        .selectFrom('campaigns')
        .select('state')
        .where('id', '=', String(created.id))
        .executeTakeFirstOrThrow();
      if (row.state === 'completed') break;
      if (Date.now() > deadline) throw new Error('campaign did not complete in time');
      await new Promise((r) => setTimeout(r, 100));
    }
    const rate = arrivalRate(await graph.times());
    return {
      campaign_rate_per_second: CAMPAIGN_RATE,
      channel_rate_per_second: CHANNEL_RATE,
      ...rate,
      all_sent: rate.messages === n,
    };
  } finally {
    await daemon.stop();
    await graph.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      recipients: { type: 'string', default: '100000' },
      sends: { type: 'string', default: '800' },
      'child-create': { type: 'string' },
    },
  });
  if (values['child-create']) {
    process.stdout.write(`${JSON.stringify(await creationChild(Number(values['child-create'])))}\n`);
    process.exit(0);
  }
  process.stderr.write(`creation: ${values.recipients} recipients in one request...\n`);
  const creation = await runCreationChild(Number(values.recipients));
  process.stderr.write(`send rate: ${values.sends} recipients at ${CAMPAIGN_RATE}/s...\n`);
  const send = await sendRate(Number(values.sends));
  const report = {
    bench: 'campaigns',
    date: new Date().toISOString(),
    node: process.version,
    creation,
    send_rate: send,
    targets: {
      creation_event_loop_block_ms_below: 250,
      send_rate_at_least: CAMPAIGN_RATE * 0.9,
      never_above_per_window: CAMPAIGN_RATE,
      met:
        creation.max_event_loop_block_ms < 250 &&
        send.all_sent &&
        send.achieved_rate_per_second >= CAMPAIGN_RATE * 0.9 &&
        send.max_in_any_one_second_window <= CAMPAIGN_RATE,
    },
  };
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  const file = path.join(ROOT, 'bench/results', `campaigns-${report.date.slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(
    [
      `create ${creation.recipients} recipients (${creation.body_mb} MiB): ${creation.request_ms} ms, peak RSS +${creation.peak_rss_mb_above_idle} MiB, heap +${creation.peak_heap_mb_above_idle} MiB, event loop blocked at most ${creation.max_event_loop_block_ms} ms`,
      `send rate at ${CAMPAIGN_RATE}/s (channel ${CHANNEL_RATE}/s): ${send.achieved_rate_per_second}/s over ${send.messages} messages, at most ${send.max_in_any_one_second_window} in any 1 s window`,
      `written to ${path.relative(ROOT, file)}`,
      '',
    ].join('\n'),
  );
}
