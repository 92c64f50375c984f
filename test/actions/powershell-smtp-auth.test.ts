/**
 * A powershell step's write that changes SMTP AUTH is the typed change the actions plan (issue 24):
 * its before-value observed, the lockout guard, rollback's inverse and verify all see it; a write
 * whose effect cannot be derived is a blocking risk that only the step's acceptUnderivedEffect accepts.
 */
import { describe, expect, it } from 'vitest';
import { powershellAction, type PowershellObserved } from '../../src/actions/powershell.js';
import { smtpAuthEffect } from '../../src/actions/powershell-smtp-auth.js';
import { lockoutGuard } from '../../src/actions/smtp-auth/lockout-guard.js';
import { allowlistAction } from '../../src/actions/smtp-auth/allowlist.js';
import type { StepPlan } from '../../src/actions/types.js';
import { confirmationQuestion } from '../../src/engine/impact.js';
import { powershellWith, allowlistWith } from '../../src/playbook/schema.js';
import { context, mailbox, planInput, playbookView, tenant } from './builders.js';

const w = (value: Record<string, unknown>) => powershellWith.parse({ allowWrite: true, ...value });

describe('what a powershell write does to SMTP AUTH', () => {
  it.each([
    ['Set-CASMailbox', { Identity: 'alice@contoso.com', SmtpClientAuthenticationDisabled: true }, { kind: 'mailbox', identity: 'alice@contoso.com', after: true }],
    ['set-casmailbox', { identity: '00000000-0000-4000-8000-00000000beef', smtpclientauthenticationdisabled: null }, { kind: 'mailbox', identity: '00000000-0000-4000-8000-00000000beef', after: null }],
    ['Set-TransportConfig', { SmtpClientAuthenticationDisabled: false }, { kind: 'organization', after: false }],
    ['Set-CASMailbox', { Identity: 'alice@contoso.com', PopEnabled: false }, { kind: 'none' }],
    ['Start-HistoricalSearch', { ReportTitle: 'x' }, { kind: 'none' }],
  ])('%s %j is derived', (cmdlet, parameters, effect) => {
    expect(smtpAuthEffect(cmdlet, parameters)).toEqual(effect);
  });

  it.each([
    ['Set-CASMailbox', { Identity: 'alice@contoso.com', SmtpClientAuth: true }, /abbreviation PowerShell may bind to -SmtpClientAuthenticationDisabled/],
    ['Set-CASMailbox', { Identity: 'alice@contoso.com', S: true }, /abbreviation/],
    ['Set-CASMailbox', { Identity: 'alice', SmtpClientAuthenticationDisabled: true }, /'alice' is not a mailbox address or Guid/],
    ['Set-CASMailbox', { Identity: 'contoso\\alice', SmtpClientAuthenticationDisabled: true }, /not a mailbox address or Guid/],
    ['Set-CASMailbox', { Identity: ['alice@contoso.com', 'bob@contoso.com'], SmtpClientAuthenticationDisabled: true }, /not a mailbox address or Guid/],
    ['Set-CASMailbox', { SmtpClientAuthenticationDisabled: true }, /-Identity is missing/],
    ['Set-CASMailbox', { Identity: 'alice@contoso.com', SmtpClientAuthenticationDisabled: 'true' }, /takes \$true, \$false or \$null, not 'true'/],
    ['Set-CASMailbox', { Identity: 'alice@contoso.com', SmtpClientAuthenticationDisabled: 1 }, /not 1/],
    ['Set-CASMailbox', { Identity: 'alice@contoso.com', SmtpClientAuthenticationDisabled: true, PopEnabled: false }, /mixed with -PopEnabled/],
    ['Set-TransportConfig', { SmtpClientAuthenticationDisabled: null }, /takes \$true or \$false, not \$null/],
    ['Set-CASMailbox', { Identity: 'bob@contoso.com', identity: 'alice@contoso.com', SmtpClientAuthenticationDisabled: true }, /-identity is named twice/],
    ['Start-HistoricalSearch', { ReportTitle: 'a', reporttitle: 'b' }, /named twice/],
    ['Set-TransportConfig', { SmtpClientAuthenticationDisabled: true, ErrorAction: 'Stop' }, /mixed with -ErrorAction/],
    ['Set-TransportConfig', { AllowLegacyTLSClients: true }, /AllowLegacyTLSClients changes who may use SMTP AUTH/],
    ['Set-AuthenticationPolicy', { Identity: 'Block Basic', AllowBasicAuthSmtp: false }, /does not model what Set-AuthenticationPolicy does/],
    ['Set-User', { Identity: 'alice@contoso.com', AuthenticationPolicy: 'Block Basic' }, /does not model/],
  ])('%s %j is not derived', (cmdlet, parameters, why) => {
    const effect = smtpAuthEffect(cmdlet, parameters as never);
    expect(effect.kind).toBe('underived');
    expect(effect.kind === 'underived' && effect.why).toMatch(why);
  });
});

