import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Test files run in parallel, at least 4 at once even on a 2-core machine: much of the suite's time
 * is spent waiting on child processes (pwsh hosts, the built CLI, tmux, chromium, latency faults),
 * and vitest's default (CPUs - 1) would run it serially on 2 cores. Every test uses its own
 * temporary folder, lock folder, tmux socket and ephemeral 127.0.0.1 port, so files do not interfere.
 * Override with `npx vitest run --maxWorkers N`. docs/PERFORMANCE.md ("Test suite").
 *
 * Two projects: test/e2e/ (the built CLI as a user runs it, some in-process with process-wide state:
 * signals, process.env) keeps a fresh process per file; the other files share their worker processes
 * (isolate: false), which saves importing src/ again for every file.
 */
export default defineConfig({
  test: {
    // Four files at once on two cores: a test that waits on child processes takes longer than alone.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: Math.max(4, availableParallelism()),
    projects: [
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'test/e2e/**'], isolate: false } },
    ],
  },
});
