/**
 * The end-of-run check of test/global-setup.ts names every kind of leak: a file in the user's npm
 * cache or ~/.cache, an entry in a default lock folder (today's under the temp folder and the
 * per-user state folder), a test folder in the temp folder, a change in the checkout, a test folder
 * left in the run's own temp folder, and a process still running with the run's folder in its
 * environment. Everything here happens in a fake home, temp folder and checkout.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkoutPowerShell, compare, leftTestFolders, runProcesses, snapshot, type RealPlaces } from './hermetic.js';

let dir: string | undefined;
let child: ChildProcess | undefined;
afterEach(() => {
  if (child?.pid && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function fakeMachine(): RealPlaces {
  dir = mkdtempSync(join(tmpdir(), 'exo-hermetic-'));
  const home = join(dir, 'home');
  const checkout = join(dir, 'checkout');
  for (const d of [join(home, '.npm', '_cacache'), join(home, '.npm', '_logs'), join(home, '.cache', 'powershell'), join(dir, 'tmp', 'other'), checkout]) mkdirSync(d, { recursive: true });
  writeFileSync(join(home, '.cache', 'powershell', 'StartupProfileData-NonInteractive'), 'x');
  execFileSync('git', ['init', '-q'], { cwd: checkout });
  writeFileSync(join(checkout, '.gitignore'), 'runs/\n');
  return { home, npmCache: join(home, '.npm'), tmp: join(dir, 'tmp'), checkout };
}

describe('comparing the places a run must not write to', () => {
  it('finds nothing when nothing changed, and ignores npm\'s own log and other programs\' temp files', () => {
    const real = fakeMachine();
    const before = snapshot(real);
    writeFileSync(join(real.npmCache, '_logs', '2026-12-07T20_00_00_000Z-debug-0.log'), 'npm test');
    writeFileSync(join(real.tmp, 'python-build.123'), 'not ours');
    mkdirSync(join(real.tmp, 'exo-test-run-AbCdEf')); // another run's own folder, removed by its own teardown
    expect(compare(before, snapshot(real))).toEqual([]);
    // Another program's test folder that was there before and is gone now: not the run's doing.
    mkdirSync(join(real.tmp, 'exo-fleet-q1w2e3'));
    const withOther = snapshot(real);
    rmSync(join(real.tmp, 'exo-fleet-q1w2e3'), { recursive: true });
    expect(compare(withOther, snapshot(real))).toEqual([]);
  });

  it('names a new npx entry, a changed product cache file, a lock, a temp test folder and a change in the checkout', () => {
    const real = fakeMachine();
    const writer = join(real.home, '.cache', 'exo-playbook', 'host-writer-0123456789abcdef-7.6.9.dll');
    mkdirSync(join(real.home, '.cache', 'exo-playbook'));
    writeFileSync(writer, 'compiled');
    const before = snapshot(real);
    mkdirSync(join(real.npmCache, '_npx', '5c1d3a'), { recursive: true });
    writeFileSync(writer, 'compiled again');
    mkdirSync(join(real.tmp, 'exo-playbook-locks'), { recursive: true });
    writeFileSync(join(real.tmp, 'exo-playbook-locks', 'contoso.onmicrosoft.com.lock'), '{}');
    mkdirSync(join(real.home, '.local', 'state', 'exo-playbook', 'locks'), { recursive: true });
    writeFileSync(join(real.home, '.local', 'state', 'exo-playbook', 'locks', 'fabrikam.lock'), '{}');
    mkdirSync(join(real.tmp, 'exo-load-x1Y2z3'));
    writeFileSync(join(real.checkout, 'stray.txt'), 'written by a test');
    mkdirSync(join(real.checkout, 'runs'));
    writeFileSync(join(real.checkout, 'runs', 'journal.jsonl'), '{}');
    const lines = compare(before, snapshot(real));
    expect(lines).toContainEqual(`added ${join(real.npmCache, '_npx', '5c1d3a')} (npx folder: folder)`);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^changed ${writer} \\(cache folder: file 8 bytes, modified .* → file 14 bytes, modified `)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^added ${join(real.tmp, 'exo-playbook-locks', 'contoso.onmicrosoft.com.lock')} \\(lock folder: file 2 bytes`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^added ${join(real.home, '.local', 'state', 'exo-playbook', 'locks', 'fabrikam.lock')} \\(state folder: file 2 bytes`)));
    expect(lines).toContainEqual(`added ${join(real.tmp, 'exo-load-x1Y2z3')} (temp folder: folder)`);
    expect(lines).toContainEqual('checkout: git status now shows `?? stray.txt`');
    expect(lines).toContainEqual('checkout: git status now shows `!! runs/`');
  });

  it('in the user\'s other caches, names new and removed entries, not a program rewriting its own file', () => {
    const real = fakeMachine();
    const before = snapshot(real);
    const profile = join(real.home, '.cache', 'powershell', 'StartupProfileData-NonInteractive');
    writeFileSync(profile, 'rewritten by the user\'s own pwsh');
    expect(compare(before, snapshot(real))).toEqual([]);
    writeFileSync(join(real.home, '.cache', 'powershell', 'ModuleAnalysisCache'), 'x');
    rmSync(profile);
    expect(compare(before, snapshot(real))).toEqual([
      `added ${join(real.home, '.cache', 'powershell', 'ModuleAnalysisCache')} (cache folder: file)`,
      `removed ${profile} (cache folder: file)`,
    ]);
  });

  it('lists the test folders left in the run\'s temp folder, not the tools\' own files', () => {
    const real = fakeMachine();
    mkdirSync(join(real.tmp, 'exo-engine-abc'));
    writeFileSync(join(real.tmp, 'dotnet-diagnostic-123-456-socket'), '');
    expect(leftTestFolders(real.tmp)).toEqual([join(real.tmp, 'exo-engine-abc')]);
  });
});

describe('processes a test did not end', () => {
  it('are found by the run folder in their environment, and only those', async () => {
    dir = mkdtempSync(join(tmpdir(), 'exo-hermetic-'));
    const runDir = join(dir, 'exo-test-run-Xy');
    child = spawn('sleep', ['300'], { env: { ...process.env, HOME: join(runDir, 'home') }, stdio: 'ignore' });
    await new Promise<void>((r, e) => child!.once('spawn', r).once('error', e));
    const found = runProcesses(runDir, () => false);
    if (process.platform !== 'linux') return expect(found).toEqual([]);
    expect(found).toEqual([{ pid: child.pid, command: 'sleep 300' }]);
    expect(runProcesses(runDir, (p) => p.pid === child!.pid)).toEqual([]);
    expect(runProcesses(join(dir, 'another-run'), () => false)).toEqual([]);
  });

  it('a PowerShell on the checkout\'s host.ps1 is found by its command line, whatever its environment', async () => {
    dir = mkdtempSync(join(tmpdir(), 'exo-hermetic-'));
    const checkout = join(dir, 'checkout');
    // Stands in for `dotnet …/pwsh.dll -File <checkout>/src/exchange/pwsh/host.ps1` with a bare environment.
    const args = ['-e', 'setTimeout(() => {}, 300_000)', '/opt/fake/pwsh.dll', '-File', join(checkout, 'src', 'exchange', 'pwsh', 'host.ps1')];
    child = spawn(process.execPath, args, { env: { PATH: process.env.PATH }, stdio: 'ignore' });
    await new Promise<void>((r, e) => child!.once('spawn', r).once('error', e));
    const found = checkoutPowerShell(checkout);
    if (process.platform !== 'linux') return expect(found).toEqual([]);
    expect(found.map((p) => p.pid)).toEqual([child.pid]);
    expect(checkoutPowerShell(`${checkout}-other`)).toEqual([]);
  });
});
