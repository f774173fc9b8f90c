// The WAL is checkpointed by a worker thread with its own connection, not inside the daemon's commits
// (store/wal-checkpointer.ts): the daemon's connection only checkpoints past BACKSTOP_PAGES. Seen from
// the database file: what was committed reaches it while the daemon's connection stayed below its
// backstop, so only the worker can have copied it there.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { openDatabase, type SqliteHandle } from '../../src/store/db.js';
import { BACKSTOP_PAGES, createWalCheckpointer } from '../../src/store/wal-checkpointer.js';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function until(what: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function openFile(): { handle: SqliteHandle; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'nwa-checkpoint-'));
  const file = path.join(dir, 'wal.db');
  const handle = openDatabase(file);
  cleanup = async () => {
    await handle.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { handle, file };
}

/** About 2,000 pages (8 MB) in 200 commits: well below the backstop, well above SQLite's 1,000. */
function write(handle: SqliteHandle): void {
  handle.sqlite.exec('create table if not exists t (id integer primary key, b blob)');
  const insert = handle.sqlite.prepare('insert into t (b) values (?)');
  for (let i = 0; i < 200; i++) {
    handle.sqlite.transaction(() => {
      for (let j = 0; j < 10; j++) insert.run(Buffer.alloc(4000, i));
    })();
  }
}

it('the worker copies committed pages into the database file; the daemon connection does not', async () => {
  const { handle, file } = openFile();
  const checkpointer = createWalCheckpointer(handle, silentLogger(), { everyMs: 10 });
  await checkpointer.start();
  expect(handle.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(BACKSTOP_PAGES);
  write(handle);
  // The worker's report of a checkpoint comes as a message, after the file has grown.
  await until(() => statSync(file).size > 7_000_000 && checkpointer.checkpoints() > 0);
  await checkpointer.stop(Date.now() + 5_000);
  // Stopped: the daemon's connection checkpoints by itself again.
  expect(handle.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  expect((handle.sqlite.prepare('select count(*) as n from t').get() as { n: number }).n).toBe(2000);
});

it('without it, the same commits stay in the WAL below the backstop', async () => {
  // The control: the file grows only through checkpoints, so the test above sees the worker's.
  const { handle, file } = openFile();
  handle.sqlite.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  write(handle);
  await new Promise((r) => setTimeout(r, 200));
  expect(statSync(file).size).toBeLessThan(1_000_000);
});

it('a checkpoint thread that fails hands checkpointing back to the daemon connection', async () => {
  const { handle, file } = openFile();
  // The worker opens the file by path; with its folder gone it cannot (the daemon's handle still works).
  rmSync(path.dirname(file), { recursive: true, force: true });
  const checkpointer = createWalCheckpointer(handle, silentLogger(), { everyMs: 10 });
  await checkpointer.start();
  await until(() => handle.sqlite.pragma('wal_autocheckpoint', { simple: true }) === 1000);
  // Stopping a thread that already failed returns at once: with a deadline a minute away, waiting for
  // it would outlast the test's timeout.
  await checkpointer.stop(Date.now() + 60_000);
  expect(handle.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  expect(checkpointer.checkpoints()).toBe(0);
});
