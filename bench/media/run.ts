// Media benchmark (issue 16): 1,000 inbound images of 200 KB arriving at 50/s against the real daemon
// (node dist/main.js serve) with a fake Cloud API serving each image's lookup and bytes (bearer token
// required). Measures download throughput, the time from a delivery's 200 to its media `stored`
// (p50/p99) split into its two stages (200 → the message processed, which makes the media row; the
// row → stored), the daemon's peak RSS and whether RSS stays flat once warm (downloads stream to
// disk), and the webhook latency with downloads running against a second run with media.download off
// (the ingress ratio); then streaming directly: peak RSS with 150 images of 2 MB against 150 of 200 KB at
// 10/s, as the daemon runs and with a full GC forced every 100 ms (measureStreaming). The fake Cloud API
// runs in this process, on the same cores as the daemon, so it is kept cheap: each image's hash and size
// are computed before the daemon starts and its bytes are one copy of a shared buffer; completion is
// polled with a count, the rows read once at the end.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
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
/**
 * The streaming case (issue 16): the same deliveries with images 10× larger, fewer and slower so the
 * run stays short, against 200 KB images at that same count and rate. A daemon that held a download
 * whole would hold up to media.concurrency of them at once (4 × 2 MB); one that streams holds a few
 * 64 KiB chunks per download whatever the size, so what it references does not follow the image size
 * (its garbage between two GCs does follow the bytes per second: measureStreaming).
 */
const LARGE_IMAGE_BYTES = 2 * 1024 * 1024;
const STREAMING_RATE = 10;
/** media.concurrency's default (config/schema.ts): the downloads in flight at once. */
const DOWNLOAD_CONCURRENCY = 4;

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
  /** V8 heap committed (MiB), the same scrape: the part of RSS the heap holds, garbage included. */
  heap_total_samples_mb: number[];
  /** Memory outside the V8 heap that V8 tracks (Buffers' bytes among it), from the same scrape. */
  external_samples_mb: number[];
  /** This process's own CPU seconds over the run (the fake Cloud API and the load generator). */
  bench_cpu_seconds: number;
  /** The daemon's CPU seconds (user + system) from the first delivery until all media settled. */
  cpu_seconds: number;
  /** Event-loop delay p99 and max over the same span (prom-client's monitor, reset when scraped). */
  loop_p99_ms: number;
  loop_max_ms: number;
  /** The database file and its WAL at the end of the run (MiB): what SQLite's page cache can hold at most. */
  db_mb: number;
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

const IMAGE_TAILS = new Map<number, Buffer>();

/**
 * A distinct "image" of `size` bytes per media id (the store is content-addressed: equal bytes would
 * be one file): the id's SHA-256 and a tail shared by all of that size, made on each request so that
 * this process does not hold 200 MB.
 */
function imageBytes(id: string, size: number): Buffer {
  let tail = IMAGE_TAILS.get(size);
  if (!tail) {
    tail = Buffer.alloc(size - 32, 7);
    IMAGE_TAILS.set(size, tail);
  }
  return Buffer.concat([createHash('sha256').update(id).digest(), tail], size);
}

/** What the lookup declares, computed before the run so the fake API does not hash an image per lookup. */
function imageSha256(id: string, size: number): string {
  return createHash('sha256').update(imageBytes(id, size)).digest('hex');
}

/** Medians of each sixth of the samples: where RSS levels off in a longer run (MEDIA_BENCH_IMAGES). */
function bySixth(samples: number[]): string {
  const sixth = Math.max(1, Math.floor(samples.length / 6));
  return Array.from({ length: 6 }, (_, i) => round(pct(samples.slice(i * sixth, (i + 1) * sixth), 50))).join(
    ', ',
  );
}

/** A difference with its sign: +3.2, -1.5. */
function signed(n: number): string {
  return `${n >= 0 ? '+' : ''}${n}`;
}

/** Median of the last third over the median of the middle third: the first third is warm-up. */
function lateOverMiddle(samples: number[]): { ratio: number; middle: number; late: number } {
  const third = Math.max(1, Math.floor(samples.length / 3));
  const middle = pct(samples.slice(third, 2 * third), 50);
  const late = pct(samples.slice(-third), 50);
  return { ratio: round(late / Math.max(0.001, middle)), middle: round(middle), late: round(late) };
}

