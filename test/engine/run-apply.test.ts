/**
 * runApply in-process with fake dependencies: the exit code decisions after apply.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyExitCode } from '../../src/cli/apply.js';
import { runApply } from '../../src/engine/run-apply.js';
import { RefusedError, SessionError } from '../../src/errors.js';
import { readJournal } from '../../src/engine/journal.js';
import { fakeApplyOptions, fakeSession, type FakeSession } from './fakes.js';

let dirs: string[] = [];
afterEach(() => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  dirs = [];
});

function setup(session: FakeSession, values: Record<string, boolean | null>) {
  const dir = mkdtempSync(join(tmpdir(), 'exo-run-apply-'));
  dirs.push(dir);
  const options = fakeApplyOptions(dir, async () => session, [{ id: 's1', values }]);
  return { dir, options };
}

describe('runApply outcomes', () => {
  it('exit 0 when everything applied and verify is compliant', async () => {
    const { options } = setup(fakeSession({ a: null }), { a: false });
    const report = await runApply(options);
    expect(report.summary).toEqual({ applied: 1, failed: 0, skipped: 0 });
    expect(report.verify?.compliant).toBe(true);
    expect(applyExitCode(report)).toBe(0);
  });

  it('exit 2 when every change applied but verify still finds drift', async () => {
    const { options } = setup(fakeSession({ sticky: null }), { sticky: false });
    const report = await runApply(options);
    expect(report.summary.applied).toBe(1);
    expect(report.verify?.compliant).toBe(false);
    expect(applyExitCode(report)).toBe(2);
  });

  it('exit 3 when some change failed; the summary lists it', async () => {
    const session = fakeSession({ a: null, b: null });
    session.failNext('a', 1, 'Access denied');
    const { options } = setup(session, { a: false, b: false });
    const report = await runApply(options);
    expect(report.results.filter((r) => r.status === 'failed').map((r) => [r.target, r.error])).toEqual([['a', 'Set-Value: Access denied']]);
    expect(applyExitCode(report)).toBe(3);
  });

  it('an interrupted run maps to RefusedError guard "interrupted" (exit 4)', async () => {
    const { options } = setup(fakeSession({ a: null, b: null }), { a: false, b: false });
    const controller = new AbortController();
    // Interrupted once the first write started: that write finishes, the second never starts.
    const report = await runApply({ ...options, signal: controller.signal, sinks: [{ emit: (e) => void (e.type === 'change-start' && controller.abort()) }] });
    expect(report.interrupted).toBe(true);
    expect(report.summary).toEqual({ applied: 1, failed: 0, skipped: 1 });
    expect(() => applyExitCode(report)).toThrow(RefusedError);
  });

  it('interrupted while reading: refused (exit 4), nothing written, no run directory', async () => {
    const session = fakeSession({ a: null });
    const { options } = setup(session, { a: false });
    const controller = new AbortController();
    controller.abort();
    await expect(runApply({ ...options, signal: controller.signal })).rejects.toMatchObject({ guard: 'interrupted', exitCode: 4, message: expect.stringMatching(/nothing was written/) });
    expect(session.calls.filter((c) => c.cmdlet.startsWith('Set-'))).toEqual([]);
    // The runs folder is made before sign-in (a bad --runs-dir fails first); no run directory is in it.
    expect(readdirSync(options.runsDir)).toEqual([]);
  });

  it('a read that fails during the verify after apply still leaves the journal with its end record', async () => {
    const session = fakeSession({ a: null });
    const invoke = session.invoke.bind(session);
    session.invoke = async (cmdlet, parameters) => {
      if (cmdlet === 'Get-All' && session.calls.some((c) => c.cmdlet === 'Set-Value')) throw new SessionError('the connection was lost');
      return invoke(cmdlet, parameters);
    };
    const { options } = setup(session, { a: false });
    await expect(runApply(options)).rejects.toThrow(/the connection was lost/);
    const [runDir] = readdirSync(options.runsDir);
    const records = readJournal(join(options.runsDir, runDir!, 'journal.jsonl'));
    expect(records.map((r) => r.type)).toEqual(['run-start', 'before', 'after', 'run-end']);
    expect(records.at(-1)).toMatchObject({ type: 'run-end', summary: { applied: 1, failed: 0, skipped: 0 }, error: expect.stringContaining('the connection was lost') });
  });

  it('a compliant tenant gets zero write calls and still a run directory with the journal', async () => {
    const session = fakeSession({ a: false });
    const { options } = setup(session, { a: false });
    const report = await runApply(options);
    expect(report.writeCalls).toBe(0);
    expect(session.calls.filter((c) => c.cmdlet.startsWith('Set-'))).toEqual([]);
    expect(readdirSync(report.runDir).sort()).toEqual(['journal.jsonl', 'plan.json', 'summary.md']);
  });

  it('refuses without --yes and without a terminal before writing anything', async () => {
    const session = fakeSession({ a: null });
    const { options } = setup(session, { a: false });
    await expect(runApply({ ...options, yes: false })).rejects.toMatchObject({ guard: 'confirmation', exitCode: 4 });
    expect(session.calls.filter((c) => c.cmdlet.startsWith('Set-'))).toEqual([]);
  });
});
