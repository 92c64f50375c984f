/**
 * A run stopped in the middle of apply (SIGKILL, or Ctrl-C) leaves a journal from which rollback
 * restores the original tenant exactly, $null included.
 */
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/wait.js';
import { assertBuilt, EngineWorkspace, sim, slowDriftedTenant } from './engine-support.js';

let workspaces: EngineWorkspace[] = [];
// Each test spawns the CLI several times; on a loaded 2-core machine that can take a while.
beforeAll(assertBuilt);
afterEach(() => {
  workspaces.forEach((w) => w.cleanup());
  workspaces = [];
});



function runDirOf(w: EngineWorkspace): string {
  return join(w.runsDir, readdirSync(w.runsDir).find((d) => d.endsWith('smtp-auth-disable'))!);
}


function exited(child: ReturnType<EngineWorkspace['spawn']>): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.resume();
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

/** The settings rollback must restore, byte for byte. */
function settings(w: EngineWorkspace): string {
  const s = w.readState();
  return JSON.stringify({ transportConfig: s.transportConfig, mailboxes: s.mailboxes });
}

function withoutLatency(w: EngineWorkspace): void {
  const s = w.readState();
  s.faults = {};
  w.writeState(s);
}

describe('rollback after a killed apply', () => {
  it('restores the original state exactly from the journal of a SIGKILLed run', async () => {
    const w = new EngineWorkspace(slowDriftedTenant(250));
    workspaces.push(w);
    const original = settings(w);

    const child = w.spawn(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    const done = exited(child);
    // run-start + 3 writes journaled (before/after each) + the 4th write's "before"
    await until(() => w.journalLines().length >= 8, 'the journal to hold 3 writes and the 4th write\'s "before"');
    child.kill('SIGKILL');
    const { signal } = await done;
    expect(signal).toBe('SIGKILL');

    const records = w.journalLines().map((l) => JSON.parse(l) as { type: string });
    const befores = records.filter((r) => r.type === 'before').length;
    expect(befores).toBeGreaterThanOrEqual(4);
    expect(befores).toBeLessThan(14); // really stopped in the middle
    expect(records.some((r) => r.type === 'run-end')).toBe(false);
    expect(settings(w)).not.toBe(original);

    withoutLatency(w);
    const rollback = w.run(['rollback', runDirOf(w), '--runs-dir', 'runs', '--yes']);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(settings(w)).toBe(original);
    expect(readdirSync(w.runsDir).some((d) => d.endsWith('smtp-auth-disable-rollback'))).toBe(true);

    // Rolling back again finds everything already restored: no writes.
    w.clearCalls();
    const again = w.run(['rollback', runDirOf(w), '--runs-dir', 'runs', '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(w.calls().filter((c) => c.cmdlet.startsWith('Set-'))).toEqual([]);
  });

  it('rollback without --yes and without a TTY refuses (exit 4)', () => {
    const w = new EngineWorkspace();
    workspaces.push(w);
    expect(w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']).code).toBe(0);
    const applied = settings(w);
    const r = w.run(['rollback', runDirOf(w), '--runs-dir', 'runs']);
    expect(r.code).toBe(4);
    expect(settings(w)).toBe(applied);
  });
});

describe('rollback targets', () => {
  it('uses the run\'s recorded target by default, even after the playbook moved; --target overrides it', () => {
    const w = new EngineWorkspace();
    workspaces.push(w);
    const original = settings(w);
    expect(w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']).code).toBe(0);
    const applied = readFileSync(w.state, 'utf8');
    renameSync(w.playbook, join(w.dir, 'moved.yaml'));

    // A copy of the applied tenant elsewhere: --target points rollback at it instead.
    const copy = join(w.dir, 'copy.json');
    writeFileSync(copy, applied);
    const other = w.run(['rollback', runDirOf(w), '--runs-dir', 'runs', '--yes', '--target', `sim:${copy}`]);
    expect(other.code, other.stderr).toBe(0);
    expect(readFileSync(w.state, 'utf8')).toBe(applied); // the recorded target was not touched
    const restoredCopy = JSON.parse(readFileSync(copy, 'utf8'));
    expect(JSON.stringify({ transportConfig: restoredCopy.transportConfig, mailboxes: restoredCopy.mailboxes })).toBe(original);

    const recorded = w.run(['rollback', runDirOf(w), '--runs-dir', 'runs', '--yes']);
    expect(recorded.code, recorded.stderr).toBe(0);
    expect(settings(w)).toBe(original);
  });

  it('names a directory that is not a run (exit 1)', () => {
    const w = new EngineWorkspace();
    workspaces.push(w);
    const r = w.run(['rollback', w.dir, '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not a run directory/);
  });
});

describe('Ctrl-C during apply', () => {
  it('finishes the write in flight, leaves a consistent journal, exits 4; rollback restores', async () => {
    const w = new EngineWorkspace(slowDriftedTenant(250));
    workspaces.push(w);
    const original = settings(w);

    const child = w.spawn(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    const done = exited(child);
    await until(() => w.journalLines().length >= 5, 'the journal to hold 2 writes and the 3rd write\'s "before"');
    child.kill('SIGINT');
    const { code, stderr } = await done;
    expect(code).toBe(4);
    expect(stderr).toMatch(/interrupted/);

    const records = w.journalLines().map((l) => JSON.parse(l) as { type: string; changeId?: string; interrupted?: boolean });
    const befores = records.filter((r) => r.type === 'before').map((r) => r.changeId);
    const afters = records.filter((r) => r.type === 'after').map((r) => r.changeId);
    expect(afters).toEqual(befores); // every write that started also finished and was recorded
    expect(befores.length).toBeLessThan(14);
    expect(records.at(-1)).toMatchObject({ type: 'run-end', interrupted: true });

    withoutLatency(w);
    const rollback = w.run(['rollback', runDirOf(w), '--runs-dir', 'runs', '--yes']);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(settings(w)).toBe(original);
  });
});
