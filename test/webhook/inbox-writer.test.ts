// Group commit: concurrent deliveries share one commit, each append resolves only once its row is
// durable (visible to another connection), and a full queue refuses with 503 instead of growing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { sequentialIds } from '../../src/lib/ids.js';
import { silentLogger } from '../../src/observability/logger.js';
import { openDatabase, type SqliteHandle } from '../../src/store/db.js';
import type { InboxRow } from '../../src/store/inbox-repo.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { createInboxWriter } from '../../src/webhook/inbox-writer.js';

let dir: string;
let handle: SqliteHandle;
const clock = new FakeClock();
const ids = sequentialIds(clock);

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'nwa-writer-'));
  handle = openDatabase(path.join(dir, 'db.sqlite'));
  await migrateToLatest(handle.db);
});
afterEach(async () => {
  await handle.close();
  rmSync(dir, { recursive: true, force: true });
});

const row = (body = '{}'): InboxRow => ({
  id: ids.next(),
  received_at: clock.now(),
  body,
  delivery_hash: 'h',
  state: 'pending',
  attempts: 0,
  next_attempt_at: clock.now(),
  last_error: null,
  processed_at: null,
});

describe('inbox writer', () => {
  it('commits 200 concurrent appends in a few group commits, each durable when it resolves', async () => {
    let commits = 0;
    const writer = createInboxWriter(
      { db: handle.db, logger: silentLogger() },
      { onCommitted: () => commits++ },
    );
    const reader = new SQLite(path.join(dir, 'db.sqlite'), { readonly: true });
    const seenAtResolve: number[] = [];
    const rows = Array.from({ length: 200 }, () => row());
    await Promise.all(
      rows.map((r) =>
        writer.append(r).then(() => {
          const found = reader.prepare('select count(*) n from inbox where id = ?').get(r.id) as {
            n: number;
          };
          seenAtResolve.push(found.n);
        }),
      ),
    );
    reader.close();
    expect(seenAtResolve).toEqual(Array(200).fill(1));
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(commits).toBeLessThanOrEqual(2);
  });

  it('splits a large group into batches of maxBatchRows', async () => {
    let commits = 0;
    const writer = createInboxWriter(
      { db: handle.db, logger: silentLogger() },
      { maxBatchRows: 10, onCommitted: () => commits++ },
    );
    await Promise.all(Array.from({ length: 35 }, () => writer.append(row())));
    expect(commits).toBe(4);
    expect((handle.sqlite.prepare('select count(*) n from inbox').get() as { n: number }).n).toBe(35);
  });

  it('refuses with 503 overloaded (Retry-After) when too many bytes wait, and recovers', async () => {
    const writer = createInboxWriter({ db: handle.db, logger: silentLogger() }, { maxQueuedBytes: 1000 });
    const first = writer.append(row('x'.repeat(800)));
    await expect(writer.append(row('y'.repeat(800)))).rejects.toMatchObject({
      code: 'overloaded',
      headers: { 'Retry-After': '1' },
    });
    await first;
    await expect(writer.append(row('z'.repeat(800)))).resolves.toBeUndefined();
  });

  it('rejects every append of a group whose commit fails', async () => {
    const writer = createInboxWriter({ db: handle.db, logger: silentLogger() });
    const r = row();
    await writer.append(r);
    // Same id again: the multi-row insert fails as a whole.
    const results = await Promise.allSettled([writer.append({ ...r }), writer.append(row())]);
    expect(results.map((x) => x.status)).toEqual(['rejected', 'rejected']);
  });

  it('under load, commits start minCommitIntervalMs apart at most so that deliveries share them', async () => {
    let commits = 0;
    // Spacing by the commit's own duration left out: the interval alone decides here.
    const writer = createInboxWriter(
      { db: handle.db, logger: silentLogger() },
      {
        minCommitIntervalMs: 40,
        commitSpacingFactor: Number.POSITIVE_INFINITY,
        onCommitted: () => commits++,
      },
    );
    await writer.append(row());
    expect(commits).toBe(1);
    // Three deliveries arriving in separate turns of the event loop right after a commit.
    const later: Promise<void>[] = [];
    for (let i = 0; i < 3; i++) {
      later.push(writer.append(row()));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(later);
    expect(commits).toBe(2);
  });

  it('a commit right after another waits commitSpacingFactor × the last one, not the whole interval', async () => {
    const writer = createInboxWriter(
      { db: handle.db, logger: silentLogger() },
      { minCommitIntervalMs: 60_000, commitSpacingFactor: 0 },
    );
    await writer.append(row());
    // Right after a commit: with the interval alone this one would wait 60 s, past the test's timeout.
    await writer.append(row());
    expect((handle.sqlite.prepare('select count(*) n from inbox').get() as { n: number }).n).toBe(2);
  });

  it('an idle writer commits a lone delivery without waiting for the interval', async () => {
    const writer = createInboxWriter(
      { db: handle.db, logger: silentLogger() },
      { minCommitIntervalMs: 60_000 },
    );
    // Waiting for the 60 s interval would outlast the test's timeout; no clock needed to see it did not.
    await writer.append(row());
    expect((handle.sqlite.prepare('select count(*) n from inbox').get() as { n: number }).n).toBe(1);
  });

  it('idle() waits for deliveries being received and for their commit', async () => {
    const writer = createInboxWriter({ db: handle.db, logger: silentLogger() });
    await writer.idle();
    const done = writer.receiving();
    let idle = false;
    const waiting = writer.idle().then(() => {
      idle = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(idle).toBe(false);
    const committed = writer.append(row());
    done();
    done(); // calling it twice counts once
    await committed;
    await waiting;
    expect(idle).toBe(true);
  });

  it('stop() waits for queued rows to be committed', async () => {
    const writer = createInboxWriter({ db: handle.db, logger: silentLogger() });
    const pending = Array.from({ length: 5 }, () => writer.append(row()));
    await writer.stop(Date.now() + 1000);
    expect((handle.sqlite.prepare('select count(*) n from inbox').get() as { n: number }).n).toBe(5);
    await Promise.all(pending);
  });
});
