// Media benchmark (issue 16): 1,000 inbound images of 200 KB arriving at 50/s against the real daemon
// (node dist/main.js serve) with a fake Cloud API serving each image's lookup and bytes (bearer token
// required). Measures download throughput, the time from a delivery's 200 to its media `stored`
// (p50/p99) split into its two stages (200 → the message processed, which makes the media row; the
// row → stored), the daemon's peak RSS and whether RSS stays flat once warm (downloads stream to
// disk), and the webhook latency with downloads running against a second run with media.download off
// (the ingress ratio). The fake Cloud API runs in this process, on the same cores as the daemon, so it
// is kept cheap: each image's hash and size are computed before the daemon starts and its bytes are one
// copy of a shared buffer; completion is polled with a count, the rows read once at the end.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { toMetaJson } from '../../src/webhook/meta-json.js';
import { signBody } from '../../src/webhook/signature.js';
import { startFakeGraphApi } from '../../test/helpers/fake-graph-api.js';
import { type BenchRow, defineBenchmark } from '../lib/benchmark.js';
import { round } from '../lib/round.js';
import { freePort } from '../lib/server-process.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SECRET = 'bench_app_secret_0123456789abcdef';
const TOKEN = 'EAAbench_media_token_0123456789';
const IMAGE_BYTES = 200 * 1024;
const RATE = 50;

interface RunResult {
  ingress_ms: number[];
  stored_after_ms: number[];
  /** 200 → the media row made by the inbox processor (the message processed). */
  processed_after_ms: number[];
  /** The media row made → stored (queued, claimed, downloaded, written, committed). */
  row_to_stored_ms: number[];
  download_seconds: number;
  stored: number;
  failed: number;
  peak_rss_mb: number;
  rss_samples_mb: number[];
  /** V8 heap used (MiB), from the daemon's metrics every 2 s. */
  heap_samples_mb: number[];
  /** Memory outside the V8 heap that V8 tracks (Buffers' bytes among it), from the same scrape. */
  external_samples_mb: number[];
  /** This process's own CPU seconds over the run (the fake Cloud API and the load generator). */
  bench_cpu_seconds: number;
  /** The daemon's CPU seconds (user + system) from the first delivery until all media settled. */
  cpu_seconds: number;
  /** Event-loop delay p99 and max over the same span (prom-client's monitor, reset when scraped). */
  loop_p99_ms: number;
  loop_max_ms: number;
}

const ROOT_TOKEN = 'nwa_bench_root_token_0123456789abcdef';

/**
 * MEDIA_BENCH_DAEMON_ENV="KEY=VALUE KEY=VALUE": added to the daemon's environment, to run the same
 * benchmark with another allocator setting (MALLOC_ARENA_MAX=2, LD_PRELOAD=...libjemalloc.so.2) in A/B
 * pairs (bench/README.md, the media benchmark).
 */
function extraDaemonEnv(): Record<string, string> {
  const pairs = (process.env.MEDIA_BENCH_DAEMON_ENV ?? '').split(/\s+/).filter((p) => p.includes('='));
  return Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
}

/** utime + stime of a process, in seconds (clock ticks of 1/100 s on Linux). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

async function scrapeMetrics(url: string): Promise<string> {
  return fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ROOT_TOKEN}` } })
    .then((r) => r.text())
    .catch(() => '');
}

function metricValue(text: string, name: string): number {
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? 0);
}

function procKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function pct(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

const IMAGE_TAIL = Buffer.alloc(IMAGE_BYTES - 32, 7);

/**
 * A distinct 200 KB "image" per media id (the store is content-addressed: equal bytes would be one
 * file): the id's SHA-256 and a tail shared by all, made on each request so that this process does
 * not hold 200 MB.
 */
function imageBytes(id: string): Buffer {
  return Buffer.concat([createHash('sha256').update(id).digest(), IMAGE_TAIL], IMAGE_BYTES);
}

/** What the lookup declares, computed before the run so the fake API does not hash 200 KB per lookup. */
function imageSha256(id: string): string {
  return createHash('sha256').update(imageBytes(id)).digest('hex');
}

/** Medians of each sixth of the samples: where RSS levels off in a longer run (MEDIA_BENCH_IMAGES). */
function bySixth(samples: number[]): string {
  const sixth = Math.max(1, Math.floor(samples.length / 6));
  return Array.from({ length: 6 }, (_, i) => round(pct(samples.slice(i * sixth, (i + 1) * sixth), 50))).join(
    ', ',
  );
}

