/**
 * Issue 10 points 2 and 7 without a terminal: SIGTERM (what systemd sends on stop or timeout) and
 * SIGHUP are handled like Ctrl-C, and a stop while reading ends the run at once with nothing written.
 * Spawns the built CLI against a slow simulated tenant (faults.latencyMs).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/wait.js';
import { assertBuilt, EngineWorkspace, sim, slowDriftedTenant } from './engine-support.js';

let workspaces: EngineWorkspace[] = [];
beforeAll(assertBuilt);
afterEach(() => {
  workspaces.forEach((w) => w.cleanup());
  workspaces = [];
});

function slowWorkspace(latencyMs: number): EngineWorkspace {
  const w = new EngineWorkspace(slowDriftedTenant(latencyMs));
  workspaces.push(w);
  return w;
}



function watch(child: ReturnType<EngineWorkspace['spawn']>) {
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => (out.stdout += d));
  child.stderr!.on('data', (d) => (out.stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { out, done };
}

function lockFiles(w: EngineWorkspace): string[] {
  return existsSync(w.lockDir) ? readdirSync(w.lockDir) : [];
}

describe.each(['SIGTERM', 'SIGHUP'] as const)('%s during apply', (signal) => {
  it('is handled like Ctrl-C: the write in flight finishes, exit 4, the journal ends with run-end, the lock is released', async () => {
    const w = slowWorkspace(250);
    const child = w.spawn(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    const { out, done } = watch(child);
    await until(() => w.journalLines().length >= 5, 'the journal to hold 2 writes and the 3rd write\'s "before"');
    child.kill(signal);
    const { code, signal: killedBy } = await done;
    expect(killedBy).toBeNull();
    expect(code, out.stderr).toBe(4);
    expect(out.stderr).toContain(`${signal} received: finishing the write in flight`);

    const records = w.journalLines().map((l) => JSON.parse(l) as { type: string; changeId?: string });
    const befores = records.filter((r) => r.type === 'before').map((r) => r.changeId);
    expect(records.filter((r) => r.type === 'after').map((r) => r.changeId)).toEqual(befores);
    expect(befores.length).toBeLessThan(14);
    expect(records.at(-1)).toMatchObject({ type: 'run-end', interrupted: true });
    expect(lockFiles(w)).toEqual([]);
    expect(out.stderr).toContain('run apply again to finish, or rollback ');

    // The lock really is free: the next apply finishes the job.
    const s = w.readState();
    s.faults = {};
    w.writeState(s);
    const again = w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    expect(again.code, again.stderr).toBe(0);
  });
});

describe('a stop while reading', () => {
  it('Ctrl-C stops the reads at once, writes nothing, says so, exits 4 (no run directory, lock released)', async () => {
    const w = slowWorkspace(1000);
    const child = w.spawn(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    const { out, done } = watch(child);
    await until(() => out.stderr.includes('observe ') && w.calls().length > 0, 'the first read ("observe" on stderr and a recorded call)');
    const callsAtSignal = w.calls().length;
    child.kill('SIGINT');
    const { code } = await done;
    expect(code, out.stderr).toBe(4);
    expect(out.stderr).toContain('interrupt: stopping; nothing has been written');
    expect(out.stderr).not.toContain('finishing the write in flight');
    expect(out.stderr).toContain('interrupted while reading; nothing was written');
    // Stopped at once: at most the read that had already started when the signal came.
    expect(w.calls().length - callsAtSignal).toBeLessThanOrEqual(1);
    expect(w.calls().filter((c) => c.cmdlet.startsWith('Set-'))).toEqual([]);
    // The runs folder is made before sign-in (a bad --runs-dir fails first); no run directory is in it.
    expect(existsSync(w.runsDir) ? readdirSync(w.runsDir) : []).toEqual([]);
    expect(lockFiles(w)).toEqual([]);
  });

  it('SIGTERM while reading does the same', async () => {
    const w = slowWorkspace(1000);
    const child = w.spawn(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    const { out, done } = watch(child);
    await until(() => out.stderr.includes('observe ') && w.calls().length > 0, 'the first read ("observe" on stderr and a recorded call)');
    child.kill('SIGTERM');
    const { code, signal } = await done;
    expect(signal).toBeNull();
    expect(code, out.stderr).toBe(4);
    expect(out.stderr).toContain('SIGTERM received: stopping; nothing has been written');
    expect(w.calls().filter((c) => c.cmdlet.startsWith('Set-'))).toEqual([]);
    expect(lockFiles(w)).toEqual([]);
  });
});

describe('Ctrl-C during writes, without a terminal', () => {
  it('lists the changes not started as skipped and says how to finish or undo', async () => {
    const w = slowWorkspace(250);
    const child = w.spawn(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    const { out, done } = watch(child);
    await until(() => w.journalLines().length >= 5, 'the journal to hold 2 writes and the 3rd write\'s "before"');
    child.kill('SIGINT');
    const { code } = await done;
    expect(code, out.stderr).toBe(4);
    expect(out.stderr).toContain('interrupt: finishing the write in flight');
    expect(out.stdout).toMatch(/Apply result: \d+ applied, 0 failed, \d+ skipped \(interrupted\)/);
    expect(out.stdout).toContain('Skipped changes');
    expect(out.stdout).toMatch(/Run apply again to finish, or rollback \S+ to undo\./);
    expect(out.stderr).toMatch(/run apply again to finish, or rollback \S+smtp-auth-disable to undo/);
    const runDir = join(w.runsDir, readdirSync(w.runsDir)[0]!);
    expect(readFileSync(join(runDir, 'summary.md'), 'utf8')).toContain(`Interrupted: run apply again to finish, or \`exo-playbook rollback ${runDir}\` to undo.`);
  });
});
