import { describe, expect, it } from 'vitest';
import { SimulatedSession } from '../../../src/exchange/simulator/session.js';
import { generateTenant } from '../../../src/exchange/simulator/generate.js';
import { REST_MORE_RESULTS_WARNING, RPS_MORE_RESULTS_WARNING } from '../../../src/exchange/simulator/cmdlets/recipients.js';
import { SERVER, failure, smallTenant } from './tenant-fixture.js';

const session = () => SimulatedSession.fromState(smallTenant());

describe('bulk mailbox reads', () => {
  it('Get-EXOCASMailbox shows SmtpClientAuthenticationDisabled only when asked for by name, with all three states', async () => {
    const s = session();
    const plain = await s.invoke('Get-EXOCASMailbox', { ResultSize: 'Unlimited' });
    expect(plain.objects).toHaveLength(4);
    expect(plain.objects[0]).not.toHaveProperty('SmtpClientAuthenticationDisabled');
    const all = await s.invoke('Get-EXOCASMailbox', { ResultSize: 'Unlimited', PropertySets: 'All' });
    expect(all.objects[0]).not.toHaveProperty('SmtpClientAuthenticationDisabled');
    const asked = await s.invoke('Get-EXOCASMailbox', { ResultSize: 'Unlimited', Properties: ['SmtpClientAuthenticationDisabled'] });
    expect(asked.objects.map((o) => [o.PrimarySmtpAddress, o.SmtpClientAuthenticationDisabled])).toEqual([
      ['scanner@contoso.com', false],
      ['j.doe@contoso.com', null],
      ['a.smith@contoso.com', true],
      ['sales@contoso.com', null],
    ]);
  });

  it('returns 1000 by default and warns like the real cmdlets when more exist; Unlimited returns all without a warning', async () => {
    const s = SimulatedSession.fromState(generateTenant({ mailboxes: 1200, seed: 3, clock: '2026-11-20T00:00:00Z' }));
    const rest = await s.invoke('Get-EXOCASMailbox');
    expect(rest.objects).toHaveLength(1000);
    expect(rest.warnings).toEqual([REST_MORE_RESULTS_WARNING]);
    const rps = await s.invoke('Get-CASMailbox');
    expect(rps.objects).toHaveLength(1000);
    expect(rps.warnings).toEqual([RPS_MORE_RESULTS_WARNING]);
    const unlimited = await s.invoke('Get-EXOCASMailbox', { ResultSize: 'unlimited' });
    expect(unlimited.objects).toHaveLength(1200);
    expect(unlimited.warnings).toEqual([]);
    const fifty = await s.invoke('Get-Mailbox', { ResultSize: 50 });
    expect(fifty.objects).toHaveLength(50);
  });

  it('stream yields the same objects as invoke, and passes warnings to onWarning', async () => {
    const s = SimulatedSession.fromState(generateTenant({ mailboxes: 1200, seed: 3, clock: '2026-11-20T00:00:00Z' }));
    const warnings: string[] = [];
    const streamed = [];
    for await (const o of s.stream('Get-EXOCASMailbox', {}, { onWarning: (w) => warnings.push(w) })) streamed.push(o);
    expect(streamed).toEqual((await s.invoke('Get-EXOCASMailbox')).objects);
    expect(warnings).toEqual([REST_MORE_RESULTS_WARNING]);
  });

  it('Get-Mailbox filters by RecipientTypeDetails and Get-User shows each user\'s authentication policy', async () => {
    const s = session();
    const shared = await s.invoke('Get-Mailbox', { RecipientTypeDetails: 'SharedMailbox', ResultSize: 'Unlimited' });
    expect(shared.objects.map((o) => o.Alias)).toEqual(['sales']);
    const user = await s.invoke('Get-User', { Identity: 'a.smith' });
    expect(user.objects[0]).toMatchObject({ UserPrincipalName: 'a.smith@contoso.com', AuthenticationPolicy: 'Block Basic SMTP' });
    const policies = await s.invoke('Get-AuthenticationPolicy');
    expect(policies.objects).toEqual([
      { Identity: 'Block Basic SMTP', Name: 'Block Basic SMTP', AllowBasicAuthSmtp: false },
      { Identity: 'Allow Basic SMTP for devices', Name: 'Allow Basic SMTP for devices', AllowBasicAuthSmtp: true },
    ]);
    const org = await s.invoke('Get-OrganizationConfig');
    expect(org.objects).toEqual([{ Identity: 'contoso.onmicrosoft.com', Name: 'contoso.onmicrosoft.com', DefaultAuthenticationPolicy: null }]);
  });
});

