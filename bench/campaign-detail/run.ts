// Campaign detail, export and retarget at size (SPEC §14, issue 17), on the real app in this process
// (sandbox transport, file database): a campaign of N recipients (100,000 full, 10,000 quick) whose
// recipients are spread over every state, then
// 1. export: GET .../recipients?format=csv read to the end: time, bytes, and the peak RSS and heap
//    above the process before the request (sampled every 2 ms): must stay flat as the list grows;
// 2. retarget: POST .../retarget {audience: no_reply}: time to the new draft (one INSERT ... SELECT);
// 3. funnel read: GET .../:id (funnel, failures, cost, eta) 300 times: p50 and p99.
import path from 'node:path';
import { Writable } from 'node:stream';
import { createToken } from '../../src/auth/tokens.js';
import { resolveConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { startDaemon } from '../../src/daemon.js';
import { createLogger } from '../../src/observability/logger.js';
import { defineBenchmark } from '../lib/benchmark.js';
import { round } from '../lib/round.js';

const PNID = '106540352242922';
const BASE = '/api/extensions/native-whatsapp/runtime/campaigns';

export default defineBenchmark({
  name: 'campaign-detail',
  description: 'CSV export, retarget and detail reads of one campaign of 100k recipients (10k quick)',
  async run(ctx) {
    const n = ctx.quick ? 10_000 : 100_000;
    const { config, sources } = resolveConfig([
      {
        name: 'bench',
        document: {
          database: { path: path.join(ctx.tmpDir, 'bench.db') },
          log: { level: 'silent', format: 'json' },
          server: { port: 0 },
          channels: { phone_number_id: PNID },
          templates: [{ name: 'promo', language: 'en' }],
          campaigns: { messaging_limit: null },
        },
      },
    ]);
    const daemon = await startDaemon({
      config: config as Config,
      layers: sources,
      logger: createLogger({
        level: 'silent',
        format: 'json',
        destination: new Writable({ write: (_c, _e, d) => d() }),
      }),
      listen: false,
    });
    const { deps } = daemon;
    try {
      const token = (
        await createToken(
          deps.db,
          { ids: deps.ids, random: deps.random, now: deps.clock.now() },
          { tier: 'root', name: 'bench' },
        )
      ).token;
      const call = async (p: string, body?: unknown) => {
        const res = await daemon.app.app.request(p, {
          method: body === undefined ? 'GET' : 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        if (res.status >= 300) throw new Error(`${p}: ${res.status} ${await res.text()}`);
        return res;
      };
      const agent = (await (await call('/api/agents', { name: 'Bench', phone_number_id: PNID })).json()) as {
        uuid: string;
      };
      await call('/api/marketplace/extensions/install', {
        offerId: 1,
        agentUuid: agent.uuid,
        installMode: 'purchase',
      });
      ctx.log(`creating a campaign of ${n} recipients`);
      const created = (await (
        await call(BASE, {
          name: 'Bench',
          agent_uuid: agent.uuid,
          template: { name: 'promo', language: 'en' },
          recipients: Array.from({ length: n }, (_, i) => ({
            wa_id: `49${1_500_000_000 + i}`,
            parameters: [`C${i}`],
          })),
        })
      ).json()) as { id: string };
      const id = created.id;
      // Spread the recipients over every state, as a finished campaign has them.
      if (deps.database.engine !== 'sqlite') throw new Error('this benchmark runs on SQLite');
      const sqlite = deps.database.sqlite;
      const now = deps.clock.now();
      sqlite
        .prepare(
          `update campaign_recipients set
             state = case "index" % 10 when 0 then 'failed' when 1 then 'skipped_opted_out' when 2 then 'replied'
               when 3 then 'read' when 4 then 'read' when 5 then 'delivered' when 6 then 'delivered' else 'sent' end,
             wamid = 'wamid.bench.' || "index", sent_at = ?, delivered_at = ?, read_at = ?,
             error_code = case "index" % 20 when 0 then 131026 when 10 then 131049 else null end,
             error_title = case "index" % 10 when 0 then 'Message undeliverable, "quoted"' else null end
           where campaign_id = ?`,
        )
        .run(now, now, now, id);
      const count = (s: string) =>
        (
          sqlite
            .prepare('select count(*) as c from campaign_recipients where campaign_id = ? and state = ?')
            .get(id, s) as {
            c: number;
          }
        ).c;
      sqlite
        .prepare(
          `update campaigns set state = 'completed', completed_at = ?, count_queued = 0, count_sent = ?,
             count_delivered = ?, count_read = ?, count_replied = ?, count_failed = ?, count_skipped_opted_out = ?
           where id = ?`,
        )
        .run(
          now,
          count('sent'),
          count('delivered'),
          count('read'),
          count('replied'),
          count('failed'),
          count('skipped_opted_out'),
          id,
        );

      // 1. Export.
      global.gc?.();
      await new Promise((r) => setTimeout(r, 100));
      const idle = process.memoryUsage();
      let peakRss = idle.rss;
      let peakHeap = idle.heapUsed;
      const sampler = setInterval(() => {
        const m = process.memoryUsage();
        peakRss = Math.max(peakRss, m.rss);
        peakHeap = Math.max(peakHeap, m.heapUsed);
      }, 2);
      const t0 = performance.now();
      const res = await call(`${BASE}/${id}/recipients?format=csv`);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let bytes = 0;
      let lines = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.length;
        for (const b of value) if (b === 10) lines++;
      }
      const exportMs = performance.now() - t0;
      clearInterval(sampler);
      if (lines !== n + 1) throw new Error(`export: ${lines} lines for ${n} recipients`);

      // 2. Retarget.
      const t1 = performance.now();
      const retarget = (await (
        await call(`${BASE}/${id}/retarget`, {
          audience: 'no_reply',
          template: { name: 'promo', language: 'en' },
        })
      ).json()) as { recipients: number };
      const retargetMs = performance.now() - t1;

      // 3. Detail reads.
      const times: number[] = [];
      for (let i = 0; i < 300; i++) {
        const s = performance.now();
        await (await call(`${BASE}/${id}`)).json();
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      const pct = (p: number) => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)] as number;
      const c = `${n} recipients`;
      return [
        { case: `export csv, ${c}`, metric: 'time', value: round(exportMs), unit: 'ms', better: 'lower' },
        { case: `export csv, ${c}`, metric: 'bytes', value: bytes, unit: 'B' },
        {
          case: `export csv, ${c}`,
          metric: 'peak rss above idle',
          value: round((peakRss - idle.rss) / 2 ** 20),
          unit: 'MiB',
          better: 'lower',
        },
        { case: `export csv, ${c}`, metric: 'rss before', value: round(idle.rss / 2 ** 20), unit: 'MiB' },
        {
          case: `export csv, ${c}`,
          metric: 'peak heap above idle',
          value: round((peakHeap - idle.heapUsed) / 2 ** 20),
          unit: 'MiB',
          better: 'lower',
        },
        {
          case: `retarget no_reply, ${c}`,
          metric: 'time',
          value: round(retargetMs),
          unit: 'ms',
          better: 'lower',
          note: `${retarget.recipients} recipients copied`,
        },
        { case: `detail read, ${c}`, metric: 'p50', value: round(pct(0.5)), unit: 'ms', better: 'lower' },
        { case: `detail read, ${c}`, metric: 'p99', value: round(pct(0.99)), unit: 'ms', better: 'lower' },
      ];
    } finally {
      await daemon.stop();
    }
  },
});