interface RunShape {
  /** Names the run's directory, media ids and profile folder. */
  label: string;
  count: number;
  /** Deliveries per second. */
  rate: number;
  imageBytes: number;
  download: boolean;
  /** The fake Cloud API sends each image in chunks of this size, `chunkDelayMs` apart. */
  chunkBytes?: number;
  chunkDelayMs?: number;
  /**
   * A full GC forced every 100 ms in the daemon (bench/media/forced-gc.mjs): its RSS then follows
   * what is still referenced, not the garbage V8 lets build up between its own collections.
   */
  forcedGc?: boolean;
}

async function runOnce(tmp: string, shape: RunShape, log: (m: string) => void): Promise<RunResult> {
  const { label, count, rate, download } = shape;
  const size = shape.imageBytes;
  const graph = await startFakeGraphApi();
  graph.requireToken(TOKEN);
  const ids = Array.from({ length: count }, (_, i) => `bench-media-${label}-${i}`);
  for (const id of ids) {
    graph.addMedia(id, {
      bytes: () => imageBytes(id, size),
      mime_type: 'image/jpeg',
      sha256: imageSha256(id, size),
      file_size: size,
      ...(shape.chunkBytes ? { chunkBytes: shape.chunkBytes, chunkDelayMs: shape.chunkDelayMs } : {}),
    });
  }
  const dir = path.join(tmp, label);
  const dbFile = path.join(dir, 'db.sqlite');
  const config = path.join(tmp, `config-${label}.json`);
  writeFileSync(config, JSON.stringify({ media: { dir: path.join(dir, 'media'), download } }));
  const port = await freePort();
  const extra = extraDaemonEnv();
  // MEDIA_BENCH_DAEMON_ENV may set NODE_OPTIONS too: the preload is added to it.
  const gcEnv = shape.forcedGc
    ? {
        NODE_OPTIONS: [
          extra.NODE_OPTIONS,
          `--import=${pathToFileURL(path.join(ROOT, 'bench/media/forced-gc.mjs')).href}`,
        ]
          .filter(Boolean)
          .join(' '),
      }
    : {};
  // MEDIA_BENCH_PROFILE=<dir>: the daemon runs under --cpu-prof and writes its profile there on exit.
  const profile = process.env.MEDIA_BENCH_PROFILE;
  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profile, label)}`] : [];
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
      ...extra,
      ...gcEnv,
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
  const heapTotal: number[] = [];
  const external: number[] = [];
  const heapSampler = setInterval(async () => {
    const text = await scrapeMetrics(url);
    const used = metricValue(text, 'nwa_nodejs_heap_size_used_bytes');
    if (used > 0) heap.push(used / 2 ** 20);
    const total = metricValue(text, 'nwa_nodejs_heap_size_total_bytes');
    if (total > 0) heapTotal.push(total / 2 ** 20);
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
    const due = started + (i * 1000) / rate;
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
  log(`${label}: ${okAt.size} of ${count} deliveries answered 200`);
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
  const fileMb = (f: string) => {
    try {
      return statSync(f).size / 2 ** 20;
    } catch {
      return 0;
    }
  };
  const dbMb = fileMb(dbFile) + fileMb(`${dbFile}-wal`);
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
    heap_total_samples_mb: heapTotal.map(round),
    external_samples_mb: external.map(round),
    bench_cpu_seconds: (benchCpu.user + benchCpu.system) / 1e6,
    cpu_seconds: cpu,
    loop_p99_ms: metricValue(metrics, 'nwa_nodejs_eventloop_lag_p99_seconds') * 1000,
    loop_max_ms: metricValue(metrics, 'nwa_nodejs_eventloop_lag_max_seconds') * 1000,
    db_mb: round(dbMb),
  };
}

/**
 * Streaming (issue 16): the daemon's peak RSS with 2 MB images against 200 KB images, the same count
 * and rate, every download completed; as the daemon runs, and (two pairs) with a full GC forced every
 * 100 ms (bench/media/forced-gc.mjs). As it runs, 10× the bytes per second leave 10× the body
 * chunks waiting for V8's next collection, so RSS rises with the bytes per second even when nothing
 * is held. With the forced GC only what is referenced counts: holding the downloads in flight whole
 * would add media.concurrency × (2 MB − 200 KB) at the least, streaming adds nothing.
 */
async function measureStreaming(tmp: string, count: number, log: (m: string) => void): Promise<BenchRow[]> {
  // Served at 64 KiB per 10 ms (6.4 MB/s a download, as from a remote CDN, not loopback): a 2 MB image
  // takes a third of a second, so at 10/s the downloads overlap up to media.concurrency, and a daemon
  // holding each until its last byte would hold several at once.
  const shape = { count, rate: STREAMING_RATE, download: true, chunkBytes: 64 * 1024, chunkDelayMs: 10 };
  const large = await runOnce(tmp, { ...shape, label: 'large', imageBytes: LARGE_IMAGE_BYTES }, log);
  const small = await runOnce(tmp, { ...shape, label: 'small', imageBytes: IMAGE_BYTES }, log);
  // Two forced-GC pairs, alternated: on a loaded box one run's peak can catch a burst (a GC delayed
  // by a starved event loop: +15 MiB once in five pairs), and holding images whole shows in every
  // pair, so the verdict takes the pair with the smaller gain.
  const gcPairs: { large: RunResult; small: RunResult }[] = [];
  for (const pass of [1, 2]) {
    const large = await runOnce(
      tmp,
      { ...shape, label: `large-gc-${pass}`, imageBytes: LARGE_IMAGE_BYTES, forcedGc: true },
      log,
    );
    const small = await runOnce(
      tmp,
      { ...shape, label: `small-gc-${pass}`, imageBytes: IMAGE_BYTES, forcedGc: true },
      log,
    );
    gcPairs.push({ large, small });
  }
  const runs = [large, small, ...gcPairs.flatMap((p) => [p.large, p.small])];
  const allStored = runs.every((r) => r.stored === count);
  const heldWhole = round((DOWNLOAD_CONCURRENCY * (LARGE_IMAGE_BYTES - IMAGE_BYTES)) / 2 ** 20);
  const gain = round(large.peak_rss_mb - small.peak_rss_mb);
  const gcGains = gcPairs.map((p) => round(p.large.peak_rss_mb - p.small.peak_rss_mb));
  const gcGain = Math.min(...gcGains);
  const best = gcPairs[gcGains.indexOf(gcGain)] as { large: RunResult; small: RunResult };
  const streams = allStored && gcGain < heldWhole;
  const caseName = `${count} images of ${LARGE_IMAGE_BYTES / 2 ** 20} MB, ${STREAMING_RATE}/s`;
  const baseline = `${count} images of ${IMAGE_BYTES / 1024} KB, ${STREAMING_RATE}/s`;
  const externalMax = (r: RunResult) => round(Math.max(0, ...r.external_samples_mb));
  return [
    {
      case: caseName,
      metric: 'stored',
      value: large.stored,
      unit: 'images',
      note: `of ${count} in each of 6 runs (2 MB, 200 KB; then twice each with a forced GC): ${runs.map((r) => r.stored).join(', ')} stored, ${runs.map((r) => r.failed).join(', ')} failed${allStored ? '' : '; NOT all stored: the peak RSS comparison does not hold'}; 2 MB: 200 → stored p50 ${round(pct(large.stored_after_ms, 50))} ms (${round(pct(small.stored_after_ms, 50))} at 200 KB), ${round((large.stored * LARGE_IMAGE_BYTES) / 2 ** 20 / Math.max(0.001, large.download_seconds))} MiB/s`,
    },
    {
      case: caseName,
      metric: 'peak RSS (VmHWM)',
      value: large.peak_rss_mb,
      unit: 'MiB',
      baseline,
      ratio: round(large.peak_rss_mb / Math.max(0.001, small.peak_rss_mb)),
      better: 'lower',
      note: `${IMAGE_BYTES / 1024} KB: ${small.peak_rss_mb} MiB, ${signed(gain)} MiB for 10× the bytes per image and per second; V8 external memory max ${externalMax(large)} MiB (${externalMax(small)} at ${IMAGE_BYTES / 1024} KB, sampled every 2 s): body chunks waiting for a GC, see the row with a forced GC`,
    },
    {
      case: `${caseName}, full GC every 100 ms`,
      metric: 'peak RSS (VmHWM), what is referenced',
      value: best.large.peak_rss_mb,
      unit: 'MiB',
      baseline: `${baseline}, full GC every 100 ms`,
      ratio: round(best.large.peak_rss_mb / Math.max(0.001, best.small.peak_rss_mb)),
      better: 'lower',
      note: `${IMAGE_BYTES / 1024} KB: ${best.small.peak_rss_mb} MiB, ${signed(gcGain)} MiB (the smaller of two alternated pairs: ${gcGains.map(signed).join(', ')} MiB); ${streams ? 'streams' : 'NOT shown to stream'} (< ${heldWhole} MiB, the ${DOWNLOAD_CONCURRENCY} downloads in flight held whole)`,
    },
  ];
}

export default defineBenchmark({
  name: 'media',
  description: `inbound images of ${IMAGE_BYTES / 1024} KB at ${RATE}/s: download throughput, 200→stored, peak RSS, ingress with vs without downloads; peak RSS at ${LARGE_IMAGE_BYTES / 2 ** 20} MB vs ${IMAGE_BYTES / 1024} KB images (streaming)`,
  async run(ctx) {
    // MEDIA_BENCH_IMAGES: a longer run, to see where RSS levels off (bench/README.md, the media benchmark).
    const count = Number(process.env.MEDIA_BENCH_IMAGES) || (ctx.quick ? 200 : 1000);
    // MEDIA_BENCH_STREAMING_IMAGES: the count of each streaming run (2 MB and 200 KB, at 10/s).
    // MEDIA_BENCH_STREAMING_IMAGES=0 leaves the streaming runs out (a long MEDIA_BENCH_IMAGES run).
    const streamingEnv = process.env.MEDIA_BENCH_STREAMING_IMAGES;
    const streamingCount = streamingEnv === undefined ? (ctx.quick ? 50 : 150) : Number(streamingEnv);
    const main = { count, rate: RATE, imageBytes: IMAGE_BYTES };
    const without = await runOnce(ctx.tmpDir, { ...main, label: 'without', download: false }, ctx.log);
    const withDl = await runOnce(ctx.tmpDir, { ...main, label: 'with', download: true }, ctx.log);
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
    const heapTotalFlat = lateOverMiddle(withDl.heap_total_samples_mb);
    const heapTotalFlatWithout = lateOverMiddle(without.heap_total_samples_mb);
    // The rule above counts every byte RSS gains, but the same deliveries without downloads gain too:
    // each comes from a new customer (a conversation, a contact, a message: the database grows, and
    // with it SQLite's page cache and the allocator's arenas). The downloads' own part is the
    // difference of the two gains, in MiB.
    const growth = round(rssFlat.late - rssFlat.middle);
    const growthWithout = round(rssFlatWithout.late - rssFlatWithout.middle);
    const growthFromDownloads = round(growth - growthWithout);
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
        note: `${rssFlat.middle} → ${rssFlat.late} MiB; ${rssFlat.ratio <= 1.05 ? 'flat' : 'NOT flat'} (≤ 1.05; counts the database's growth too: see the downloads' own growth); without downloads ${rssFlatWithout.ratio} (${rssFlatWithout.middle} → ${rssFlatWithout.late} MiB); heap used ${heapFlat.middle} → ${heapFlat.late} MiB, heap committed ${heapTotalFlat.middle} → ${heapTotalFlat.late} MiB (without downloads ${heapTotalFlatWithout.middle} → ${heapTotalFlatWithout.late}), external ${externalFlat.middle} → ${externalFlat.late} MiB${count > 1000 ? `; by sixth: RSS ${bySixth(withDl.rss_samples_mb)} MiB, heap used ${bySixth(withDl.heap_samples_mb)} MiB; without downloads RSS ${bySixth(without.rss_samples_mb)} MiB` : ''}; database ${withDl.db_mb} MiB at the end${process.env.MEDIA_BENCH_DAEMON_ENV ? `; daemon env ${process.env.MEDIA_BENCH_DAEMON_ENV}` : ''}`,
      },
      {
        case: `${count} images, ${RATE}/s`,
        metric: 'RSS growth middle → last third from downloads (with less without)',
        value: growthFromDownloads,
        unit: 'MiB',
        better: 'lower',
        note: `with downloads ${signed(growth)} MiB (ratio ${rssFlat.ratio}), without ${signed(growthWithout)} MiB (ratio ${rssFlatWithout.ratio}), the same deliveries; ${count * IMAGE_BYTES >= 2 ** 30 ? `${round((count * IMAGE_BYTES) / 2 ** 30)} GiB` : `${round((count * IMAGE_BYTES) / 2 ** 20)} MiB`} downloaded`,
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
    if (streamingCount > 0) rows.push(...(await measureStreaming(ctx.tmpDir, streamingCount, ctx.log)));
    return rows;
  },
});
