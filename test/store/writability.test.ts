// store/writability.ts: the file probe (mode bits and access, WAL and directory included), which write
// errors mean "cannot write", and the latch that holds until a probe write succeeds.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { createStoreWritability, fileProblem, isCannotWriteError } from '../../src/store/writability.js';
import { engines, openTestDatabase } from '../helpers/engines.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) {
    chmodSync(dir, 0o700);
    rmSync(dir, { recursive: true, force: true });
  }
  dir = undefined;
});

function tempDb(): string {
  dir = mkdtempSync(path.join(tmpdir(), 'nwa-writability-'));
  const file = path.join(dir, 'db.sqlite');
  writeFileSync(file, '');
  return file;
}

describe('fileProblem', () => {
  it('an in-memory database is always writable', () => {
    expect(fileProblem(':memory:')).toBeNull();
  });

  it('a writable file in a writable directory has no problem', () => {
    expect(fileProblem(tempDb())).toBeNull();
  });

  it.each([
    {
      what: 'database file',
      target: (f: string) => f,
      mode: 0o444,
      expected: /database file .* is read-only \(mode 0444\)/,
    },
    {
      what: 'WAL file',
      target: (f: string) => `${f}-wal`,
      mode: 0o400,
      expected: /database WAL file .* is read-only \(mode 0400\)/,
    },
    {
      what: 'directory',
      target: (f: string) => path.dirname(f),
      mode: 0o555,
      expected: /database directory .* is read-only \(mode 0555\)/,
    },
  ])('a read-only $what is named as the reason', ({ target, mode, expected }) => {
    const file = tempDb();
    writeFileSync(`${file}-wal`, '');
    chmodSync(target(file), mode);
    expect(fileProblem(file)).toMatch(expected);
  });

  it('a missing database file is a problem; a missing WAL file is not', () => {
    const file = tempDb();
    expect(fileProblem(file)).toBeNull();
    rmSync(file);
    expect(fileProblem(file)).toMatch(/database file .* cannot be read \(ENOENT\)/);
  });
});

describe('isCannotWriteError', () => {
  it.each([
    ['SQLITE_READONLY', true],
    ['SQLITE_READONLY_DBMOVED', true],
    ['SQLITE_IOERR_WRITE', true],
    ['SQLITE_IOERR_FSYNC', true],
    ['SQLITE_FULL', true],
    ['SQLITE_CANTOPEN', true],
    ['SQLITE_BUSY', false],
    ['SQLITE_CONSTRAINT_UNIQUE', false],
    [undefined, false],
  ])('%s → %s', (code, expected) => {
    const err = Object.assign(new Error('x'), code ? { code } : {});
    expect(isCannotWriteError(err)).toBe(expected);
  });
});

describe('createStoreWritability', () => {
  it('follows the file: not writable while read-only, writable again after, with one change each way', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'nwa-writability-'));
    dir = d;
    const handle = openDatabase(path.join(d, 'db.sqlite'));
    await migrateToLatest(handle.db);
    const w = createStoreWritability({ db: handle.db, file: handle.path, now: () => 1 });
    const changes: boolean[] = [];
    w.onChange((writable) => changes.push(writable));
    try {
      expect(await w.probe()).toBeNull();
      chmodSync(handle.path, 0o444);
      expect(await w.probe()).toMatch(/read-only/);
      expect(w.writable()).toBe(false);
      expect(await w.probe()).toMatch(/read-only/);
      chmodSync(handle.path, 0o644);
      expect(await w.probe()).toBeNull();
      expect(w.writable()).toBe(true);
      expect(changes).toEqual([false, true]);
    } finally {
      await handle.close();
    }
  });

  it('a write error that means "cannot write" holds until a probe write succeeds; others are ignored', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'nwa-writability-'));
    dir = d;
    const handle = openDatabase(path.join(d, 'db.sqlite'));
    await migrateToLatest(handle.db);
    const w = createStoreWritability({ db: handle.db, file: handle.path, now: () => 42 });
    try {
      expect(w.noteWriteError(Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' }))).toBe(false);
      expect(w.writable()).toBe(true);
      expect(
        w.noteWriteError(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' })),
      ).toBe(true);
      expect(w.reason()).toMatch(/a write to the database failed: disk I\/O error \(SQLITE_IOERR_WRITE\)/);
      expect(await w.probe()).toBeNull();
      const row = handle.sqlite.prepare("select value from settings where key = 'store.write_probe'").get();
      expect(row).toEqual({ value: '42' });
    } finally {
      await handle.close();
    }
  });
});

describe.runIf(engines.includes('postgres'))('createStoreWritability on PostgreSQL', () => {
  it('a real read-only-transaction error latches "not writable" until a probe write succeeds', async () => {
    const t = await openTestDatabase('postgres');
    const w = createStoreWritability({ db: t.handle.db, file: null, now: () => 43 });
    try {
      // The error a standby (or default_transaction_read_only) answers a write with: SQLSTATE 25006.
      const err = await t.handle.db
        .transaction()
        .execute(async (trx) => {
          await sql`set transaction read only`.execute(trx);
          await trx.insertInto('settings').values({ key: 'k', value: 'v', updated_at: 1 }).execute();
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect((err as { code?: string }).code).toBe('25006');
      expect(w.noteWriteError(err)).toBe(true);
      expect(w.writable()).toBe(false);
      // Other errors (a deadlock, a unique violation) say nothing about writability.
      expect(w.noteWriteError(Object.assign(new Error('deadlock detected'), { code: '40P01' }))).toBe(false);
      expect(await w.probe()).toBeNull();
      expect(w.writable()).toBe(true);
      const row = await t.handle.db
        .selectFrom('settings')
        .select('value')
        .where('key', '=', 'store.write_probe')
        .executeTakeFirst();
      expect(row).toEqual({ value: '43' });
    } finally {
      await t.close();
    }
  });
});
