/**
 * vitest globalSetup: one folder per test run, under the temp folder, that every test and every
 * process a test starts uses as its home, caches, state, config, temp folder, npm cache and lock
 * folder (process.env here is what vitest's workers, and the CLIs and pwsh hosts they spawn,
 * inherit). At the end of the run it checks that the run left the machine as it found it, and fails
 * the run with the list when not:
 *   - the user's npm cache, ~/.cache, ~/.config, ~/.local/state, home's entries, the default lock
 *     folders and the temp folder's test folders (`exo-…`) are as before (test/support/hermetic.ts);
 *   - `git status --porcelain --ignored` of the checkout is as before;
 *   - no test folder (`exo-…`) is left in the run's own temp folder (a test removes what it made);
 *   - no process started by a test is still running (found by the run's folder in its environment,
 *     or a pwsh running this checkout's host.ps1 that was not there before; waited for, then
 *     killed and named).
 * Then the run's folder is removed. A run of the whole suite starts by making the run's one
 * compiled pwsh host (compileHostOnce). EXO_PLAYBOOK_TEST_RUN names the run's folder for
 * test/support/per-file.ts.
 * Rules for tests: test/README.md.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { checkoutPowerShell, compare, leftTestFolders, RUN_FOLDER_PREFIX, runProcesses, snapshot, type RealPlaces, type RunProcess } from './support/hermetic.js';

const ROOT = resolve(import.meta.dirname, '..');

/** Seconds to wait for processes the tests started to end by themselves before they are killed and named. */
const PROCESS_GRACE_MS = 30_000;

function realPlaces(): RealPlaces {
  const home = homedir();
  return {
    home,
    npmCache: process.env.npm_config_cache || join(home, '.npm'),
    tmp: tmpdir(),
    xdgCache: process.env.XDG_CACHE_HOME,
    xdgState: process.env.XDG_STATE_HOME,
    xdgConfig: process.env.XDG_CONFIG_HOME,
    checkout: ROOT,
  };
}

/**
 * The run's one compiled host: a pwsh host on the stub module reads once with `select`, which
 * compiles host-writer.cs and the stub's state reader into the run's XDG cache (docs/PWSH-BRIDGE.md,
 * "cache folder"); every later host of the run starts on the compiled loop. Without it the first
 * hosts of the run, started together by several workers, would each compile it (1.5-3 s of CPU
 * each). Skipped without pwsh (the tests that need it say so themselves).
 */
async function compileHostOnce(runDir: string): Promise<void> {
  const { findPwsh } = await import('../src/exchange/find-pwsh.js');
  const found = findPwsh();
  if (!found) return;
  const { PwshSession } = await import('../src/exchange/pwsh/session.js');
  const { generateTenant } = await import('../src/exchange/simulator/generate.js');
  const state = join(runDir, 'warm-up-tenant.json');
  writeFileSync(state, JSON.stringify(generateTenant({ mailboxes: 10, seed: 1 })));
  const session = await PwshSession.start({ pwshPath: found.path, modulePaths: [join(ROOT, 'test', 'fixtures', 'modules')], env: { EXO_PLAYBOOK_STUB_STATE: state } });
  try {
    await session.invoke('Connect-ExchangeOnline', { AccessToken: 'warm-up', Organization: 'contoso.onmicrosoft.com', ShowBanner: false });
    await session.invoke('Get-EXOCASMailbox', { ResultSize: 'Unlimited' }, { select: ['PrimarySmtpAddress'] });
  } finally {
    await session.close();
    rmSync(state, { force: true });
  }
}

/** vitest's own worker processes (they carry the run's environment and end after the teardown). */
const isVitestWorker = (p: RunProcess) => /node_modules[\\/]vitest[\\/]/.test(p.command);

/**
 * Waits up to PROCESS_GRACE_MS for the processes tests started to end. Those with the run's folder in
 * their environment are the run's own: killed if still there. A pwsh on this checkout's host.ps1
 * that was not running before is named but not killed (it could be the user's own run of the CLI).
 */
