import { describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../src/engine/types.js';
import { renderApplyText, renderPlanText } from '../../src/report/text.js';

const change = (target: string, before: boolean | null, after: boolean | null) => ({
  id: `allow:${target}:P`,
  stepId: 'allow',
  target,
  property: 'SmtpClientAuthenticationDisabled',
  before,
  after,
  reason: 'because',
  call: { cmdlet: 'Set-CASMailbox', parameters: {} },
  undo: null,
});

const plan: PlanDocument = {
  formatVersion: 1,
  kind: 'plan',
  playbook: { name: 'smtp-auth-disable', file: 'p.yaml', hash: 'abcdef0123456789', change: 'CHG0042' },
  tenant: { organization: 'contoso.onmicrosoft.com', target: 'exchange' },
  createdAt: '2026-11-23T10:00:00.000Z',
  fingerprint: 'sha256:00112233445566',
  steps: [
    {
      stepId: 'allow',
      uses: 'smtp-auth/allowlist',
      changes: [change('a@contoso.com', null, false), change('evil\u001b[2J@contoso.com', false, null), change('c@contoso.com', false, null)],
      inDesiredState: ['d@contoso.com is already $false'],
      notes: [],
      risks: [{ kind: 'will-break', subject: 'x@contoso.com', message: 'still sends', messages: 4, blocking: true }],
    },
  ],
  risks: [],
  summary: { changes: 3, inDesiredState: 1, blockingRisks: 1 },
};

describe('renderPlanText', () => {
  it('puts the change reference first and shows target, property, before -> after and why', () => {
    const text = renderPlanText(plan, { color: false });
    expect(text.split('\n')[0]).toBe('Change: CHG0042');
    expect(text).toContain('~ a@contoso.com  SmtpClientAuthenticationDisabled  $null -> $false');
    expect(text).toContain('    why: because');
    expect(text).toContain('= d@contoso.com is already $false');
    expect(text).toContain('BLOCKING x@contoso.com: still sends (4 messages)');
    expect(text).toContain('Summary: 3 changes, 1 already as desired, 1 blocking risk');
  });

  it('has no escape codes without colour, even from hostile data', () => {
    // eslint-disable-next-line no-control-regex
    expect(renderPlanText(plan, { color: false })).not.toMatch(/\u001b/);
    // eslint-disable-next-line no-control-regex
    expect(renderPlanText(plan, { color: true })).toMatch(/\u001b\[1m/);
  });

  it('shortens long lists and says how many more', () => {
    const text = renderPlanText(plan, { color: false, maxListed: 1 });
    expect(text).toContain('... and 2 more changes');
  });
});

describe('renderApplyText', () => {
  it('lists each failure with its error and the run directory', () => {
    const text = renderApplyText(
      {
        plan,
        runDir: 'runs/20261123T100000Z-smtp-auth-disable',
        results: [
          { changeId: '1', stepId: 'allow', target: 'a@contoso.com', property: 'P', status: 'applied', before: null, after: false, attempts: 1, durationMs: 1, warnings: [] },
          { changeId: '2', stepId: 'allow', target: 'b@contoso.com', property: 'P', status: 'failed', before: false, after: null, attempts: 5, durationMs: 1, warnings: [], error: 'Server Busy' },
        ],
        summary: { applied: 1, failed: 1, skipped: 0 },
        interrupted: false,
      },
      { color: false },
    );
    expect(text).toContain('Apply result: 1 applied, 1 failed, 0 skipped');
    expect(text).toContain('b@contoso.com P -> $null: Server Busy (5 attempts)');
    expect(text).toContain('Run directory: runs/20261123T100000Z-smtp-auth-disable');
  });
});