describe('identity resolution', () => {
  it.each([
    ['Name', 'j.doe'],
    ['Alias in another case', 'J.DOE'],
    ['PrimarySmtpAddress', 'j.doe@contoso.com'],
    ['a secondary proxy address', 'jane@contoso.com'],
    ['a proxy address with its smtp: prefix', 'smtp:JANE@contoso.com'],
    ['UserPrincipalName', 'jane.doe@contoso.onmicrosoft.com'],
    ['Guid', smallTenant().mailboxes[1]!.Guid.toUpperCase()],
  ])('finds a mailbox by %s', async (_how, identity) => {
    const result = await session().invoke('Get-CASMailbox', { Identity: identity });
    expect(result.errors).toEqual([]);
    expect(result.objects.map((o) => o.PrimarySmtpAddress)).toEqual(['j.doe@contoso.com']);
  });
});

describe('not found', () => {
  it('is a non-terminating error with the observed record', async () => {
    const result = await session().invoke('Get-CASMailbox', { Identity: 'nobody@contoso.com' });
    expect(result.objects).toEqual([]);
    expect(result.errors).toEqual([
      {
        exceptionType: 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException',
        fullyQualifiedErrorId: 'Ex6F9304,Microsoft.Exchange.Management.RecipientTasks.GetCASMailbox',
        message: `The operation couldn't be performed because object 'nobody@contoso.com' couldn't be found on '${SERVER}'.`,
        target: 'nobody@contoso.com',
        category: 'NotSpecified',
        code: 'Ex6F9304',
      },
    ]);
  });

  it('is terminating with ErrorAction Stop, and silent with SilentlyContinue', async () => {
    const error = await failure(session().invoke('Get-CASMailbox', { Identity: 'nobody', ErrorAction: 'Stop' }));
    expect(error.record.fullyQualifiedErrorId).toBe('Ex6F9304,Microsoft.Exchange.Management.RecipientTasks.GetCASMailbox');
    const silent = await session().invoke('Get-CASMailbox', { Identity: 'nobody', ErrorAction: 'SilentlyContinue' });
    expect(silent.errors).toEqual([]);
  });

  it('is thrown at the end of a stream', async () => {
    const s = session();
    await expect(async () => {
      for await (const _ of s.stream('Get-EXOCASMailbox', { Identity: 'nobody' })) void _;
    }).rejects.toThrow("couldn't be found on");
  });
});

describe('Set-CASMailbox, the tri-state switch', () => {
  it('round-trips $false, $null and $true, and warns when nothing changes', async () => {
    const s = session();
    const read = async () => (await s.invoke('Get-CASMailbox', { Identity: 'j.doe' })).objects[0]!.SmtpClientAuthenticationDisabled;
    for (const value of [false, null, true, null]) {
      const result = await s.invoke('Set-CASMailbox', { Identity: 'jane@contoso.com', SmtpClientAuthenticationDisabled: value });
      expect(result.warnings).toEqual([]);
      expect(await read()).toBe(value);
      expect(s.state.mailboxes[1]!.SmtpClientAuthenticationDisabled).toBe(value);
    }
    const again = await s.invoke('Set-CASMailbox', { Identity: 'j.doe', SmtpClientAuthenticationDisabled: null });
    expect(again.warnings).toEqual(["The command completed successfully but no settings of 'j.doe' have been modified."]);
  });

  it('reports a missing mailbox and changes nothing', async () => {
    const s = session();
    const before = structuredClone(s.state);
    const result = await s.invoke('Set-CASMailbox', { Identity: 'ghost', SmtpClientAuthenticationDisabled: false });
    expect(result.errors[0]?.fullyQualifiedErrorId).toBe('Ex6F9304,Microsoft.Exchange.Management.RecipientTasks.SetCASMailbox');
    expect(s.state).toEqual(before);
  });

  it('has no -WhatIf in Exchange Online (the binder refuses it, nothing changes)', async () => {
    const s = session();
    const error = await failure(s.invoke('Set-CASMailbox', { Identity: 'j.doe', SmtpClientAuthenticationDisabled: false, WhatIf: true }));
    expect(error.record.fullyQualifiedErrorId).toBe('NamedParameterNotFound,Set-CASMailbox');
    expect(s.state.mailboxes[1]!.SmtpClientAuthenticationDisabled).toBeNull();
  });
});

