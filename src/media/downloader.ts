// The media downloader (SPEC §12): a background service that claims pending media rows from the
// database (one statement, an owner and a lease), resolves each media id, streams its bytes to a
// temporary file while counting and hashing them, checks type, size and SHA-256, renames the file
// into the content-addressed store and marks the row stored, then keeps the total under the quota
// (oldest first out). No network call ever waits inside a transaction; a failure is a state and a
// reason on the row, never a partial file; retryable failures come back with backoff.
// Claims and outcomes commit without an fsync of their own (withRedoableTransaction): a commit lost to
// a power cut only makes a download run again (the row is still pending, the file is whole or
// absent), while an fsync per download blocked the event loop ~3 ms each and halved throughput and
// webhook latency (bench/media). Eviction, which removes files, commits durably before it removes.
// Outcomes of downloads that end close together share one transaction (each in its own savepoint, so
// one that fails fails alone), and claims wait for half the slots to be free: fewer commits, and each
// page of the media table written once per batch instead of once per download.
// Over 300 lines: the claim, the download with its checks and the quota are one lease's lifetime;
// the source, storage, policy and problems are already in their own files.
// Over 300 lines on purpose: one download from claim to stored file (and its failure states) reads top to bottom here; storage, quota and sandbox files are their own modules.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { recordEvent } from '../events/record-event.js';
import type { Clock } from '../lib/clock.js';
import type { IdSource, RandomSource } from '../lib/ids.js';
import { createWakeLoop } from '../lib/wake-loop.js';
import type { Metrics } from '../observability/metrics.js';
import { planRetry, unitRandomFrom } from '../outbound/backoff.js';
import type { Db } from '../store/db.js';
import { type MediaRow, mediaRepo } from '../store/media-repo.js';
import { withRedoableTransaction, withSavepoint, withTransaction } from '../store/transactions.js';
import { createGraphMediaSource, type MediaSource, networkProblem } from './graph-media-source.js';
import { baseMime, isMediaKind, mimeAllowed, sha256Hex, sizeLimit } from './media-policy.js';
import { MediaProblem } from './media-problem.js';
import { createSandboxMediaSource } from './sandbox-media-source.js';
import { createMediaStorage, type MediaStorage } from './storage.js';

export interface MediaDownloaderDeps {
  db: Db;
  clock: Clock;
  ids: IdSource;
  random: RandomSource;
  logger: Logger;
  metrics: Metrics;
  config: () => Config;
  /** Who holds the leases this process takes (stable across restarts of one install). */
  owner: string;
  paused?: () => boolean;
  /** Called after a media row was stored (the event log, once there is one, hears of it here). */
  onStored?: (row: MediaRow) => void;
  pollMs?: number;
}

export interface MediaDownloader {
  name: string;
  start(): Promise<void>;
  stop(deadline: number): Promise<void>;
  wake(): void;
  /** Downloads until nothing is due and nothing runs (tests, tools). */
  drain(timeoutMs?: number): Promise<void>;
  storage(): MediaStorage;
  source(): MediaSource;
  /** Expires stored media past media.retention; returns how many. */
  sweepRetention(): Promise<number>;
}

const SWEEP_EVERY_MS = 60_000;
const EVICT_BATCH = 100;
/** Most outcomes written in one transaction. */
const OUTCOME_BATCH = 64;

interface PendingOutcome {
  apply: (trx: Db) => Promise<boolean>;
  resolve: (applied: boolean) => void;
  reject: (err: unknown) => void;
}

