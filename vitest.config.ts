import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Two cores: files run two at a time; heavy suites mark themselves sequential.
    pool: 'forks',
    maxWorkers: 2,
  },
});
