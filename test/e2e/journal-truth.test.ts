/**
 * Issue 10 point 2: a journal tells the truth about a write whose reply was lost. The simulator's
 * fault knobs lose a write's reply after it committed (crashAfterCall) or kill the call before it ran
 * (crashOnCall); the journal must say applied / not applied from a read-back, or unknown when the
 * read-back fails too, and rollback must undo an unknown write that did reach the tenant.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { run } from '../../src/cli/program.js';
import type { AfterWriteRecord, JournalRecord } from '../../src/engine/journal.js';
import type { SimFaults } from '../../src/exchange/simulator/state.js';
import { EngineWorkspace, sim } from './engine-support.js';

let workspaces: EngineWorkspace[] = [];
afterEach(() => {
  workspaces.forEach((w) => w.cleanup());
  workspaces = [];
});

function pipeIO(w: EngineWorkspace) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const io: CliIO = { stdout, stderr, stdin: Readable.from([]), color: false, interactive: false, env: w.env(), cwd: w.dir };
  return { io, out: () => out, err: () => err };
}

async function cli(w: EngineWorkspace, args: string[]) {
  const t = pipeIO(w);
  const code = await run(args, t.io);
  return { code, stdout: t.out(), stderr: t.err() };
}

function runDirs(w: EngineWorkspace): string[] {
  return readdirSync(w.runsDir)
    .sort()
    .map((d) => join(w.runsDir, d));
}

function journal(runDir: string): JournalRecord[] {
  return readFileSync(join(runDir, 'journal.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JournalRecord);
}

/**
 * The 1-based number of the first write call an apply makes in its session (calls are counted per
 * session: reads first, then the writes), found by a dry run on a copy of the tenant.
 */
async function firstWriteCall(): Promise<number> {
  const probe = new EngineWorkspace();
  workspaces.push(probe);
  const previous = process.env.EXO_PLAYBOOK_SIM_CALL_LOG;
  process.env.EXO_PLAYBOOK_SIM_CALL_LOG = probe.callLog;
  try {
    const r = await cli(probe, ['apply', 'playbook.yaml', ...sim(probe), '--runs-dir', 'runs', '--yes']);
    expect(r.code, r.stderr).toBe(0);
  } finally {
    if (previous === undefined) delete process.env.EXO_PLAYBOOK_SIM_CALL_LOG;
    else process.env.EXO_PLAYBOOK_SIM_CALL_LOG = previous;
  }
  const index = probe.calls().findIndex((c) => /^Set-/.test(c.cmdlet));
  expect(index).toBeGreaterThan(0);
  return index + 1;
}

function withFaults(faults: SimFaults): EngineWorkspace {
  const w = new EngineWorkspace();
  workspaces.push(w);
  const state = w.readState();
  state.faults = faults;
  w.writeState(state);
  return w;
}

const afterRecords = (records: JournalRecord[]) => records.filter((r): r is AfterWriteRecord => r.type === 'after');

describe('a write whose reply was lost is read back and journaled truthfully', () => {
  it('the write reached the tenant (reply lost after it committed): journaled applied, from the read-back', async () => {
    const n = await firstWriteCall();
    const w = withFaults({ crashAfterCall: n });
    const r = await cli(w, ['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    const [first] = afterRecords(journal(runDirs(w)[0]!));
    expect(first).toMatchObject({ outcome: 'applied', readBack: { verdict: 'applied', value: true } });
    expect(w.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
  });

  it('the write never ran (the session died before it): journaled failed (not applied), exit 3', async () => {
    const n = await firstWriteCall();
    const w = withFaults({ crashOnCall: n });
    const r = await cli(w, ['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    expect(r.code, r.stderr).toBe(3);
    const [first] = afterRecords(journal(runDirs(w)[0]!));
    expect(first).toMatchObject({ outcome: 'failed', readBack: { verdict: 'not-applied', value: false } });
    expect(first!.error).toContain('a read-back shows the write did not happen');
    expect(w.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(false);
  });

  it('the read-back fails too: journaled unknown (exit 3); rollback reads the value and restores it', async () => {
    const n = await firstWriteCall();
    // The reply is lost after the write committed, and the read-back that follows fails with a service
    // error that is not worth retrying (a lost session alone would be retried, and the read-back succeed).
    const w = withFaults({ crashAfterCall: n, errors: [{ cmdlet: 'Get-TransportConfig', shape: 'rest', httpStatus: 500, fromCall: n + 1, times: 1 }] });
    const before = w.readState();
    const r = await cli(w, ['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    expect(r.code, r.stderr).toBe(3);
    const applyRun = runDirs(w)[0]!;
    const [first] = afterRecords(journal(applyRun));
    expect(first).toMatchObject({ outcome: 'unknown', readBack: { verdict: 'unknown' } });
    expect(r.stdout).toContain('outcome unknown');
    // The lost write did reach the tenant.
    expect(w.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(true);

    const state = w.readState();
    state.faults = {};
    w.writeState(state);
    const back = await cli(w, ['rollback', applyRun, '--yes']);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(back.stdout).toContain('Organization  SmtpClientAuthenticationDisabled  $true -> $false');
    const after = w.readState();
    expect({ t: after.transportConfig, m: after.mailboxes }).toEqual({ t: before.transportConfig, m: before.mailboxes });
  });

  it('rollback leaves a failed write alone when the tenant still has the before-value', async () => {
    const n = await firstWriteCall();
    const w = withFaults({ crashOnCall: n });
    await cli(w, ['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    const applyRun = runDirs(w)[0]!;
    const state = w.readState();
    state.faults = {};
    w.writeState(state);
    const back = await cli(w, ['rollback', applyRun, '--yes']);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(back.stdout).toContain('Organization SmtpClientAuthenticationDisabled is already $false (the failed write did not happen, or was already undone)');
  });
});

describe('--keep-runs keeps the journal rollback needs', () => {
  it('--keep-runs 1 after a no-op apply keeps the run that changed the tenant, and rollback still works', async () => {
    const w = new EngineWorkspace();
    workspaces.push(w);
    const before = w.readState();
    const first = await cli(w, ['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    expect(first.code, first.stderr).toBe(0);
    const [writingRun] = runDirs(w);
    const noop = await cli(w, ['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes', '--keep-runs', '1']);
    expect(noop.code, noop.stderr).toBe(0);
    expect(noop.stdout).toContain('Apply result: 0 applied, 0 failed, 0 skipped');
    expect(runDirs(w)).toContain(writingRun);
    const back = await cli(w, ['rollback', writingRun!, '--yes']);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    const after = w.readState();
    expect({ t: after.transportConfig, m: after.mailboxes }).toEqual({ t: before.transportConfig, m: before.mailboxes });
  });
});
