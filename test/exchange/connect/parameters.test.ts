import { describe, expect, it } from 'vitest';
import { moduleConnectRequest, SECURE_STRING_KEY } from '../../../src/exchange/connect/module-sign-in.js';
import { baseConnectParameters, commandNames, tokenConnectRequest } from '../../../src/exchange/connect/parameters.js';
import type { PsValue } from '../../../src/exchange/session.js';

const ORG = 'contoso.onmicrosoft.com';
const CMDLETS = ['Get-TransportConfig', 'Set-TransportConfig', 'get-transportconfig', 'Connect-ExchangeOnline', 'Get-EXOCASMailbox'];

/** Every string anywhere in a parameter value, for "the secret appears only where marked" checks. */
function stringsIn(value: PsValue): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

function namesHolding(parameters: Record<string, PsValue>, secret: string): string[] {
  return Object.entries(parameters)
    .filter(([, value]) => stringsIn(value).some((text) => text.includes(secret)))
    .map(([name]) => name);
}

describe('Connect-ExchangeOnline parameters', () => {
  it('always hides the banner, skips format data, names the organization and only the cmdlets needed', () => {
    expect(baseConnectParameters(ORG, CMDLETS)).toEqual({
      Organization: ORG,
      ShowBanner: false,
      SkipLoadingFormatData: true,
      CommandName: ['Get-TransportConfig', 'Set-TransportConfig', 'Get-EXOCASMailbox'],
    });
  });

  it('leaves -CommandName out rather than sending an empty list (which would import nothing)', () => {
    expect(commandNames(['Connect-ExchangeOnline', 'Disconnect-ExchangeOnline'])).toEqual([]);
    expect(baseConnectParameters(ORG, [])).not.toHaveProperty('CommandName');
  });

  it('token sign-in passes the token as -AccessToken, marked secret, and nowhere else', () => {
    const token = 'eyJhbGciOi.secret-token-value.sig';
    const request = tokenConnectRequest(ORG, CMDLETS, token);
    expect(request.parameters.AccessToken).toBe(token);
    expect(request.parameters.Organization).toBe(ORG);
    expect(request.secretParameters).toEqual(['AccessToken']);
    expect(namesHolding(request.parameters, token)).toEqual(['AccessToken']);
  });

  it('a partner token names the customer with -DelegatedOrganization instead of -Organization; a delegated token its user', () => {
    const token = 'eyJhbGciOi.partner-token.sig';
    const partner = tokenConnectRequest(ORG, CMDLETS, token, { kind: 'delegated-organization' });
    expect(partner.parameters).toMatchObject({ AccessToken: token, DelegatedOrganization: ORG });
    expect(partner.parameters).not.toHaveProperty('Organization');
    expect(partner.secretParameters).toEqual(['AccessToken']);
    const user = tokenConnectRequest(ORG, CMDLETS, token, { kind: 'user', userPrincipalName: 'admin@contoso.com' });
    expect(user.parameters).toMatchObject({ UserPrincipalName: 'admin@contoso.com' });
    expect(user.parameters).not.toHaveProperty('Organization');
    expect(user.parameters).not.toHaveProperty('DelegatedOrganization');
  });

  it('certificate (module) sends -AppId and an absolute -CertificateFilePath; the password only as a marked SecureString value', () => {
    const request = moduleConnectRequest(
      ORG,
      CMDLETS,
      { method: 'certificate', appId: 'app-123', certificatePath: 'certs/exo.pfx', certificatePassword: '${env:PW}', signIn: 'module' },
      '/srv/playbooks',
      { certificatePassword: 'hunter2-pass' },
    );
    expect(request.parameters).toMatchObject({
      Organization: ORG,
      AppId: 'app-123',
      CertificateFilePath: '/srv/playbooks/certs/exo.pfx',
      CertificatePassword: { [SECURE_STRING_KEY]: 'hunter2-pass' },
      ShowBanner: false,
      SkipLoadingFormatData: true,
    });
    expect(request.secretParameters).toEqual(['CertificatePassword']);
    expect(namesHolding(request.parameters, 'hunter2-pass')).toEqual(['CertificatePassword']);
    // The reference itself is not a value the module needs.
    expect(namesHolding(request.parameters, '${env:PW}')).toEqual([]);
  });

  it('certificate (module) without a password sends no -CertificatePassword and marks nothing secret', () => {
    const request = moduleConnectRequest(
      ORG,
      [],
      { method: 'certificate', appId: 'app-123', certificatePath: '/abs/exo.pem', signIn: 'module' },
      '/srv',
    );
    expect(request.parameters).not.toHaveProperty('CertificatePassword');
    expect(request.parameters.CertificateFilePath).toBe('/abs/exo.pem');
    expect(request.secretParameters).toEqual([]);
  });

  it('managed identity (module) sends -ManagedIdentity, and -ManagedIdentityAccountId for a user-assigned identity', () => {
    const system = moduleConnectRequest(ORG, [], { method: 'managed-identity', signIn: 'module' }, '/');
    expect(system.parameters).toMatchObject({ ManagedIdentity: true, Organization: ORG });
    expect(system.parameters).not.toHaveProperty('ManagedIdentityAccountId');
    const user = moduleConnectRequest(ORG, [], { method: 'managed-identity', clientId: 'mi-client', signIn: 'module' }, '/');
    expect(user.parameters).toMatchObject({ ManagedIdentity: true, ManagedIdentityAccountId: 'mi-client' });
  });

  it('device code (module) sends -Device', () => {
    const request = moduleConnectRequest(ORG, ['Get-TransportConfig'], { method: 'device-code', signIn: 'module' }, '/');
    expect(request.parameters).toEqual({
      Organization: ORG,
      ShowBanner: false,
      SkipLoadingFormatData: true,
      CommandName: ['Get-TransportConfig'],
      Device: true,
    });
  });
});
