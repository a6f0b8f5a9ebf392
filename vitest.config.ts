import { defineConfig } from 'vitest/config';

// FLEET_TEST_REPORT=file also writes vitest's JSON report there (CI prints its totals).
const reportFile = process.env.FLEET_TEST_REPORT;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Lab tests start namespaces and nix builds: keep the 2-core machines from thrashing.
    maxWorkers: 2,
    reporters: reportFile ? ['default', ['json', { outputFile: reportFile }]] : ['default'],
  },
});
