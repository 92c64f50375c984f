/**
 * The confirmation question (issue 10 point 8): impact in mailboxes, and the target, from the plan.
 */
import { describe, expect, it } from 'vitest';
import type { Change, StepPlan } from '../../src/actions/types.js';
import { confirmationQuestion, describeImpact } from '../../src/engine/impact.js';
import type { PlanDocument } from '../../src/engine/types.js';

function change(stepId: string, target: string, before: boolean | null, after: boolean | null): Change {
  const p = 'SmtpClientAuthenticationDisabled';
  return { id: `${stepId}:${target}:${p}`, stepId, target, property: p, before, after, reason: 'r', call: { cmdlet: 'Set-X', parameters: {} }, undo: null };
}

function plan(steps: StepPlan[], target: string): PlanDocument {
  const changes = steps.reduce((n, s) => n + s.changes.length, 0);
  return {
    formatVersion: 1,
    kind: 'plan',
    playbook: { name: 'p', file: '/pb/p.yaml', hash: 'h' },
    tenant: { organization: 'contoso.onmicrosoft.com', target },
    createdAt: 't',
    fingerprint: 'f',
    steps,
    risks: [],
    summary: { changes, inDesiredState: 0, blockingRisks: 0 },
  };
}

describe('confirmationQuestion', () => {
  // 400 mailboxes: 392 follow the organization ($null), 2 allowlisted keep $false, 2 stray $false,
  // 4 explicit $true. The run turns the organization off and resets the strays: 3 calls, 394 mailboxes.
  const steps: StepPlan[] = [
    { stepId: 'org', uses: 'transport-config', changes: [change('org', 'Organization', false, true)], inDesiredState: [], notes: [], risks: [] },
    {
      stepId: 'allow',
      uses: 'smtp-auth/allowlist',
      changes: [change('allow', 's1@contoso.com', false, null), change('allow', 's2@contoso.com', false, null)],
      inDesiredState: ['a1 is already $false', 'a2 is already $false'],
      notes: [],
      risks: [],
      data: { allowlisted: ['a1@contoso.com', 'a2@contoso.com'], totalMailboxes: 400, followingOrganization: 392 },
    },
  ];

  it('states the impact in mailboxes and a REAL target', () => {
    expect(confirmationQuestion(plan(steps, 'exchange'))).toBe(
      'Turn SMTP AUTH off for the organization (394 mailboxes follow it), keep it for 2 allowlisted mailboxes, reset 2 stray overrides. Target: REAL tenant contoso.onmicrosoft.com. Apply these 3 changes? [y/N] ',
    );
  });

  it('names a SIMULATED target by its file', () => {
    expect(confirmationQuestion(plan(steps, 'sim:/x/tenant.json'))).toContain('Target: SIMULATED tenant /x/tenant.json (contoso.onmicrosoft.com).');
  });

  it('without an allowlist step it cannot count, and says what follows instead', () => {
    expect(confirmationQuestion(plan([steps[0]!], 'exchange'))).toBe(
      'Turn SMTP AUTH off for the organization (every mailbox without its own setting follows it). Target: REAL tenant contoso.onmicrosoft.com. Apply this change? [y/N] ',
    );
  });

  it('says when the usage evidence shows no SMTP AUTH senders, before asking', () => {
    const doc = plan(steps, 'exchange');
    doc.risks.push({ kind: 'no-senders', subject: 'report', message: 'no SMTP AUTH senders in 2026-11-16..2026-11-23 according to the admin center csv (r.csv)', blocking: false });
    expect(confirmationQuestion(doc)).toBe(
      'Turn SMTP AUTH off for the organization (394 mailboxes follow it), keep it for 2 allowlisted mailboxes, reset 2 stray overrides. Usage evidence: no SMTP AUTH senders in 2026-11-16..2026-11-23 according to the admin center csv (r.csv). Target: REAL tenant contoso.onmicrosoft.com. Apply these 3 changes? [y/N] ',
    );
  });
});

describe('the confirmation question of an OAuth-senders plan', () => {
  it('names service principals and grants, not "other changes"', async () => {
    const { servicePrincipalChange, scopeChange, assignmentChange, permissionChange } = await import('../../src/actions/smtp-auth/oauth-senders/grants.js');
    const sp = { AppId: '11111111-1111-4111-8111-111111111111', ObjectId: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', DisplayName: 'Scanner' };
    const changes = [
      servicePrincipalChange('oauth', null, sp, ''),
      scopeChange('oauth', null, { Name: 'n', RecipientRestrictionFilter: "PrimarySmtpAddress -eq 'a@contoso.com'" }, ''),
      assignmentChange('oauth', 'a@contoso.com', null, { Name: 'n', Role: 'Application SMTP.SendAsApp', App: sp.ObjectId, CustomResourceScope: 'n' }, ''),
      permissionChange('oauth', 'b@contoso.com', undefined, null, { User: sp.ObjectId, AccessRights: ['FullAccess'] }, ''),
      assignmentChange('oauth', 'c@contoso.com', { Name: 'old', Role: 'Application SMTP.SendAsApp', App: sp.ObjectId, CustomResourceScope: 'x' }, null, ''),
    ];
    const plan = { steps: [{ stepId: 'oauth', uses: 'smtp-auth/oauth-senders', changes, inDesiredState: [], notes: [], risks: [] }] } as unknown as Parameters<typeof describeImpact>[0];
    expect(describeImpact(plan)).toBe('Create 1 Exchange service principal, let apps send as 2 mailboxes with OAuth, remove 1 SMTP.SendAsApp grant');
  });
});
