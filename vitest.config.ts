import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/faults/**', 'node_modules/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/fast-check-seed.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: child-process tests and SQLite files do not like a crowd.
    maxWorkers: 2,
    pool: 'forks',
  },
});
