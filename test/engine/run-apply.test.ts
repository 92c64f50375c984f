/**
 * runApply in-process with fake dependencies: the exit code decisions after apply.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyExitCode } from '../../src/cli/apply.js';
import { runApply } from '../../src/engine/run-apply.js';
import { RefusedError } from '../../src/errors.js';
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
    const { options } = setup(fakeSession({ a: null }), { a: false });
    const controller = new AbortController();
    controller.abort();
    const report = await runApply({ ...options, signal: controller.signal });
    expect(report.interrupted).toBe(true);
    expect(() => applyExitCode(report)).toThrow(RefusedError);
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
