// The PostgreSQL pass (SPEC §10): the store, claim and black-box API tests again, every test app on a
// PostgreSQL database of its own (test/helpers/engines.ts). Needs TEST_DATABASE_URL; `npm run test:pg`.
// Only test files that open a database run here: the pure ones (state machine, scorer, pacing queue...)
// are engine-independent and already ran in `npm test`. Tests about SQLite itself (its file, pragmas,
// backup) pin `engine: 'sqlite'`; the crash tests (kill -9 of the built daemon on a SQLite file) are
// left to `npm test`.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

export const PG_FOLDERS = [
  'store',
  'http',
  'extension',
  'inbox',
  'outbound',
  'scheduler',
  'conversations',
  'campaigns',
  'events',
];

/** What opening a database looks like in a test or in a test helper it imports. */
const OPENS_DATABASE = /\b(createTestApp|startBench|openTestDatabase|openDatabase|openPostgres|openStore)\(/;

/** True when `file` (or a test module it imports, transitively) opens a database. */
function opensDatabase(file: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  if (OPENS_DATABASE.test(text)) return true;
  for (const m of text.matchAll(/^import (?!type )[^;]*? from '(\.[^']+)\.js';/gms)) {
    const target = path.resolve(path.dirname(file), `${m[1]}.ts`);
    if (target.includes(`${path.sep}test${path.sep}`) && opensDatabase(target, seen)) return true;
  }
  return false;
}

const files = PG_FOLDERS.flatMap((folder) =>
  readdirSync(path.join('test', folder))
    .filter((f) => f.endsWith('.test.ts') && f !== 'crash.test.ts')
    .map((f) => path.join('test', folder, f)),
).filter((f) => opensDatabase(path.resolve(f)));

export default defineConfig({
  test: {
    include: files,
    globalSetup: ['test/helpers/pg-global-setup.ts'],
    setupFiles: ['test/helpers/fast-check-seed.ts'],
    env: { TEST_ENGINE: 'postgres' },
    // Twice the SQLite pass's: every commit is a round trip to the server.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    pool: 'forks',
  },
});
