// The PostgreSQL pass (SPEC §10): the store, claim and black-box API tests again, every test app on a
// PostgreSQL database of its own (test/helpers/engines.ts). Needs TEST_DATABASE_URL; `npm run test:pg`.
// Tests about SQLite itself (its file, pragmas, backup) pin `engine: 'sqlite'` and run as they do in
// `npm test`; the crash tests (kill -9 of the built daemon on a SQLite file) are left to that pass.
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

export default defineConfig({
  test: {
    include: PG_FOLDERS.map((f) => `test/${f}/**/*.test.ts`),
    exclude: ['**/crash.test.ts', 'node_modules/**'],
    globalSetup: ['test/helpers/pg-global-setup.ts'],
    setupFiles: ['test/helpers/fast-check-seed.ts'],
    env: { TEST_ENGINE: 'postgres' },
    // Twice the SQLite pass's: every commit is a round trip to the server, and the burst tests send 1000.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    pool: 'forks',
  },
});
