import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Lab tests start namespaces and nix builds: keep the 2-core machines from thrashing.
    maxWorkers: 2,
  },
});