/** Median of the last third over the median of the middle third: the first third is warm-up. */
function lateOverMiddle(samples: number[]): { ratio: number; middle: number; late: number } {
  const third = Math.max(1, Math.floor(samples.length / 3));
  const middle = pct(samples.slice(third, 2 * third), 50);
  const late = pct(samples.slice(-third), 50);
  return { ratio: round(late / Math.max(0.001, middle)), middle: round(middle), late: round(late) };
}

async function runOnce(
  tmp: string,
  count: number,
  download: boolean,
  log: (m: string) => void,
): Promise<RunResult> {
  const graph = await startFakeGraphApi();
  graph.requireToken(TOKEN);
  const ids = Array.from({ length: count }, (_, i) => `bench-media-${download ? 'd' : 'n'}-${i}`);
  for (const id of ids) {
    graph.addMedia(id, {
      bytes: () => imageBytes(id),
      mime_type: 'image/jpeg',
      sha256: imageSha256(id),
      file_size: IMAGE_BYTES,
    });
  }
  const dir = path.join(tmp, download ? 'with' : 'without');
  const dbFile = path.join(dir, 'db.sqlite');
  const config = path.join(tmp, `config-${download}.json`);
  writeFileSync(config, JSON.stringify({ media: { dir: path.join(dir, 'media'), download } }));
  const port = await freePort();
  // MEDIA_BENCH_PROFILE=<dir>: the daemon runs under --cpu-prof and writes its profile there on exit.
  const profile = process.env.MEDIA_BENCH_PROFILE;
  const nodeArgs = profile
    ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profile, download ? 'with' : 'without')}`]
    : [];
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'dist/main.js'), 'serve'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      DATABASE_PATH: dbFile,
      CONFIG_PATH: config,
      WHATSAPP_APP_SECRET: SECRET,
      WHATSAPP_ACCESS_TOKEN: TOKEN,
      WHATSAPP_API_BASE_URL: graph.url,
      API_ROOT_TOKEN: ROOT_TOKEN,
      LOG_LEVEL: 'warn',
      ...extraDaemonEnv(),
    },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 30_000; ; ) {
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    if (res?.status === 200) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('daemon did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid as number;
  const rss: number[] = [];
  const sampler = setInterval(() => rss.push(procKb(pid, 'VmRSS') / 1024), 500);
  const heap: number[] = [];
  const external: number[] = [];
  const heapSampler = setInterval(async () => {
    const text = await scrapeMetrics(url);
    const used = metricValue(text, 'nwa_nodejs_heap_size_used_bytes');
    if (used > 0) heap.push(used / 2 ** 20);
    const outside = metricValue(text, 'nwa_nodejs_external_memory_bytes');
    if (outside > 0) external.push(outside / 2 ** 20);
  }, 2000);
  const memLog = profile
    ? setInterval(async () => {
        const text = await scrapeMetrics(url);
        const mib = (name: string) => Math.round(metricValue(text, name) / 2 ** 20);
        log(
          `rss ${round(procKb(pid, 'VmRSS') / 1024)} MiB, heap used ${mib('nwa_nodejs_heap_size_used_bytes')} of ${mib('nwa_nodejs_heap_size_total_bytes')}, external ${mib('nwa_nodejs_external_memory_bytes')}`,
        );
      }, 2000)
    : undefined;
  await scrapeMetrics(url); // resets the event-loop delay histogram: what follows is the run's
  const cpuAtStart = cpuSeconds(pid);
  const benchCpuAtStart = process.cpuUsage();
  const okAt = new Map<string, number>();
  const ingress: number[] = [];
  const started = Date.now();
  const posts: Promise<void>[] = [];
  for (const [i, id] of ids.entries()) {
    const due = started + (i * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const wa = `49151${String(i).padStart(8, '0')}`;
    const body = Buffer.from(
      toMetaJson({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: 'bench',
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: '15550000000', phone_number_id: 'sandbox' },
                  contacts: [{ wa_id: wa, profile: { name: 'Bench' } }],
                  messages: [
                    {
                      from: wa,
                      id: `wamid.bench.${id}`,
                      timestamp: String(Math.floor(Date.now() / 1000)),
                      type: 'image',
                      image: { id, mime_type: 'image/jpeg' },
                    },
                  ],
                },
              },
            ],
          },
        ],
      }),
    );
    const t0 = performance.now();
    posts.push(
      fetch(`${url}/webhooks/whatsapp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, SECRET) },
        body,
      }).then(async (res) => {
        await res.arrayBuffer();
        ingress.push(performance.now() - t0);
        if (res.status === 200) okAt.set(id, Date.now());
      }),
    );
  }
  await Promise.all(posts);
  log(`${download ? 'with' : 'without'} downloads: ${okAt.size} of ${count} deliveries answered 200`);
  const stored = new Map<string, { stored_at: number; created_at: number }>();
  let failed = 0;
  if (download) {
    const db = new SQLite(dbFile, { readonly: true });
    try {
      const settled = db.prepare("select count(*) as n from media where state != 'pending'");
      for (const deadline = Date.now() + 180_000; Date.now() < deadline; ) {
        if ((settled.get() as { n: number }).n >= count) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const rows = db
        .prepare("select media_id, state, stored_at, created_at from media where state != 'pending'")
        .all() as { media_id: string; state: string; stored_at: number | null; created_at: number }[];
      failed = rows.filter((r) => r.state !== 'stored').length;
      for (const r of rows) {
        if (r.state === 'stored' && r.stored_at)
          stored.set(r.media_id, { stored_at: r.stored_at, created_at: r.created_at });
      }
    } finally {
      db.close();
    }
  }
  const benchCpu = process.cpuUsage(benchCpuAtStart);
  clearInterval(sampler);
  clearInterval(heapSampler);
  clearInterval(memLog);
  const peak = procKb(pid, 'VmHWM') / 1024;
  const cpu = cpuSeconds(pid) - cpuAtStart;
  const metrics = await scrapeMetrics(url);
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  await graph.close();
  const storedTimes = [...stored.values()].map((s) => s.stored_at);
  const stages = [...stored.entries()].flatMap(([id, s]) => {
    const ok = okAt.get(id);
    return ok === undefined
      ? []
      : [{ total: s.stored_at - ok, processed: s.created_at - ok, row: s.stored_at - s.created_at }];
  });
  return {
    ingress_ms: ingress,
    stored_after_ms: stages.map((s) => s.total),
    processed_after_ms: stages.map((s) => s.processed),
    row_to_stored_ms: stages.map((s) => s.row),
    download_seconds: storedTimes.length ? (Math.max(...storedTimes) - started) / 1000 : 0,
    stored: stored.size,
    failed,
    peak_rss_mb: round(peak),
    rss_samples_mb: rss.map(round),
    heap_samples_mb: heap.map(round),
    external_samples_mb: external.map(round),
    bench_cpu_seconds: (benchCpu.user + benchCpu.system) / 1e6,
    cpu_seconds: cpu,
    loop_p99_ms: metricValue(metrics, 'nwa_nodejs_eventloop_lag_p99_seconds') * 1000,
    loop_max_ms: metricValue(metrics, 'nwa_nodejs_eventloop_lag_max_seconds') * 1000,
  };
}

