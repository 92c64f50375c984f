/**
 * smtp-auth/oauth-senders, pure parts: the inverse of every write is derived from the journal's
 * values (and nothing else is), the OPATH filter quotes its address, a second plan on a provisioned
 * tenant is empty, and exclusive removals go through the grant guard.
 */
import { describe, expect, it } from 'vitest';
import { assignmentChange, grantName, invertGrantWrite, permissionChange, scopeChange, servicePrincipalChange } from '../../src/actions/smtp-auth/oauth-senders/grants.js';
import { grantGuard } from '../../src/actions/smtp-auth/oauth-senders/grant-guard.js';
import { planOAuthSenders } from '../../src/actions/smtp-auth/oauth-senders/plan.js';
import type { OAuthSendersObserved } from '../../src/actions/smtp-auth/oauth-senders/observe.js';
import type { Change, JournaledWrite, ResolvedPlaybookView } from '../../src/actions/types.js';
import { addressOfFilter, primarySmtpAddressFilter } from '../../src/exchange/opath.js';
import { oauthSendersWith } from '../../src/playbook/schema.js';

const APP = '11111111-1111-4111-8111-111111111111';
const SP = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const GUID = '00000000-0000-4000-8000-000000000001';

const journaled = (c: Change): JournaledWrite => ({ changeId: c.id, stepId: c.stepId, target: c.target, ...(c.targetId ? { targetId: c.targetId } : {}), property: c.property, before: c.before, after: c.after });

describe('grant inverses (rollback derives, never replays)', () => {
  const name = grantName(APP, 'scanner@contoso.com');
  const writes: Change[] = [
    servicePrincipalChange('oauth', null, { AppId: APP, ObjectId: SP, DisplayName: 'Scanner' }, 'x'),
    scopeChange('oauth', null, { Name: name, RecipientRestrictionFilter: primarySmtpAddressFilter('scanner@contoso.com') }, 'x'),
    assignmentChange('oauth', 'scanner@contoso.com', null, { Name: name, Role: 'Application SMTP.SendAsApp', App: SP, CustomResourceScope: name }, 'x'),
    permissionChange('oauth', 'billing@contoso.com', GUID, null, { User: SP, AccessRights: ['FullAccess'] }, 'x'),
    assignmentChange('oauth', 'bob@contoso.com', { Name: 'manual', Role: 'Application SMTP.SendAsApp', App: SP, CustomResourceScope: 'bob only' }, null, 'x'),
  ];

  it('turns each create into its exact removal and a removal into its exact re-creation', () => {
    const inverses = writes.map((w) => invertGrantWrite(journaled(w))!);
    expect(inverses.map((i) => i.call)).toEqual(writes.map((w) => w.undo));
    expect(inverses.map((i) => i.call.cmdlet)).toEqual(['Remove-ServicePrincipal', 'Remove-ManagementScope', 'Remove-ManagementRoleAssignment', 'Remove-MailboxPermission', 'New-ManagementRoleAssignment']);
    expect(inverses[3]!.call.parameters).toEqual({ Identity: GUID, User: SP, AccessRights: ['FullAccess'] });
  });

  it('derives nothing from values this step never writes', () => {
    const forged: JournaledWrite[] = [
      // A service principal removal: this step never removes one, so rollback never re-creates one.
      { ...journaled(writes[0]!), before: writes[0]!.after, after: null },
      // Another filter than the one form this step writes.
      { ...journaled(writes[1]!), after: { Name: name, RecipientRestrictionFilter: "Department -eq 'x'" } },
      // Another role.
      { ...journaled(writes[2]!), after: { Name: name, Role: 'Application Mail.Send', App: SP, CustomResourceScope: name } },
      // More than FullAccess.
      { ...journaled(writes[3]!), after: { User: SP, AccessRights: ['FullAccess', 'ChangeOwner'] } },
      // Both sides set.
      { ...journaled(writes[2]!), before: writes[2]!.after },
      { ...journaled(writes[3]!), property: 'SmtpClientAuthenticationDisabled' },
    ];
    expect(forged.map((f) => invertGrantWrite(f))).toEqual(forged.map(() => null));
  });
});

