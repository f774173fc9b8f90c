// SPEC §9a: the database, its WAL and SHM files and backups are 0600, directories the daemon creates
// 0700, whatever the umask.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backupDatabase, openDatabase } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';

const mode = (p: string) => statSync(p).mode & 0o777;

let dir: string;
let umask: number;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'nwa-modes-'));
  umask = process.umask(0); // the most permissive umask: nothing is masked off
});
afterEach(() => {
  process.umask(umask);
  rmSync(dir, { recursive: true, force: true });
});

describe('file modes', () => {
  it('database, WAL, SHM and created directories are private under umask 0', async () => {
    const file = path.join(dir, 'new', 'nested', 'data.db');
    const handle = openDatabase(file);
    await migrateToLatest(handle.db);
    expect(mode(path.join(dir, 'new'))).toBe(0o700);
    expect(mode(path.join(dir, 'new', 'nested'))).toBe(0o700);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) expect([f, mode(f)]).toEqual([f, 0o600]);

    const backup = path.join(dir, 'backups', 'copy.db');
    await backupDatabase(handle, backup);
    expect(mode(backup)).toBe(0o600);
    expect(mode(path.join(dir, 'backups'))).toBe(0o700);
    await handle.close();
  });
});
