// Media storage streams a download to disk (SPEC §12, issue 16): the bytes reach the temporary file
// while the body is still arriving and the SHA-256 is computed chunk by chunk, so a download holds a
// few chunks in memory, never the whole file (bench/media streams 200 MB through a daemon of ~140 MiB).

import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMediaStorage } from '../../src/media/storage.js';

const CHUNK = 64 * 1024;
const CHUNKS = 32;
let dir: string | undefined;

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Bytes already in the one temporary file under `tmpDir` (0 before it exists). */
function writtenSoFar(tmpDir: string): number {
  const names = readdirSync(tmpDir);
  return names.length === 1 ? statSync(path.join(tmpDir, names[0] as string)).size : 0;
}

describe('media storage', () => {
  it('a download reaches the disk while its body is still arriving, a few chunks behind at most', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nwa-storage-'));
    const storage = createMediaStorage(path.join(dir, 'media'));
    await storage.prepare();
    const tmpDir = path.join(storage.dir, 'tmp');
    const whole = createHash('sha256');
    // How many bytes were on disk each time the pipeline asked the body for its next chunk.
    const onDiskWhenAsked: number[] = [];
    async function* body(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < CHUNKS; i++) {
        onDiskWhenAsked.push(writtenSoFar(tmpDir));
        const chunk = Buffer.alloc(CHUNK, i);
        whole.update(chunk);
        yield chunk;
      }
    }

    const written = await storage.writeTemp('test', body(), CHUNKS * CHUNK);

    expect(written.size).toBe(CHUNKS * CHUNK);
    expect(written.sha256).toBe(whole.digest('hex'));
    expect(createHash('sha256').update(readFileSync(written.tmp)).digest('hex')).toBe(written.sha256);
    // Buffering the body (or hashing it whole) before writing would leave the file empty until the
    // last chunk was read; streaming with backpressure keeps the file within a few chunks of it.
    onDiskWhenAsked.forEach((bytes, i) => {
      expect(bytes, `bytes on disk when chunk ${i} was asked for`).toBeGreaterThanOrEqual((i - 3) * CHUNK);
    });
  });
});