describe('the OPATH filter', () => {
  it("quotes the address with single quotes, a quote doubled, and reads it back", () => {
    expect(primarySmtpAddressFilter("o'brien@contoso.com")).toBe("PrimarySmtpAddress -eq 'o''brien@contoso.com'");
    expect(addressOfFilter("PrimarySmtpAddress -eq 'o''brien@contoso.com'")).toBe("o'brien@contoso.com");
    expect(() => primarySmtpAddressFilter("x' -or Name -like '*")).toThrow();
  });
});

const WITH = oauthSendersWith.parse({ applications: [{ appId: APP, servicePrincipalObjectId: SP, displayName: 'Scanner', mailboxes: ['scanner@contoso.com'] }], exclusive: true });
const PLAYBOOK: ResolvedPlaybookView = {
  name: 'oauth',
  acceptBreakage: [],
  steps: [
    { id: 'allow', uses: 'smtp-auth/allowlist', with: { mailboxes: ['scanner@contoso.com'] } },
    { id: 'oauth', uses: 'smtp-auth/oauth-senders', with: WITH },
  ],
};

function observed(granted: boolean): OAuthSendersObserved {
  const name = grantName(APP, 'scanner@contoso.com');
  return {
    kind: 'oauth-senders',
    organizationDisabled: false,
    servicePrincipals: granted ? [{ AppId: APP, ObjectId: SP, DisplayName: 'Scanner' }] : [],
    assignments: [
      ...(granted ? [{ Name: name, Role: 'Application SMTP.SendAsApp', App: SP, CustomResourceScope: name }] : []),
      { Name: 'old', Role: 'Application SMTP.SendAsApp', App: SP, CustomResourceScope: 'bob only' },
    ],
    scopes: [
      ...(granted ? [{ Name: name, RecipientRestrictionFilter: primarySmtpAddressFilter('scanner@contoso.com'), address: 'scanner@contoso.com' }] : []),
      { Name: 'bob only', RecipientRestrictionFilter: "PrimarySmtpAddress -eq 'bob@contoso.com'", address: 'bob@contoso.com' },
    ],
    applications: [{ appId: APP, mailboxes: [{ entry: 'scanner@contoso.com', mailbox: 'scanner@contoso.com', id: GUID, value: false, addresses: ['scanner@contoso.com'], fullAccess: null }] }],
    credentialProblems: {},
    volatile: { proofs: [] },
  };
}

describe('plan and grant guard', () => {
  it('plans nothing but the stray removal on a provisioned tenant', () => {
    const plan = planOAuthSenders({ stepId: 'oauth', with: WITH, observed: observed(true), playbook: PLAYBOOK, observations: new Map() });
    expect(plan.changes.map((c) => [c.call.cmdlet, c.call.parameters.Identity])).toEqual([['Remove-ManagementRoleAssignment', 'old']]);
  });

  it('blocks the removal while the usage data shows the mailbox sending with OAuth; acceptBreakage accepts it', () => {
    const plan = planOAuthSenders({ stepId: 'oauth', with: WITH, observed: observed(true), playbook: PLAYBOOK, observations: new Map() });
    const usage = { kind: 'smtp-auth-usage', rows: [{ sender: 'bob@contoso.com', protocol: 'OAuth', messages: 12, lastSeen: '2026-12-01' }], senders: [{ entry: 'bob@contoso.com', mailbox: 'bob@contoso.com', value: null }] };
    const risks = grantGuard([plan], { playbook: PLAYBOOK, observations: new Map([['usage', usage]]) });
    expect(risks).toEqual([expect.objectContaining({ kind: 'will-break', subject: 'bob@contoso.com', blocking: true, accepted: false, messages: 12 })]);
    const accepted = grantGuard([plan], { playbook: { ...PLAYBOOK, acceptBreakage: ['bob@contoso.com'] }, observations: new Map([['usage', usage]]) });
    expect(accepted[0]!.accepted).toBe(true);
    expect(grantGuard([plan], { playbook: PLAYBOOK, observations: new Map() })).toEqual([expect.objectContaining({ kind: 'no-usage-evidence', blocking: true, accepted: false })]);
  });
});
