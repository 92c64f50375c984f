/**
 * runRollback when it cannot tell (issue 10 point 2): the journal says a write's outcome is unknown,
 * and the tenant can be neither read nor written. Rollback must not exit 0.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyExitCode } from '../../src/cli/apply.js';
import { runRollback } from '../../src/engine/run-rollback.js';
import { SessionError } from '../../src/errors.js';
import type { ExchangeSession } from '../../src/exchange/session.js';
import { fakeApplyOptions } from './fakes.js';
import { transportConfigAction } from '../../src/actions/transport-config.js';

let dirs: string[] = [];
afterEach(() => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  dirs = [];
});

const unreachable: ExchangeSession = {
  kind: 'simulator',
  invoke: async (cmdlet) => {
    throw new SessionError(`${cmdlet}: the connection was lost`);
  },
  // eslint-disable-next-line require-yield
  stream: async function* (cmdlet) {
    throw new SessionError(`${cmdlet}: the connection was lost`);
  },
  close: async () => undefined,
};

describe('runRollback of an unknown write', () => {
  it('that can be neither read nor written: the undo fails, the check fails, exit 3', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exo-run-rollback-'));
    dirs.push(dir);
    const fake = fakeApplyOptions(dir, async () => unreachable, [{ id: 'org', values: {} }]);
    // Rollback derives the undo through the action that wrote the step (the run's plan names it).
    const options = { ...fake, deps: { ...fake.deps, actions: { ...fake.deps.actions, 'transport-config': transportConfigAction } } };
    const runDir = join(dir, 'runs', '20261120T010000Z-fake');
    mkdirSync(runDir, { recursive: true });
    const plan = { formatVersion: 1, kind: 'plan', steps: [{ stepId: 'org', uses: 'transport-config', changes: [], inDesiredState: [], notes: [], risks: [] }], risks: [], fingerprint: 'f', createdAt: 't', summary: { changes: 1, inDesiredState: 0, blockingRisks: 0 }, playbook: { name: 'fake', file: options.playbookFile, hash: 'h1' }, tenant: { organization: 'contoso.onmicrosoft.com', target: options.target } };
    writeFileSync(join(runDir, 'plan.json'), JSON.stringify(plan));
    const records = [
      { seq: 1, at: 't', type: 'run-start', kind: 'apply', playbook: plan.playbook, tenant: plan.tenant, host: 'h', pid: 1 },
      { seq: 2, at: 't', type: 'before', changeId: 'org:Organization:SmtpClientAuthenticationDisabled', stepId: 'org', target: 'Organization', property: 'SmtpClientAuthenticationDisabled', before: false, after: true, cmdlet: 'Set-TransportConfig', parameters: { SmtpClientAuthenticationDisabled: true }, undo: { cmdlet: 'Set-TransportConfig', parameters: { SmtpClientAuthenticationDisabled: false } } },
      { seq: 3, at: 't', type: 'after', changeId: 'org:Organization:SmtpClientAuthenticationDisabled', outcome: 'unknown', readBack: { verdict: 'unknown', error: 'the read-back failed too' }, attempts: 1, durationMs: 1, warnings: [] },
      { seq: 4, at: 't', type: 'run-end', summary: { applied: 0, failed: 1, skipped: 0 }, interrupted: false },
    ];
    writeFileSync(join(runDir, 'journal.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');

    const report = await runRollback({ ...options, runDir, targetGiven: false });
    expect(report.plan.steps[0]!.risks[0]!.message).toMatch(/cannot be read, and the journal says the write was unknown/);
    expect(report.summary).toEqual({ applied: 0, failed: 1, skipped: 0 });
    expect(report.results[0]).toMatchObject({ status: 'failed', readBack: { verdict: 'unknown' } });
    expect(report.verify?.findings).toEqual([expect.objectContaining({ status: 'fail', message: expect.stringMatching(/cannot be re-read .*check it by hand/) })]);
    expect(applyExitCode(report)).toBe(3);
  });
});
