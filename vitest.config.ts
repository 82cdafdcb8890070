import { defineConfig } from 'vitest/config';

// Four layers, all run by `npm test`: pure unit tests, integration tests against the real
// PostgreSQL and FerretDB from scripts/services.sh, tests on ../shared/datasets, and last,
// alone, tests that restart the services.
export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Timeouts only catch hangs: a busy 2-core machine can be several times slower than an
    // idle one, and speed is measured by `npm run bench`, never by a test.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Two cores: more workers only contend for them and for PostgreSQL.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'] } },
      { extends: true, test: { name: 'datasets', include: ['test/datasets/**/*.test.ts'] } },
      // The dashboard in a real browser (headless chromium) over state from real runs: one file at
      // a time, since each runs a load in another process and checks timing against it.
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          poolOptions: { forks: { singleFork: true } },
        },
      },
      // Tests that stop or restart the shared PostgreSQL: alone, one file at a time, after the rest.
      {
        extends: true,
        test: {
          name: 'disruptive',
          include: ['test/disruptive/**/*.test.ts'],
          poolOptions: { forks: { singleFork: true } },
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
