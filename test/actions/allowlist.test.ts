import { describe, expect, it } from 'vitest';
import { allowlistAction } from '../../src/actions/smtp-auth/allowlist.js';
import { blockingPolicy } from '../../src/actions/smtp-auth/authentication-policies.js';
import { allowlistWith } from '../../src/playbook/schema.js';
import { InputError } from '../../src/errors.js';
import { at, context, mailbox, planInput, playbookView, tenant } from './builders.js';

const withValue = (w: Partial<{ mailboxes: string[]; exclusive: boolean; explicitDisabled: 'keep' | 'inherit' }>) =>
  allowlistWith.parse({ mailboxes: [], ...w });

function tenantWithStrays() {
  return tenant([
    mailbox('scanner', null),
    mailbox('erp', false),
    mailbox('stray1', false),
    mailbox('stray2', false),
    mailbox('locked', true),
    mailbox('alice', null),
  ]);
}

async function plan(w: ReturnType<typeof withValue>, state = tenantWithStrays()) {
  const ctx = context(state);
  const observed = await allowlistAction.observe(w, ctx, 'allow');
  return { ctx, observed, plan: allowlistAction.plan(planInput('allow', w, observed)) };
}

describe('smtp-auth/allowlist plan', () => {
  it('gives allowlisted mailboxes $false and leaves the others when not exclusive', async () => {
    const { plan: p } = await plan(withValue({ mailboxes: ['scanner@contoso.com', 'erp@contoso.com'] }));
    expect(p.changes.map((c) => [c.target, c.before, c.after])).toEqual([['scanner@contoso.com', null, false]]);
    // The write names the mailbox by the Guid the bulk read returned; the address stays the target.
    const scannerGuid = tenantWithStrays().mailboxes.find((m) => m.Name === 'scanner')!.Guid;
    expect(p.changes[0]!.call).toEqual({ cmdlet: 'Set-CASMailbox', parameters: { Identity: scannerGuid, SmtpClientAuthenticationDisabled: false } });
    expect(p.changes[0]!.targetId).toBe(scannerGuid);
    expect(p.changes[0]!.undo?.parameters.SmtpClientAuthenticationDisabled).toBeNull();
    expect(p.inDesiredState).toEqual(['erp@contoso.com SmtpClientAuthenticationDisabled is already $false (allowlisted)']);
    expect(p.risks.map((r) => r.subject)).toEqual(['stray1@contoso.com', 'stray2@contoso.com']);
    expect(p.risks.every((r) => !r.blocking)).toBe(true);
  });

  it('exclusive: stray $false become $null; explicit $true kept by default and counted', async () => {
    const { plan: p } = await plan(withValue({ mailboxes: ['scanner@contoso.com', 'erp@contoso.com'], exclusive: true }));
    expect(p.changes.map((c) => [c.target, c.before, c.after])).toEqual([
      ['scanner@contoso.com', null, false],
      ['stray1@contoso.com', false, null],
      ['stray2@contoso.com', false, null],
    ]);
    expect(p.notes.join('\n')).toContain('1 other mailbox(es) keep an explicit $true');
  });

  it('explicitDisabled: inherit resets explicit $true on other mailboxes to $null too', async () => {
    const { plan: p } = await plan(withValue({ mailboxes: ['erp@contoso.com'], exclusive: true, explicitDisabled: 'inherit' }));
    expect(p.changes.find((c) => c.target === 'locked@contoso.com')).toMatchObject({ before: true, after: null });
  });

  it('resolves UPN, proxy address and alias entries to the primary address, listing a mailbox once', async () => {
    const { plan: p, ctx } = await plan(
      withValue({ mailboxes: ['scanner@contoso.onmicrosoft.com', 'SCANNER@contoso.com', 'alice'], exclusive: true }),
    );
    expect(p.changes.filter((c) => c.after === false).map((c) => c.target)).toEqual(['scanner@contoso.com', 'alice@contoso.com']);
    expect(p.notes).toContain('SCANNER@contoso.com is scanner@contoso.com, already listed');
    // One bulk read, no per-mailbox Get for the whole tenant.
    expect(ctx.calls.filter((c) => c.cmdlet === 'Get-EXOCASMailbox')).toHaveLength(1);
    expect(ctx.calls[ctx.calls.findIndex((c) => c.cmdlet === 'Get-EXOCASMailbox')]!.parameters).toMatchObject({
      ResultSize: 'Unlimited',
      Properties: ['SmtpClientAuthenticationDisabled'],
    });
  });

  it('is a no-op on a compliant tenant', async () => {
    const state = tenant([mailbox('erp', false), mailbox('a', null), mailbox('b', true)], {
      transportConfig: { SmtpClientAuthenticationDisabled: true },
    });
    const { plan: p } = await plan(withValue({ mailboxes: ['erp@contoso.com'], exclusive: true }), state);
    expect(p.changes).toEqual([]);
  });

  it('an unknown entry stops the plan with an error located where the address came from', async () => {
    const w = withValue({ mailboxes: ['erp@contoso.com', 'ghost@contoso.com', 'nobody@contoso.com'], exclusive: true });
    const ctx = context(tenantWithStrays());
    const observed = await allowlistAction.observe(w, ctx, 'allow');
    const playbook = playbookView([{ id: 'allow', uses: 'smtp-auth/allowlist', with: w }], {
      origins: new Map([['ghost@contoso.com', [at('allow.txt', 7, 1)]]]),
      locate: (path) => (path.join('.') === 'steps.0.with.mailboxes.2' ? at('pb.yaml', 12, 9) : undefined),
    });
    let error: unknown;
    try {
      allowlistAction.plan(planInput('allow', w, observed, playbook));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    const e = error as InputError;
    expect(e.location).toEqual(at('allow.txt', 7, 1));
    expect(e.message).toContain("'ghost@contoso.com' matches no mailbox");
    expect(e.message).toContain('nobody@contoso.com (pb.yaml:12:9)');
    // The individual look-up was tried for the unknown entries only.
    expect(ctx.calls.filter((c) => c.cmdlet === 'Get-EXOMailbox').map((c) => c.parameters.Identity)).toEqual([
      'ghost@contoso.com',
      'nobody@contoso.com',
    ]);
  });
});

describe('smtp-auth/allowlist verify', () => {
  it('fails for an allowlisted mailbox without $false and for strays when exclusive', async () => {
    const w = withValue({ mailboxes: ['scanner@contoso.com', 'erp@contoso.com'], exclusive: true });
    const ctx = context(tenantWithStrays());
    const observed = await allowlistAction.observe(w, ctx, 'allow');
    const findings = allowlistAction.verify(planInput('allow', w, observed));
    expect(findings.filter((f) => f.status === 'fail').map((f) => f.subject)).toEqual([
      'scanner@contoso.com',
      'stray1@contoso.com',
      'stray2@contoso.com',
    ]);
  });
});

describe('smtp-auth/allowlist at scale', () => {
  it('20,000 mailboxes: one streamed bulk read, and an observation that grows with the overrides, not the tenant', async () => {
    const { generateTenant } = await import('../../src/exchange/simulator/generate.js');
    const state = generateTenant({ mailboxes: 20_000, seed: 3, explicitEnabled: 40, explicitDisabled: 10 });
    const ctx = context(state);
    const w = withValue({ mailboxes: [state.mailboxes[9]!.PrimarySmtpAddress], exclusive: true });
    const observed = await allowlistAction.observe(w, ctx, 'allow');
    expect(observed.totalMailboxes).toBe(20_000);
    expect(observed.overrides).toHaveLength(50);
    expect(JSON.stringify(observed).length).toBeLessThan(10_000);
    expect(ctx.calls.filter((c) => /Mailbox$/.test(c.cmdlet)).map((c) => c.cmdlet)).toEqual(['Get-EXOCASMailbox']);
    const plan = allowlistAction.plan(planInput('allow', w, observed));
    // Writes only for real differences: the allowlisted mailbox (unless already $false) and the strays.
    const strays = state.mailboxes.filter((m) => m.SmtpClientAuthenticationDisabled === false && m !== state.mailboxes[9]).length;
    expect(plan.changes.filter((c) => c.after === null)).toHaveLength(strays);
  });
});

describe('smtp-auth/allowlist authentication policies', () => {
  it('reads every user policy in one Get-User call, however long the allowlist', async () => {
    const listed = Array.from({ length: 60 }, (_, i) => mailbox(`device${String(i).padStart(2, '0')}`, false));
    // Two devices are held to a policy that blocks Basic SMTP; one has a policy that allows it.
    listed[3]!.AuthenticationPolicy = 'Block Basic SMTP';
    listed[41]!.AuthenticationPolicy = 'Block Basic SMTP';
    listed[7]!.AuthenticationPolicy = 'Allow SMTP';
    const state = tenant([...listed, mailbox('alice', null, { AuthenticationPolicy: 'Block Basic SMTP' })]);
    state.authenticationPolicies = [
      { Name: 'Block Basic SMTP', AllowBasicAuthSmtp: false },
      { Name: 'Allow SMTP', AllowBasicAuthSmtp: true },
    ];
    const { ctx, observed } = await plan(withValue({ mailboxes: listed.map((m) => m.PrimarySmtpAddress) }), state);
    const userReads = ctx.calls.filter((c) => c.cmdlet === 'Get-User');
    expect(userReads).toEqual([{ cmdlet: 'Get-User', parameters: { Filter: 'AuthenticationPolicy -ne $null', ResultSize: 'Unlimited' } }]);
    const authentication = observed.authentication!;
    // Each listed mailbox has its own policy or null (the default applies); alice is not listed.
    expect(Object.keys(authentication.assigned)).toHaveLength(60);
    expect(Object.entries(authentication.assigned).filter(([, policy]) => policy !== null)).toEqual([
      ['device03@contoso.com', 'Block Basic SMTP'],
      ['device07@contoso.com', 'Allow SMTP'],
      ['device41@contoso.com', 'Block Basic SMTP'],
    ]);
    expect(blockingPolicy(authentication, 'device03@contoso.com')).toBe('Block Basic SMTP');
    expect(blockingPolicy(authentication, 'device07@contoso.com')).toBeNull();
  });
});
