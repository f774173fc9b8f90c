// One daemon per SQLite file (SPEC §10): two daemons on the same database (a systemd unit plus a
// hand-run `npm start`) would both claim and send the same work. The lock is an exclusive SQLite lock
// held for the process's life on a small file beside the database (`<db>.lock`): SQLite's file locks
// are the kernel's, so a crashed or kill -9'd daemon releases it by dying, and no stale lock file can
// keep the next start out. Who holds it is written to `<db>.lock.json`, for the refusal message only.
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { AppError } from '../lib/app-error.js';

export interface InstanceLock {
  /** The lock file (beside the database). */
  file: string;
  release(): void;
}

interface Holder {
  pid: number;
  started_at: string;
  host?: string;
}

function describeHolder(file: string): string {
  try {
    const h = JSON.parse(readFileSync(`${file}.json`, 'utf8')) as Holder;
    return `pid ${h.pid}, started ${h.started_at}`;
  } catch {
    return 'another process';
  }
}

/** Takes the database's instance lock or throws a clear error naming the file and the holder. */
export function acquireInstanceLock(databaseFile: string, holder: Holder): InstanceLock {
  const dbFile = path.resolve(databaseFile);
  const file = `${dbFile}.lock`;
  let lockDb: SQLite.Database | undefined;
  try {
    lockDb = new SQLite(file);
    chmodSync(file, 0o600);
    lockDb.pragma('busy_timeout = 0');
    lockDb.pragma('locking_mode = EXCLUSIVE');
    lockDb.exec('create table if not exists holder (pid integer)');
    // The first write in exclusive locking mode takes the EXCLUSIVE lock and keeps it until close.
    lockDb.exec('begin exclusive; delete from holder; insert into holder values (0); commit');
  } catch (err) {
    lockDb?.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new AppError(
        'database_unavailable',
        `another native-whatsapp daemon (${describeHolder(file)}) is running on the database ${dbFile}; stop it first (two daemons on one SQLite file would send the same messages twice)`,
      );
    }
    throw new AppError(
      'database_unavailable',
      `cannot take the instance lock ${file}: ${(err as Error).message}`,
    );
  }
  writeFileSync(`${file}.json`, `${JSON.stringify(holder)}\n`, { mode: 0o600 });
  const held = lockDb;
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      rmSync(`${file}.json`, { force: true });
      held.close();
    },
  };
}
