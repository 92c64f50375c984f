/**
 * The allowlist step's findings when the playbook also has a smtp-auth/verify step: that step
 * already names every allowlisted mailbox and every stray $false, so the allowlist step adds only
 * what verify passes today but would break when the organization goes off.
 */
import { describe, expect, it } from 'vitest';
import { allowlistAction } from '../../src/actions/smtp-auth/allowlist.js';
import { transportConfigAction } from '../../src/actions/transport-config.js';
import { allowlistWith, transportConfigWith } from '../../src/playbook/schema.js';
import { context, mailbox, planInput, playbookView, tenant } from './builders.js';

const allow = allowlistWith.parse({ mailboxes: ['scanner@contoso.com', 'erp@contoso.com'], exclusive: true });

function withVerify(verifyWith: Record<string, unknown> = {}) {
  return playbookView([
    { id: 'allow', uses: 'smtp-auth/allowlist', with: allow },
    { id: 'verify', uses: 'smtp-auth/verify', with: verifyWith },
  ]);
}

async function findings(organizationOff: boolean, verifyWith?: Record<string, unknown>) {
  const state = tenant([mailbox('scanner', null), mailbox('erp', false), mailbox('stray', false)], {
    transportConfig: { SmtpClientAuthenticationDisabled: organizationOff },
  });
  const observed = await allowlistAction.observe(allow, context(state), 'allow');
  return allowlistAction.verify(planInput('allow', allow, observed, withVerify(verifyWith)));
}

describe('smtp-auth/allowlist verify next to a smtp-auth/verify step', () => {
  it('names only an allowlisted mailbox that is on just because the organization still is', async () => {
    const result = await findings(false);
    expect(result).toEqual([
      expect.objectContaining({ check: 'allowlisted-explicit', status: 'fail', subject: 'scanner@contoso.com', message: expect.stringContaining('on only while the organization is on') }),
    ]);
  });

  it('says nothing the verify step says (organization off: scanner is off, verify names it and the stray)', async () => {
    expect(await findings(true)).toEqual([]);
  });

  it('reports in full when the verify step checks its own mailboxes instead', async () => {
    const result = await findings(true, { mailboxes: ['erp@contoso.com'] });
    expect(result.filter((f) => f.status === 'fail').map((f) => f.subject)).toEqual(['scanner@contoso.com', 'stray@contoso.com']);
  });
});

describe('transport-config verify next to a smtp-auth/verify step', () => {
  it('leaves organization-off to the verify step, but still reports a playbook that wants it on', async () => {
    const observed = { kind: 'transport-config' as const, smtpClientAuthenticationDisabled: true };
    const view = withVerify();
    const off = transportConfigWith.parse({ smtpClientAuthenticationDisabled: true });
    const on = transportConfigWith.parse({ smtpClientAuthenticationDisabled: false });
    expect(transportConfigAction.verify(planInput('org', off, observed, view))).toEqual([]);
    expect(transportConfigAction.verify(planInput('org', on, observed, view))).toEqual([
      expect.objectContaining({ check: 'organization-on', status: 'fail' }),
    ]);
  });
});
