// `npm run test:faults`: the fault suite (test/faults), kept out of `npm test` for its length. Two
// workers: the Cloud API outage scenario mostly waits, so it runs next to the kill -9 rounds.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/faults/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    pool: 'forks',
  },
});
