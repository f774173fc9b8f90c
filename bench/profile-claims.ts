// `node --import tsx bench/profile-claims.ts [--claims N] [--rounds N]`: the CPU of one claim of the inbox
// queue (its own redoable transaction, on an empty queue, as at the end of a processor run at a low rate),
// built per call by claimDue against the compiled statement of preparedClaim (store/locking.ts), the
// two alternated in rounds in this process on a scratch SQLite database. Prints µs of CPU per claim.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/store/db.js';
import { inboxRepo } from '../src/store/inbox-repo.js';
import { claimDue } from '../src/store/locking.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { withRedoableTransaction } from '../src/store/transactions.js';

const { values } = parseArgs({
  options: { claims: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '3' } },
});
const claims = Number(values.claims);
const dir = mkdtempSync(path.join(os.tmpdir(), 'profile-claims-'));
const handle = openDatabase(path.join(dir, 'claims.db'));
await migrateToLatest(handle.db);
const LIMIT = 16;
const built = (now: number) => (trx: typeof handle.db) =>
  claimDue(trx, {
    table: 'inbox',
    owner: 'profile',
    now,
    leaseUntil: now + 60_000,
    limit: LIMIT,
    due: (eb) => eb.and([eb('state', '=', 'pending'), eb('next_attempt_at', '<=', now)]),
    order: ['id'],
    guard: (eb) => eb('state', '=', 'pending'),
  });
const prepared = (now: number) => (trx: typeof handle.db) =>
  inboxRepo.claimDue(trx, 'profile', now, now + 60_000, LIMIT);
try {
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const [name, claim] of [
      ['built per call', built],
      ['prepared', prepared],
    ] as const) {
      const start = process.cpuUsage();
      for (let i = 0; i < claims; i++) await withRedoableTransaction(handle.db, claim(1_000 + i));
      const cpu = process.cpuUsage(start);
      console.log(
        `round ${round} ${name}: ${((cpu.user + cpu.system) / claims).toFixed(1)} µs CPU per claim (its transaction included)`,
      );
    }
  }
} finally {
  await handle.db.destroy();
  rmSync(dir, { recursive: true, force: true });
}