async function planned(state: ReturnType<typeof tenant>, withValue: ReturnType<typeof w>, stepId = 'raw') {
  const ctx = context(state);
  const observed = (await powershellAction.observe(withValue, ctx, stepId)) as PowershellObserved;
  return { ctx, observed, plan: powershellAction.plan(planInput(stepId, withValue, observed)) };
}

describe('a derivable powershell write is the typed change', () => {
  it('Set-CASMailbox: observes the tri-state before-value, plans the allowlist builder\'s change by Guid, with its undo', async () => {
    const state = tenant([mailbox('alice', null), mailbox('bob', false)]);
    const { ctx, observed, plan } = await planned(state, w({ cmdlet: 'Set-CASMailbox', parameters: { Identity: 'ALICE@contoso.com', SmtpClientAuthenticationDisabled: true } }));
    expect(ctx.calls.map((c) => c.cmdlet)).not.toContain('Set-CASMailbox');
    expect(observed).toMatchObject({ organizationDisabled: false, mailbox: { mailbox: 'alice@contoso.com', id: state.mailboxes[0]!.Guid, value: null } });
    expect(ctx.calls).toContainEqual(expect.objectContaining({ cmdlet: 'Get-CASMailbox', parameters: { Identity: 'ALICE@contoso.com' } }));
    const guid = state.mailboxes[0]!.Guid;
    expect(plan.changes).toEqual([
      expect.objectContaining({
        id: 'raw:alice@contoso.com:SmtpClientAuthenticationDisabled',
        target: 'alice@contoso.com',
        targetId: guid,
        property: 'SmtpClientAuthenticationDisabled',
        before: null,
        after: true,
        call: { cmdlet: 'Set-CASMailbox', parameters: { Identity: guid, SmtpClientAuthenticationDisabled: true } },
        undo: { cmdlet: 'Set-CASMailbox', parameters: { Identity: guid, SmtpClientAuthenticationDisabled: null } },
      }),
    ]);
    expect(plan.risks).toEqual([]);
    expect(state.mailboxes[0]!.SmtpClientAuthenticationDisabled).toBeNull();
  });

  it('a value the tenant already holds is no change', async () => {
    const { plan } = await planned(tenant([mailbox('bob', false)]), w({ cmdlet: 'Set-CASMailbox', parameters: { Identity: 'bob@contoso.com', SmtpClientAuthenticationDisabled: false } }));
    expect(plan.changes).toEqual([]);
    expect(plan.inDesiredState).toEqual([expect.stringContaining('bob@contoso.com SmtpClientAuthenticationDisabled is already $false')]);
  });

  it('Set-TransportConfig: the organization builder\'s change, and the lockout guard names the active sender it cuts off', async () => {
    const state = tenant([mailbox('alice', null)]);
    const { plan } = await planned(state, w({ cmdlet: 'Set-TransportConfig', parameters: { SmtpClientAuthenticationDisabled: true } }), 'org');
    expect(plan.changes).toEqual([
      expect.objectContaining({ target: 'Organization', before: false, after: true, undo: { cmdlet: 'Set-TransportConfig', parameters: { SmtpClientAuthenticationDisabled: false } } }),
    ]);
    const usage = {
      kind: 'smtp-auth-usage',
      organizationDisabled: false,
      rows: [{ sender: 'alice@contoso.com', protocol: 'Basic', messages: 24, lastSeen: '2026-11-22T10:00:00Z' }],
      senders: [{ entry: 'alice@contoso.com', mailbox: 'alice@contoso.com', value: null }],
      evidence: [],
    };
    const risks = lockoutGuard([plan], {
      playbook: playbookView([{ id: 'org', uses: 'powershell', with: {} }]),
      observations: new Map<string, unknown>([['usage', usage]]),
    });
    expect(risks).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'will-break', subject: 'alice@contoso.com', blocking: true, accepted: false })]));
  });

  it('an address that names no mailbox the run read is not derived: a blocking risk, accepted only by acceptUnderivedEffect', async () => {
    const state = tenant([mailbox('alice', null)]);
    const ghost = { cmdlet: 'Set-CASMailbox', parameters: { Identity: 'ghost@contoso.com', SmtpClientAuthenticationDisabled: true } };
    const refused = (await planned(state, w(ghost))).plan;
    expect(refused.changes).toEqual([expect.objectContaining({ property: '(run)', undo: null })]);
    expect(refused.risks).toEqual([expect.objectContaining({ kind: 'underived-effect', blocking: true, accepted: false, message: expect.stringContaining("'ghost@contoso.com' names no single mailbox") })]);

    const reason = 'CHG0099: ghost is a retired shared mailbox';
    const accepted = (await planned(state, w({ ...ghost, acceptUnderivedEffect: { reason } }))).plan;
    expect(accepted.risks).toEqual([expect.objectContaining({ kind: 'underived-effect', accepted: true, message: expect.stringContaining(reason) })]);
    expect(accepted.changes[0]!.reason).toContain(`accepted by acceptUnderivedEffect: ${reason}`);
  });

  it('a Guid must be the observed mailbox\'s own id', async () => {
    const state = tenant([mailbox('alice', null)]);
    const byGuid = await planned(state, w({ cmdlet: 'Set-CASMailbox', parameters: { Identity: state.mailboxes[0]!.Guid, SmtpClientAuthenticationDisabled: false } }));
    expect(byGuid.plan.changes).toEqual([expect.objectContaining({ target: 'alice@contoso.com', before: null, after: false })]);
    const unknown = await planned(state, w({ cmdlet: 'Set-CASMailbox', parameters: { Identity: '00000000-0000-4000-8000-0000000dead0', SmtpClientAuthenticationDisabled: false } }));
    expect(unknown.plan.risks).toEqual([expect.objectContaining({ kind: 'underived-effect', accepted: false })]);
  });

  it('starts from what an earlier step leaves on the same switch, so apply and rollback write the right values', async () => {
    const state = tenant([mailbox('alice', null), mailbox('stray', false)]);
    const ctx = context(state);
    const allowWith = allowlistWith.parse({ mailboxes: ['alice@contoso.com'], exclusive: true });
    const allow = allowlistAction.plan(planInput('allow', allowWith, await allowlistAction.observe(allowWith, ctx, 'allow')));
    expect(allow.changes.find((c) => c.target === 'stray@contoso.com')).toMatchObject({ before: false, after: null });
    const raw = w({ cmdlet: 'Set-CASMailbox', parameters: { Identity: 'stray@contoso.com', SmtpClientAuthenticationDisabled: false } });
    const input = planInput('raw', raw, await powershellAction.observe(raw, ctx, 'raw'));
    const own = powershellAction.plan(input);
    // Alone, stray already holds $false; after the allowlist's reset it holds $null.
    expect(own.changes).toEqual([]);
    const completed = powershellAction.completePlan!(input, own, [allow, own] as StepPlan[]);
    expect(completed.changes).toEqual([expect.objectContaining({ target: 'stray@contoso.com', before: null, after: false })]);
  });
});