export function createMediaDownloader(deps: MediaDownloaderDeps): MediaDownloader {
  const log = deps.logger.child({ module: 'media' });
  const unit = unitRandomFrom(deps.random);
  const results = deps.metrics.counter(
    'nwa_media_downloads_total',
    'Media downloads by outcome (stored, retry, failed) and error code',
    ['outcome', 'code'],
  );
  const storage = createMediaStorage(deps.config().media.dir);
  let source = makeSource(deps.config());
  let sourceFor = deps.config().channels;
  const running = new Map<string, Promise<void>>();
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let lastSweep = Number.NEGATIVE_INFINITY;
  // Bytes stored, as last counted plus what this process stored since: an upper bound (a content
  // stored twice counts twice) that saves an aggregate over every stored row per download. Counted
  // exactly again when it passes the quota and at each sweep (other instances store too).
  let storedEstimate: number | undefined;
  const outcomes: PendingOutcome[] = [];
  let writingOutcomes = false;

  function makeSource(config: Config): MediaSource {
    const ch = config.channels;
    if (ch.access_token) {
      return createGraphMediaSource({
        baseUrl: ch.api_base_url,
        version: ch.api_version,
        accessToken: ch.access_token,
      });
    }
    return createSandboxMediaSource({ nextId: () => deps.ids.next() });
  }

  function currentSource(): MediaSource {
    const config = deps.config();
    if (config.channels !== sourceFor) {
      const a = config.channels;
      const b = sourceFor;
      if (
        a.access_token !== b.access_token ||
        a.api_base_url !== b.api_base_url ||
        a.api_version !== b.api_version
      )
        source = makeSource(config);
      sourceFor = config.channels;
    }
    return source;
  }

  async function runOnce(): Promise<void> {
    for (;;) {
      if (stopped || deps.paused?.() === true) return;
      const config = deps.config();
      if (!config.media.download) return;
      const now = deps.clock.now();
      if (now - lastSweep >= SWEEP_EVERY_MS) {
        lastSweep = now;
        await sweepRetention();
      }
      const room = config.media.concurrency - running.size;
      // While downloads run, claim once half the slots are free: one claim for several rows.
      if (room <= 0 || (running.size > 0 && room < Math.ceil(config.media.concurrency / 2))) return;
      const rows = await withRedoableTransaction(deps.db, (trx) =>
        mediaRepo.claimDue(trx, deps.owner, now, now + config.media.lease, room),
      );
      if (rows.length === 0) return;
      for (const row of rows) {
        const job = download(row)
          .catch((err) =>
            log.error(
              { event: 'media.job_failed', err, media_id: row.media_id },
              'media download job failed',
            ),
          )
          .finally(() => {
            running.delete(row.id);
            loop.wake();
          });
        running.set(row.id, job);
      }
    }
  }

  async function download(row: MediaRow): Promise<void> {
    const config = deps.config().media;
    const src = currentSource();
    // Not AbortSignal.timeout: its timer keeps the signal, and through the request's abort listener
    // the request and its response, reachable for the full download_timeout after the download
    // ended; at 50 downloads/s that is a minute of responses held. This timer is cleared at the end.
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException('the media download timed out', 'TimeoutError')),
      config.download_timeout,
    );
    const signal = controller.signal;
    let tmp: string | undefined;
    try {
      if (!isMediaKind(row.media_type)) {
        throw new MediaProblem('type_not_allowed', `media type ${row.media_type} is not downloaded`, false);
      }
      const kind = row.media_type;
      const limit = Math.min(sizeLimit(kind, config), config.max_total_bytes);
      let resolved = await src.resolve(row.media_id, signal, kind);
      const mime = baseMime(resolved.mime_type) ?? baseMime(row.mime_type);
      if (!mimeAllowed(kind, mime)) {
        throw new MediaProblem(
          'type_not_allowed',
          `${mime ?? 'an unknown type'} is not allowed for ${kind}`,
          false,
        );
      }
      if (resolved.file_size !== null && resolved.file_size > limit) {
        throw tooLarge(kind, `declared ${resolved.file_size} bytes`, limit);
      }
      let body: Awaited<ReturnType<MediaSource['fetch']>>;
      try {
        body = await src.fetch(resolved, signal);
      } catch (err) {
        // The url lives for minutes: once expired (or refused), ask Meta for a fresh one, once.
        if (!(err instanceof MediaProblem && err.code === 'url_expired')) throw err;
        resolved = await src.resolve(row.media_id, signal, kind);
        body = await src.fetch(resolved, signal);
      }
      if (body.content_length !== null && body.content_length > limit) {
        await cancel(body.stream);
        throw tooLarge(kind, `${body.content_length} bytes announced`, limit);
      }
      let written: Awaited<ReturnType<MediaStorage['writeTemp']>>;
      try {
        written = await storage.writeTemp(deps.owner, body.stream, limit);
      } catch (err) {
        if (err instanceof MediaProblem && err.code === 'too_large')
          throw tooLarge(kind, 'while receiving', limit);
        throw signal.aborted
          ? networkProblem(signal.reason, 'the media download')
          : networkProblem(err, 'the media download');
      }
      tmp = written.tmp;
      const expected = sha256Hex(resolved.sha256) ?? sha256Hex(row.declared_sha256);
      if (expected !== null && expected !== written.sha256) {
        throw new MediaProblem(
          'sha256_mismatch',
          'the bytes received do not match the SHA-256 Meta gave',
          false,
        );
      }
      await storage.commit(written.tmp, written.sha256);
      tmp = undefined;
      await settleStored(row, written.sha256, written.size, mime);
    } catch (err) {
      if (tmp) await storage.discard(tmp);
      const problem =
        err instanceof MediaProblem
          ? err
          : networkProblem(signal.aborted ? signal.reason : err, 'the media download');
      await settleProblem(row, problem);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Writes one download's outcome: at once when no write is going on, else with the others that
   * arrive meanwhile, in one transaction (a group commit), each in a savepoint of its own.
   */
  function commitOutcome(apply: (trx: Db) => Promise<boolean>): Promise<boolean> {
    return new Promise((resolve, reject) => {
      outcomes.push({ apply, resolve, reject });
      if (!writingOutcomes) {
        writingOutcomes = true;
        void writeOutcomes();
      }
    });
  }

  async function writeOutcomes(): Promise<void> {
    for (;;) {
      const batch = outcomes.splice(0, OUTCOME_BATCH);
      if (batch.length === 0) {
        writingOutcomes = false;
        return;
      }
      const settled: { ok: boolean; value?: boolean; err?: unknown }[] = [];
      try {
        await withRedoableTransaction(deps.db, async (trx) => {
          settled.length = 0; // run again after a deadlock: the first run's results were rolled back
          for (const o of batch) {
            try {
              settled.push({ ok: true, value: await withSavepoint(trx, 'media_outcome', o.apply) });
            } catch (err) {
              settled.push({ ok: false, err });
            }
          }
        });
      } catch (err) {
        // The transaction itself failed (the commit): nothing of the batch was written.
        for (const o of batch) o.reject(err);
        continue;
      }
      batch.forEach((o, i) => {
        const r = settled[i];
        if (r?.ok) o.resolve(r.value === true);
        else o.reject(r?.err);
      });
    }
  }

  async function settleStored(row: MediaRow, sha: string, size: number, mime: string | null): Promise<void> {
    const ok = await commitOutcome(async (trx) => {
      const now = deps.clock.now();
      const ok = await mediaRepo.markStored(
        trx,
        row.id,
        deps.owner,
        { content_sha256: sha, size_bytes: size, mime_type: mime },
        now,
      );
      if (!ok) return false;
      await recordEvent(
        trx,
        {
          type: 'media.stored',
          conversation_id: row.conversation_id,
          data: {
            wamid: row.message_wamid,
            media_id: row.media_id,
            media_type: row.media_type,
            mime_type: mime,
            size_bytes: size,
            sha256: sha,
          },
        },
        { ids: deps.ids, now },
      );
      return true;
    });
    if (!ok) {
      // The lease ran out and someone else took the row: keep the file only if a stored row uses it.
      await removeUnused([sha]);
      return;
    }
    await keepUnderQuota(row.id, size);
    results.inc({ outcome: 'stored', code: 'none' });
    log.info(
      { event: 'media.stored', media_id: row.media_id, message_wamid: row.message_wamid, size_bytes: size },
      `media ${row.media_id} stored (${size} bytes)`,
    );
    deps.onStored?.({ ...row, state: 'stored', content_sha256: sha, size_bytes: size, mime_type: mime });
  }

  async function settleProblem(row: MediaRow, problem: MediaProblem): Promise<void> {
    const config = deps.config().media;
    const failure = { error: problem.code, reason: problem.message };
    const policy = { baseMs: config.retry_base_delay, maxMs: 60 * 60_000, maxAttempts: config.max_attempts };
    const now = deps.clock.now();
    const plan = problem.retryable ? planRetry(row.attempts, now, policy, unit) : ({ retry: false } as const);
    await commitOutcome(async (trx) => {
      if (plan.retry) await mediaRepo.retryLater(trx, row.id, deps.owner, plan.retryAt, failure, now);
      else await mediaRepo.markFailed(trx, row.id, deps.owner, failure, now);
      return true;
    });
    results.inc({ outcome: plan.retry ? 'retry' : 'failed', code: problem.code });
    const ids = {
      media_id: row.media_id,
      message_wamid: row.message_wamid,
      code: problem.code,
      attempts: row.attempts,
    };
    if (plan.retry) {
      log.warn(
        { event: 'media.retry', ...ids, retry_at: plan.retryAt },
        `media download failed (${problem.message}); retrying`,
      );
    } else {
      log.warn({ event: 'media.failed', ...ids }, `media download failed: ${problem.message}`);
    }
  }

  /** After `size` more bytes were stored: evicts (durably, then removes files) once over the quota. */
  async function keepUnderQuota(keepId: string, size: number): Promise<void> {
    const max = deps.config().media.max_total_bytes;
    if (storedEstimate !== undefined) storedEstimate += size;
    if (storedEstimate !== undefined && storedEstimate <= max) return;
    const evicted = await withTransaction(deps.db, (trx) => enforceQuota(trx, keepId, deps.clock.now()));
    await removeUnused(evicted.contents);
    storedEstimate = evicted.total;
  }

  /** Oldest stored media out until the total fits media.max_total_bytes; returns contents to check. */
  async function enforceQuota(
    trx: Db,
    keepId: string,
    now: number,
  ): Promise<{ contents: string[]; total: number }> {
    const max = deps.config().media.max_total_bytes;
    const touched: string[] = [];
    let total = await mediaRepo.storedBytes(trx);
    while (total > max) {
      const batch = (await mediaRepo.oldestStored(trx, EVICT_BATCH)).filter((r) => r.id !== keepId);
      if (batch.length === 0) break;
      // Only as many as needed: oldest first, until the total would fit.
      const take: MediaRow[] = [];
      let freed = 0;
      for (const r of batch) {
        take.push(r);
        freed += Number(r.size_bytes ?? 0);
        if (total - freed <= max) break;
      }
      await mediaRepo.expire(
        trx,
        take.map((r) => r.id),
        { error: 'evicted', reason: `removed to keep media under media.max_total_bytes (${max} bytes)` },
        now,
      );
      for (const r of take) if (r.content_sha256) touched.push(r.content_sha256);
      total = await mediaRepo.storedBytes(trx);
    }
    return { contents: touched, total };
  }

  async function sweepRetention(): Promise<number> {
    const config = deps.config().media;
    storedEstimate = undefined;
    const now = deps.clock.now();
    let count = 0;
    for (;;) {
      const rows = await mediaRepo.storedBefore(deps.db, now - config.retention, EVICT_BATCH);
      if (rows.length === 0) break;
      await withTransaction(deps.db, (trx) =>
        mediaRepo.expire(
          trx,
          rows.map((r) => r.id),
          {
            error: 'retention',
            reason: `older than media.retention (${Math.round(config.retention / 86_400_000)} days)`,
          },
          now,
        ),
      );
      await removeUnused(rows.flatMap((r) => (r.content_sha256 ? [r.content_sha256] : [])));
      count += rows.length;
      if (rows.length < EVICT_BATCH) break;
    }
    if (count > 0) log.info({ event: 'media.expired', count }, `${count} stored media expired (retention)`);
    return count;
  }

  /** Removes the files of contents no stored row points at any more. */
  async function removeUnused(contents: string[]): Promise<void> {
    for (const sha of new Set(contents)) {
      if (!(await mediaRepo.contentInUse(deps.db, sha))) await storage.remove(sha).catch(() => undefined);
    }
  }

  const loop = createWakeLoop(runOnce, {
    stopped: () => stopped || deps.paused?.() === true,
    onError: (err) => log.error({ event: 'media.run_failed', err }, 'media downloader failed; will retry'),
  });

  return {
    name: 'media-downloader',
    wake: () => loop.wake(),
    storage: () => storage,
    source: currentSource,
    sweepRetention,
    async start() {
      await storage.prepare();
      // A previous run of this install killed mid-download: its temp files and leases are ours to undo.
      // Done before wakes count (stopped is still true): the inbox processor runs already and wakes us
      // when it records media, and a download claimed now would have its lease given back below and
      // be claimed a second time, two downloads of one media at once (test/media/crash.test.ts saw it).
      const removed = await storage.cleanTemp(deps.owner);
      const released = await withTransaction(deps.db, (trx) => mediaRepo.releaseOwnLeases(trx, deps.owner));
      stopped = false;
      if (released > 0 || removed > 0) {
        log.warn(
          { event: 'media.recovered', released, removed_temp_files: removed },
          `${released} media download(s) interrupted by the last stop resume now`,
        );
      }
      timer = setInterval(() => loop.wake(), deps.pollMs ?? 1000);
      timer.unref();
      loop.wake();
    },
    async drain(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        loop.wake();
        await loop.settled();
        if (running.size === 0) {
          await loop.settled();
          if (running.size === 0) return;
        }
        await Promise.race([...running.values()]);
        if (Date.now() > deadline) throw new Error('media drain timed out');
      }
    },
    async stop(deadline) {
      stopped = true;
      if (timer) clearInterval(timer);
      await loop.settled();
      // In-flight downloads finish or are cut at the deadline; a cut one stays pending under this
      // owner's lease and is given back by the next start.
      await Promise.race([
        Promise.allSettled([...running.values()]),
        new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref()),
      ]);
    },
  };
}

function tooLarge(kind: string, what: string, limit: number): MediaProblem {
  return new MediaProblem('too_large', `too large (${what}); the ${kind} limit is ${limit} bytes`, false);
}

async function cancel(stream: AsyncIterable<Uint8Array>): Promise<void> {
  const s = stream as { destroy?: () => void };
  s.destroy?.();
}
