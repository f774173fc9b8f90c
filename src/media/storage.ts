// Content-addressed files under media.dir (SPEC §12): <dir>/<aa>/<bb>/<sha256 hex>. A download is
// streamed into <dir>/tmp/ while its size is counted and its SHA-256 computed, then renamed into
// place, so a file at its final name is always whole, and a failed or killed download leaves at
// most a temporary file, removed on the way out or on the next start. Files 0600, folders 0700.
// Per download it costs one open, the writes and one rename: the shard folders made are remembered
// (at most 65,536 + 256 names), so a busy downloader does not mkdir and chmod on every file.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MediaProblem } from './media-problem.js';

export interface WrittenTemp {
  tmp: string;
  size: number;
  /** Hex SHA-256 of the bytes written. */
  sha256: string;
}

export interface MediaStorage {
  readonly dir: string;
  /** Creates the folders (0700 whatever the umask). */
  prepare(): Promise<void>;
  /** Removes temporary files whose name starts with `prefix` (a previous run's, after kill -9). */
  cleanTemp(prefix: string): Promise<number>;
  /** Streams `source` into a new temporary file; over `maxBytes` it stops and removes the file. */
  writeTemp(prefix: string, source: AsyncIterable<Uint8Array>, maxBytes: number): Promise<WrittenTemp>;
  /** Moves a finished temporary file to its content address (kept once when it is there already). */
  commit(tmp: string, sha256: string): Promise<void>;
  discard(tmp: string): Promise<void>;
  remove(sha256: string): Promise<void>;
  filePath(sha256: string): string;
  /** Size of the stored content, or undefined when its file is missing. */
  size(sha256: string): Promise<number | undefined>;
  open(sha256: string, range?: { start: number; end: number }): Readable;
}

const HEX = /^[0-9a-f]{64}$/;
let tempCounter = 0;

export function createMediaStorage(dir: string): MediaStorage {
  const root = path.resolve(dir);
  const tmpDir = path.join(root, 'tmp');

  function filePath(sha256: string): string {
    // The name comes from our own hash, but a wrong one must never reach outside the folder.
    if (!HEX.test(sha256)) throw new Error('not a sha256 hex digest');
    return path.join(root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async function ensureDir(d: string): Promise<void> {
    await mkdir(d, { recursive: true, mode: 0o700 });
    await chmod(d, 0o700);
  }

  // Shard folders known to exist. Made by us with 0700 (a umask can only narrow it), so no chmod.
  const made = new Set<string>();
  async function ensureShard(d: string): Promise<void> {
    if (made.has(d)) return;
    await mkdir(d, { recursive: true, mode: 0o700 });
    made.add(d);
  }

  /** A new temporary file, 0600 from its creation (O_EXCL: never someone else's file). */
  async function createTemp(tmp: string) {
    try {
      return await open(tmp, 'wx', 0o600);
    } catch (err) {
      // media.dir/tmp removed under a running daemon: made again, once.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await ensureDir(tmpDir);
      return open(tmp, 'wx', 0o600);
    }
  }

  return {
    dir: root,
    async prepare() {
      await ensureDir(root);
      await ensureDir(tmpDir);
    },
    async cleanTemp(prefix) {
      let names: string[];
      try {
        names = await readdir(tmpDir);
      } catch {
        return 0;
      }
      const mine = names.filter((n) => n.startsWith(`${prefix}-`));
      for (const n of mine) await rm(path.join(tmpDir, n), { force: true });
      return mine.length;
    },
    async writeTemp(prefix, source, maxBytes) {
      const tmp = path.join(tmpDir, `${prefix}-${process.pid}-${Date.now()}-${++tempCounter}`);
      const hash = createHash('sha256');
      let size = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          if (size > maxBytes) {
            done(new MediaProblem('too_large', `larger than the limit of ${maxBytes} bytes`, false));
            return;
          }
          hash.update(chunk);
          done(null, chunk);
        },
      });
      let created = false;
      try {
        const handle = await createTemp(tmp);
        created = true;
        // The hash is computed chunk by chunk as the bytes pass (never over a whole file), and the
        // pipeline's backpressure holds at most a few chunks of one download in memory.
        await pipeline(source, meter, handle.createWriteStream());
      } catch (err) {
        if (created) await rm(tmp, { force: true }).catch(() => undefined);
        else destroySource(source);
        throw storageProblem(err);
      }
      return { tmp, size, sha256: hash.digest('hex') };
    },
    async commit(tmp, sha256) {
      const target = filePath(sha256);
      const shard = path.dirname(target);
      try {
        await ensureShard(shard);
        try {
          await rename(tmp, target);
        } catch (err) {
          // The shard folder was removed since we made it: made again, once.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          made.delete(shard);
          await ensureShard(shard);
          await rename(tmp, target);
        }
      } catch (err) {
        await rm(tmp, { force: true }).catch(() => undefined);
        throw storageProblem(err);
      }
    },
    async discard(tmp) {
      await rm(tmp, { force: true }).catch(() => undefined);
    },
    async remove(sha256) {
      await rm(filePath(sha256), { force: true });
    },
    filePath,
    async size(sha256) {
      try {
        return (await stat(filePath(sha256))).size;
      } catch {
        return undefined;
      }
    },
    open(sha256, range) {
      return createReadStream(filePath(sha256), range ? { start: range.start, end: range.end } : {});
    },
  };
}

/** A body never read (the file could not be made) is cancelled, not left to hold its connection. */
function destroySource(source: AsyncIterable<Uint8Array>): void {
  (source as { destroy?: () => void }).destroy?.();
}

/** A problem already classified passes through; a file system error becomes storage_error / disk_full. */
function storageProblem(err: unknown): unknown {
  if (err instanceof MediaProblem) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new MediaProblem('disk_full', 'the disk holding media.dir is full', true);
  }
  // Anything else from the network side (an aborted body, a reset) is classified by the caller.
  if (code && /^E[A-Z]+$/.test(code) && !['ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code)) {
    return new MediaProblem('storage_error', `cannot write to media.dir (${code})`, true);
  }
  return err;
}