describe('rollback of a powershell step\'s write', () => {
  it('inverts a typed write through the same builders, tri-state exact; a verbatim call has no undo', () => {
    const invert = powershellAction.invert!;
    expect(
      invert({ changeId: 'raw:alice@contoso.com:SmtpClientAuthenticationDisabled', stepId: 'raw', target: 'alice@contoso.com', targetId: 'g-1', property: 'SmtpClientAuthenticationDisabled', before: null, after: true }),
    ).toMatchObject({ before: true, after: null, call: { cmdlet: 'Set-CASMailbox', parameters: { Identity: 'g-1', SmtpClientAuthenticationDisabled: null } } });
    expect(invert({ changeId: 'org:Organization:SmtpClientAuthenticationDisabled', stepId: 'org', target: 'Organization', property: 'SmtpClientAuthenticationDisabled', before: false, after: true })).toMatchObject({
      call: { cmdlet: 'Set-TransportConfig', parameters: { SmtpClientAuthenticationDisabled: false } },
    });
    expect(invert({ changeId: 'x', stepId: 'raw', target: 'Start-HistoricalSearch', property: '(run)', before: null, after: '(run)' })).toBe('no-undo');
    // A forged record asking for another property is no write this action makes.
    expect(invert({ changeId: 'x', stepId: 'raw', target: 'alice@contoso.com', property: 'PopEnabled', before: true, after: false })).toBeNull();
  });
});

