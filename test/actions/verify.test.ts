import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/actions/registry.js';
import { verifyAction } from '../../src/actions/smtp-auth/verify.js';
import { transportConfigAction } from '../../src/actions/transport-config.js';
import type { Finding } from '../../src/actions/types.js';
import { verifyWith, transportConfigWith } from '../../src/playbook/schema.js';
import { context, mailbox, planInput, playbookView, tenant } from './builders.js';

const compliantish = () =>
  tenant(
    [
      mailbox('scanner', false),
      mailbox('erp', false, { AuthenticationPolicy: 'Block Basic SMTP' }),
      mailbox('alice', null),
      mailbox('rogue', false),
      mailbox('locked', true),
    ],
    {
      transportConfig: { SmtpClientAuthenticationDisabled: true },
      authenticationPolicies: [
        { Name: 'Block Basic SMTP', AllowBasicAuthSmtp: false },
        { Name: 'Allow', AllowBasicAuthSmtp: true },
      ],
    },
  );

const summary = (findings: Finding[]) => findings.map((f) => `${f.status} ${f.check} ${f.subject}`);

describe('smtp-auth/verify', () => {
  it('lists a re-enabled offender by its override and flags an allowlisted mailbox blocked by a policy', async () => {
    const w = verifyWith.parse({ mailboxes: ['scanner@contoso.com', 'erp@contoso.com'] });
    const observed = await verifyAction.observe(w, context(compliantish()), 'verify');
    const findings = verifyAction.verify(planInput('verify', w, observed));
    expect(summary(findings)).toEqual([
      'pass organization-off Organization',
      'pass allowlisted-on scanner@contoso.com',
      'pass allowlisted-on erp@contoso.com',
      'warn allowlisted-basic-auth erp@contoso.com',
      'fail others-off rogue@contoso.com',
    ]);
    expect(findings.find((f) => f.subject === 'rogue@contoso.com')!.message).toContain('explicit $false');
    expect(findings.find((f) => f.check === 'allowlisted-basic-auth')!.message).toContain("'Block Basic SMTP'");
  });

  it('the organization default policy counts too; checkAuthenticationPolicies: false skips the reads', async () => {
    const state = tenant([mailbox('scanner', false)], {
      transportConfig: { SmtpClientAuthenticationDisabled: true },
      organizationConfig: { DefaultAuthenticationPolicy: 'Strict' },
      authenticationPolicies: [{ Name: 'Strict', AllowBasicAuthSmtp: false }],
    });
    const w = verifyWith.parse({ mailboxes: ['scanner@contoso.com'] });
    const findings = verifyAction.verify(planInput('verify', w, await verifyAction.observe(w, context(state), 'v')));
    expect(summary(findings)).toContain('warn allowlisted-basic-auth scanner@contoso.com');
    const off = verifyWith.parse({ mailboxes: ['scanner@contoso.com'], checkAuthenticationPolicies: false });
    const ctx = context(state);
    const quiet = verifyAction.verify(planInput('v', off, await verifyAction.observe(off, ctx, 'v')));
    expect(summary(quiet).some((s) => s.startsWith('warn'))).toBe(false);
    expect(ctx.calls.map((c) => c.cmdlet)).not.toContain('Get-User');
  });

  it("defaults to the playbook's allowlist steps and counts inheriting mailboxes when the organization is on", async () => {
    const state = tenant([mailbox('scanner', false), mailbox('a'), mailbox('b')]);
    const ctx = context(state);
    const allowWith = ACTIONS['smtp-auth/allowlist']!.withSchema.parse({ mailboxes: ['scanner@contoso.com'] });
    const allowObserved = await ACTIONS['smtp-auth/allowlist']!.observe(allowWith, ctx, 'allow');
    const w = verifyWith.parse({});
    const observed = await verifyAction.observe(w, ctx, 'verify');
    const playbook = playbookView([
      { id: 'allow', uses: 'smtp-auth/allowlist', with: allowWith },
      { id: 'verify', uses: 'smtp-auth/verify', with: w },
    ]);
    const findings = verifyAction.verify(planInput('verify', w, observed, playbook, new Map([['allow', allowObserved]])));
    expect(summary(findings)).toEqual([
      'fail organization-off Organization',
      'pass allowlisted-on scanner@contoso.com',
      'fail others-off Mailboxes',
    ]);
    expect(findings[2]!.message).toBe('2 mailbox(es) with $null follow the organization, which is on');
  });
});

describe('transport-config', () => {
  it('plans one Set-TransportConfig with an exact undo, and nothing when already as desired', async () => {
    const w = transportConfigWith.parse({ smtpClientAuthenticationDisabled: true });
    const on = await transportConfigAction.observe(w, context(tenant([])), 'org');
    const plan = transportConfigAction.plan(planInput('org', w, on));
    expect(plan.changes.map((c) => [c.id, c.before, c.after, c.call, c.undo])).toEqual([
      [
        'org:Organization:SmtpClientAuthenticationDisabled',
        false,
        true,
        { cmdlet: 'Set-TransportConfig', parameters: { SmtpClientAuthenticationDisabled: true } },
        { cmdlet: 'Set-TransportConfig', parameters: { SmtpClientAuthenticationDisabled: false } },
      ],
    ]);
    expect(summary(transportConfigAction.verify(planInput('org', w, on)))).toEqual(['fail organization-off Organization']);
    const off = await transportConfigAction.observe(w, context(tenant([], { transportConfig: { SmtpClientAuthenticationDisabled: true } })), 'org');
    expect(transportConfigAction.plan(planInput('org', w, off)).changes).toEqual([]);
  });
});
