// Files the daemon creates are 0600 and its directories 0700 whatever the umask (SPEC §9a): the
// database holds generated secrets and customers' conversations. Used by the store (database, WAL,
// SHM, backups); anything else that writes files (media) can use the same helpers.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/** Creates `dir` (and missing parents) as 0700; a directory that already existed is left as it is. */
export function ensurePrivateDir(dir: string): void {
  const first = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first === undefined) return;
  // mkdir's mode is masked by the umask; every directory created here gets exactly 0700.
  let d = dir;
  for (;;) {
    chmodSync(d, PRIVATE_DIR_MODE);
    if (d === first) break;
    const parent = d.slice(0, Math.max(d.lastIndexOf('/'), 1));
    if (parent === d) break;
    d = parent;
  }
}

/** Creates `file` empty as 0600 when missing, and sets 0600 on it either way. */
export function ensurePrivateFile(file: string): void {
  if (!existsSync(file)) closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  chmodSync(file, PRIVATE_FILE_MODE);
}

/** Sets 0600 on each of the files that exist. */
export function makePrivate(...files: string[]): void {
  for (const f of files) if (existsSync(f)) chmodSync(f, PRIVATE_FILE_MODE);
}