describe('the confirmation question counts a powershell step\'s writes', () => {
  const question = (steps: StepPlan[]) =>
    confirmationQuestion({
      formatVersion: 1,
      kind: 'plan',
      playbook: { name: 'p', file: '/pb/p.yaml', hash: 'h' },
      tenant: { organization: 'contoso.onmicrosoft.com', target: 'exchange' },
      createdAt: 't',
      fingerprint: 'f',
      steps,
      risks: [],
      summary: { changes: steps.reduce((n, s) => n + s.changes.length, 0), inDesiredState: 0, blockingRisks: 0 },
    });

  it('a derived Set-CASMailbox and Set-TransportConfig as SMTP AUTH changes', async () => {
    const state = tenant([mailbox('alice', null)]);
    const cas = (await planned(state, w({ cmdlet: 'Set-CASMailbox', parameters: { Identity: 'alice@contoso.com', SmtpClientAuthenticationDisabled: true } }), 'cas')).plan;
    const org = (await planned(state, w({ cmdlet: 'Set-TransportConfig', parameters: { SmtpClientAuthenticationDisabled: true } }), 'org')).plan;
    expect(question([cas])).toBe('Turn SMTP AUTH off for 1 mailbox. Target: REAL tenant contoso.onmicrosoft.com. Apply this change? [y/N] ');
    expect(question([org])).toMatch(/^Turn SMTP AUTH off for the organization \(every mailbox without its own setting follows it\)\./);
  });

  it('an accepted underived write by what it is', async () => {
    const state = tenant([mailbox('alice', null)]);
    const raw = (await planned(state, w({ cmdlet: 'Set-CASMailbox', parameters: { Identity: 'alice', SmtpClientAuthenticationDisabled: true }, acceptUnderivedEffect: { reason: 'CHG0099: device retired' } }))).plan;
    expect(question([raw])).toBe(
      'Run 1 powershell write whose effect on SMTP AUTH is not derived (accepted by acceptUnderivedEffect). Target: REAL tenant contoso.onmicrosoft.com. Apply this change? [y/N] ',
    );
  });
});
