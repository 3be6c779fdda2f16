import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // dist/ from the current source, once per run (the end-to-end tests spawn it).
    globalSetup: ['test/setup/build.ts'],
    // Hermetic: a connection or name lookup beyond loopback fails the test; no apt download.
    setupFiles: ['test/setup/hermetic.ts'],
  },
});