describe('transport config', () => {
  it('sets the organization switch and warns on a no-op', async () => {
    const s = session();
    expect((await s.invoke('Get-TransportConfig')).objects[0]).toMatchObject({ SmtpClientAuthenticationDisabled: false });
    expect((await s.invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: true })).warnings).toEqual([]);
    expect(s.state.transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
    const noop = await s.invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: true });
    expect(noop.warnings).toEqual(["The command completed successfully but no settings of 'Transport Settings' have been modified."]);
  });

  it('refuses $null for the organization switch (a [bool] parameter)', async () => {
    const error = await failure(session().invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: null }));
    expect(error.record.fullyQualifiedErrorId).toBe('ParameterArgumentTransformationError,Set-TransportConfig');
    expect(error.record.message).toContain('Boolean parameters accept only Boolean values');
  });
});

describe('parameter binding', () => {
  it('rejects an unknown parameter like PowerShell', async () => {
    const error = await failure(session().invoke('Set-CASMailbox', { Identity: 'j.doe', SmtpAuthDisabled: true }));
    expect(error.record).toMatchObject({
      exceptionType: 'System.Management.Automation.ParameterBindingException',
      fullyQualifiedErrorId: 'NamedParameterNotFound,Set-CASMailbox',
      message: "A parameter cannot be found that matches parameter name 'SmtpAuthDisabled'.",
    });
  });

  it('accepts case-insensitive names and unambiguous prefixes, refuses ambiguous ones', async () => {
    const s = session();
    await s.invoke('set-casmailbox', { identity: 'j.doe', smtpclientauth: false });
    expect(s.state.mailboxes[1]!.SmtpClientAuthenticationDisabled).toBe(false);
    const error = await failure(s.invoke('Get-EXOCASMailbox', { Propert: 'x' }));
    expect(error.record.fullyQualifiedErrorId).toBe('AmbiguousParameter,Get-EXOCASMailbox');
  });

  it('names missing mandatory parameters', async () => {
    const error = await failure(session().invoke('Set-CASMailbox', { SmtpClientAuthenticationDisabled: false }));
    expect(error.record.message).toBe('Cannot process command because of one or more missing mandatory parameters: Identity.');
  });

  it('refuses cmdlets the tenant does not have', async () => {
    const error = await failure(session().invoke('Remove-Mailbox', { Identity: 'j.doe' }));
    expect(error.record.exceptionType).toBe('System.Management.Automation.CommandNotFoundException');
  });
});

describe('Connect-ExchangeOnline', () => {
  it('takes the real parameter set and checks the organization case-insensitively', async () => {
    const s = session();
    const ok = await s.invoke('Connect-ExchangeOnline', {
      AccessToken: 'eyJ0eXAi.fake',
      Organization: 'CONTOSO.onmicrosoft.com',
      ShowBanner: false,
      SkipLoadingFormatData: true,
      CommandName: ['Get-EXOCASMailbox', 'Set-CASMailbox'],
    });
    expect(ok).toEqual({ objects: [], warnings: [], errors: [] });
    const error = await failure(s.invoke('Connect-ExchangeOnline', { Organization: 'fabrikam.onmicrosoft.com', ManagedIdentity: true }));
    expect(error.record.message).toContain("Unable to connect to organization 'fabrikam.onmicrosoft.com'");
    expect(error.record.message).toContain("'contoso.onmicrosoft.com'");
  });
});
