import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // dist/ from the current source, once per run (the end-to-end tests spawn it).
    globalSetup: ['test/setup/build.ts'],
    // No test reaches beyond loopback: a connection or name lookup to another address fails the test.
    setupFiles: ['test/setup/loopback-only.ts'],
  },
});
