import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Test files run in parallel, at least 4 at once even on a 2-core machine: most of the suite's time
 * is spent waiting on child processes (pwsh hosts, the built CLI, tmux, chromium, latency faults),
 * not on the CPU, and vitest's default (CPUs - 1) would run it serially on 2 cores. Every test uses
 * its own temporary folder, lock folder, tmux socket and ephemeral 127.0.0.1 port, so files do not
 * interfere. Override with `npx vitest run --maxWorkers N`. docs/PERFORMANCE.md ("Test suite").
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Four files at once on two cores: a test that waits on child processes takes longer than alone.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: Math.max(4, availableParallelism()),
  },
});