export default defineBenchmark({
  name: 'media',
  description: `inbound images of ${IMAGE_BYTES / 1024} KB at ${RATE}/s: download throughput, 200→stored, peak RSS, ingress with vs without downloads`,
  async run(ctx) {
    // MEDIA_BENCH_IMAGES: a longer run, to see where RSS levels off (bench/README.md, the media benchmark).
    const count = Number(process.env.MEDIA_BENCH_IMAGES) || (ctx.quick ? 200 : 1000);
    const without = await runOnce(ctx.tmpDir, count, false, ctx.log);
    const withDl = await runOnce(ctx.tmpDir, count, true, ctx.log);
    const mb = (withDl.stored * IMAGE_BYTES) / 2 ** 20;
    // Flat: the median RSS of the run's last third over that of its middle third. The first third is
    // warm-up and left out: code compiled, modules loaded lazily, the heap and SQLite's page cache
    // growing to their working size. A leak, or bytes held per download, grows on through the last
    // two thirds (1,000 images are 200 MB: buffering even a tenth of them would show). The same
    // ratio without downloads is the baseline, and the heap used tells a leak of JS objects from
    // garbage and freed buffers the allocator keeps (which come and go with GC).
    const rssFlat = lateOverMiddle(withDl.rss_samples_mb);
    const rssFlatWithout = lateOverMiddle(without.rss_samples_mb);
    const heapFlat = lateOverMiddle(withDl.heap_samples_mb);
    const externalFlat = lateOverMiddle(withDl.external_samples_mb);
    const rows: BenchRow[] = [
      {
        case: `${count} images, ${RATE}/s`,
        metric: 'stored',
        value: withDl.stored,
        unit: 'images',
        note: `${withDl.failed} failed`,
      },
      {
        case: `${count} images, ${RATE}/s`,
        metric: 'download throughput',
        value: round(withDl.stored / Math.max(0.001, withDl.download_seconds)),
        unit: 'images/s',
        better: 'higher',
        note: `${round(mb / Math.max(0.001, withDl.download_seconds))} MiB/s`,
      },
      {
        case: `${count} images, ${RATE}/s`,
        metric: '200 → stored p50',
        value: round(pct(withDl.stored_after_ms, 50)),
        unit: 'ms',
        better: 'lower',
      },
      {
        case: `${count} images, ${RATE}/s`,
        metric: '200 → stored p99',
        value: round(pct(withDl.stored_after_ms, 99)),
        unit: 'ms',
        better: 'lower',
      },
      {
        case: `${count} images, ${RATE}/s`,
        metric: '200 → message processed (media row made) p50 / p99',
        value: round(pct(withDl.processed_after_ms, 50)),
        unit: 'ms',
        better: 'lower',
        note: `p99 ${round(pct(withDl.processed_after_ms, 99))} ms`,
      },
      {
        case: `${count} images, ${RATE}/s`,
        metric: 'media row made → stored p50 / p99',
        value: round(pct(withDl.row_to_stored_ms, 50)),
        unit: 'ms',
        better: 'lower',
        note: `p99 ${round(pct(withDl.row_to_stored_ms, 99))} ms`,
      },
      {
        case: `${count} images, ${RATE}/s`,
        metric: 'peak RSS (VmHWM)',
        value: withDl.peak_rss_mb,
        unit: 'MiB',
        better: 'lower',
        note: `without downloads ${without.peak_rss_mb} MiB`,
      },
      {
        case: `${count} images, ${RATE}/s`,
        metric: 'RSS median, last third / middle third (first third = warm-up)',
        value: rssFlat.ratio,
        unit: 'ratio',
        better: 'lower',
        note: `${rssFlat.middle} → ${rssFlat.late} MiB; ${rssFlat.ratio <= 1.05 ? 'flat' : 'NOT flat'} (≤ 1.05); without downloads ${rssFlatWithout.ratio} (${rssFlatWithout.middle} → ${rssFlatWithout.late} MiB); heap used ${heapFlat.middle} → ${heapFlat.late} MiB, external ${externalFlat.middle} → ${externalFlat.late} MiB${count > 1000 ? `; by sixth: RSS ${bySixth(withDl.rss_samples_mb)} MiB, heap used ${bySixth(withDl.heap_samples_mb)} MiB` : ''}${process.env.MEDIA_BENCH_DAEMON_ENV ? `; daemon env ${process.env.MEDIA_BENCH_DAEMON_ENV}` : ''}`,
      },
      {
        case: 'webhook 200 p50 with downloads',
        metric: 'latency',
        value: round(pct(withDl.ingress_ms, 50)),
        unit: 'ms',
        baseline: 'without downloads',
        ratio: round(pct(withDl.ingress_ms, 50) / Math.max(0.001, pct(without.ingress_ms, 50))),
        better: 'lower',
      },
      {
        case: 'webhook 200 p99 with downloads',
        metric: 'latency',
        value: round(pct(withDl.ingress_ms, 99)),
        unit: 'ms',
        baseline: 'without downloads',
        ratio: round(pct(withDl.ingress_ms, 99) / Math.max(0.001, pct(without.ingress_ms, 99))),
        better: 'lower',
      },
      {
        case: `${count} images, ${RATE}/s`,
        metric: 'daemon CPU per image for downloading',
        value: round(((withDl.cpu_seconds - without.cpu_seconds) * 1000) / count),
        unit: 'ms',
        better: 'lower',
        note: `CPU ${round(withDl.cpu_seconds)} s with downloads, ${round(without.cpu_seconds)} s without; this process (fake Cloud API, load) ${round(withDl.bench_cpu_seconds)} s with, ${round(without.bench_cpu_seconds)} s without`,
      },
      {
        case: 'event-loop delay p99 with downloads',
        metric: 'delay',
        value: round(withDl.loop_p99_ms),
        unit: 'ms',
        baseline: 'without downloads',
        ratio: round(withDl.loop_p99_ms / Math.max(0.001, without.loop_p99_ms)),
        better: 'lower',
        note: `max ${round(withDl.loop_max_ms)} ms (without: p99 ${round(without.loop_p99_ms)}, max ${round(without.loop_max_ms)})`,
      },
      {
        case: 'webhook 200 without downloads',
        metric: 'latency p50 / p99',
        value: round(pct(without.ingress_ms, 50)),
        unit: 'ms',
        note: `p99 ${round(pct(without.ingress_ms, 99))} ms`,
      },
    ];
    return rows;
  },
});