async function endedProcesses(runDir: string, pwshBefore: Set<number>): Promise<{ killed: RunProcess[]; named: RunProcess[] }> {
  const deadline = Date.now() + PROCESS_GRACE_MS;
  const look = () => {
    const killed = runProcesses(runDir, isVitestWorker);
    const pids = new Set(killed.map((p) => p.pid));
    return { killed, named: checkoutPowerShell(ROOT).filter((p) => !pwshBefore.has(p.pid) && !pids.has(p.pid)) };
  };
  let left = look();
  while (left.killed.length + left.named.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    left = look();
  }
  for (const p of left.killed) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // ended meanwhile
    }
  }
  return left;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Each vitest project runs the global setup: the first one made the run's folder for all of them.
  if (process.env.EXO_PLAYBOOK_TEST_RUN) return async () => undefined;
  const real = realPlaces();
  const before = snapshot(real);
  const pwshBefore = new Set(checkoutPowerShell(ROOT).map((p) => p.pid));
  const runDir = mkdtempSync(join(real.tmp, RUN_FOLDER_PREFIX));
  const dirs = {
    HOME: join(runDir, 'home'),
    XDG_CACHE_HOME: join(runDir, 'home', '.cache'),
    XDG_STATE_HOME: join(runDir, 'home', '.local', 'state'),
    XDG_CONFIG_HOME: join(runDir, 'home', '.config'),
    XDG_DATA_HOME: join(runDir, 'home', '.local', 'share'),
    npm_config_cache: join(runDir, 'npm-cache'),
    TMPDIR: join(runDir, 'tmp'),
    EXO_PLAYBOOK_LOCK_DIR: join(runDir, 'locks'),
    // tmux puts its server sockets there (not under TMPDIR); the tmux tests name their own servers.
    TMUX_TMPDIR: join(runDir, 'tmux'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  const set: Record<string, string> = {
    ...dirs,
    // npm still reads the user's own settings (registry), from where they are; it writes nothing there.
    ...(existsSync(join(real.home, '.npmrc')) && !process.env.npm_config_userconfig ? { npm_config_userconfig: join(real.home, '.npmrc') } : {}),
    npm_config_update_notifier: 'false',
    EXO_PLAYBOOK_TEST_RUN: runDir,
    // Read, never written: test/support/npm-cache.ts seeds a test's own npm cache from it.
    EXO_PLAYBOOK_TEST_USER_NPM_CACHE: real.npmCache,
  };
  const saved = Object.fromEntries(Object.keys(set).map((k) => [k, process.env[k]]));
  Object.assign(process.env, set);
  // Only for a run of the whole suite (no file named): a run of a few files starts a host or two.
  const wholeSuite = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern === undefined;
  const started = Date.now();
  if (wholeSuite || process.env.EXO_PLAYBOOK_TEST_SETUP_TIMES) await compileHostOnce(runDir).catch((error: unknown) => console.warn(`test/global-setup.ts: the run's compiled host was not made ahead (each host compiles its own): ${(error as Error).message}`));
  if (process.env.EXO_PLAYBOOK_TEST_SETUP_TIMES) console.log(`compiled host made ahead in ${Date.now() - started} ms`);

  return async () => {
    const problems: string[] = [];
    const processes = await endedProcesses(runDir, pwshBefore);
    for (const p of processes.killed) problems.push(`process ${p.pid} still running after the run (killed): ${p.command}`);
    for (const p of processes.named) problems.push(`PowerShell ${p.pid} on this checkout started during the run and still running (not killed, it may be yours): ${p.command}`);
    for (const dir of leftTestFolders(dirs.TMPDIR)) {
      let kind = 'folder';
      try {
        kind = statSync(dir).isDirectory() ? 'folder' : 'file';
      } catch {
        // removed meanwhile
      }
      problems.push(`test ${kind} left in the temp folder (a test that makes it removes it): ${relative(runDir, dir)}`);
    }
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    try {
      rmSync(runDir, { recursive: true, force: true, maxRetries: 5 });
    } catch (error) {
      problems.push(`the run's folder ${runDir} could not be removed: ${(error as Error).message}`);
    }
    problems.push(...compare(before, snapshot(real)).map((line) => `outside the run's folder: ${line}`));
    if (problems.length > 0) {
      process.exitCode = 1;
      const message = [`The test run did not leave the machine as it found it (test/global-setup.ts, rules in test/README.md):`, ...problems.map((p) => `  - ${p}`)].join('\n');
      // Printed, not thrown: vitest prints a teardown error with a stack trace around it.
      console.error(`\n${message}\n`);
    }
  };
}
