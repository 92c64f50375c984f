import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Longest files first across both projects (vitest's own order runs one project's files before the
 * other's, which leaves the slow pwsh files of test/exchange/ for the end): durations from the last
 * run (vitest's cache, node_modules/.vite), files never timed first, then larger files first.
 */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const key = (f: TestSpecification) => `${f.project.name}:${relative(this.ctx.config.root, f.moduleId)}`;
    // A run without projects (an older checkout, a single file) recorded the file under ":<path>".
    const duration = (f: TestSpecification) => (this.ctx.cache.getFileTestResults(key(f)) ?? this.ctx.cache.getFileTestResults(`:${relative(this.ctx.config.root, f.moduleId)}`))?.duration;
    const size = (f: TestSpecification) => this.ctx.cache.getFileStats(key(f))?.size ?? 0;
    return [...files].sort((a, b) => {
      const [da, db] = [duration(a), duration(b)];
      if (da === undefined && db === undefined) return size(b) - size(a);
      if (da === undefined || db === undefined) return da === undefined ? -1 : 1;
      return db - da;
    });
  }
}

/**
 * Test files run in parallel, one more than the CPUs (3 on a 2-core machine): much of the suite's
 * time is spent waiting on child processes (pwsh hosts, the built CLI, tmux, chromium, latency
 * faults), and vitest's default (CPUs - 1) would run it serially on 2 cores; more than one extra
 * oversubscribes the cores once other work runs beside (a shared CI runner). Every file gets its
 * own temporary folder and lock folder (test/support/per-file.ts), every test its tmux socket and
 * ephemeral 127.0.0.1 port, so files do not interfere. Override with `npx vitest run --maxWorkers N`.
 * docs/PERFORMANCE.md ("Test suite" and "Test suite on a busy machine").
 *
 * Two projects: test/e2e/ (the built CLI as a user runs it, some in-process with process-wide state:
 * signals, process.env) and OWN_PROCESS keep a fresh process per file; the other files share their
 * worker processes (isolate: false), which saves importing src/ again for every file.
 */
/** Files outside test/e2e/ that need a process of their own (MSAL caches its managed-identity source per process). */
const OWN_PROCESS = ['test/exchange/connect/managed-identity.test.ts'];

export default defineConfig({
  test: {
    // Ceilings for a loaded machine, not measured times: a test waits for events (a line, a file, an
    // exit) and says what it waited for; nothing is timed. Tests do not set lower ones (test/README.md).
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Stopping a worker took over vitest's default 10 s under load ("Timeout terminating forks worker").
    teardownTimeout: 60_000,
    pool: 'forks',
    // One folder per run for HOME, caches, temp, npm cache and locks; checks the run left the machine as it found it.
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/support/per-file.ts'],
    maxWorkers: availableParallelism() + 1,
    sequence: { sequencer: LongestFirst },
    projects: [
      { extends: true, test: { name: 'isolated', include: ['test/e2e/**/*.test.ts', ...OWN_PROCESS] } },
      { extends: true, test: { name: 'shared', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'test/e2e/**', ...OWN_PROCESS], isolate: false } },
    ],
  },
});
