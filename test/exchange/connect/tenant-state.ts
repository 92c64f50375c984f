/** A small simulated tenant for sign-in tests (the sign-in path needs an organization, not realism). */
import type { TenantState } from '../../../src/exchange/simulator/state.js';

export function smallTenant(organization: string, faults: TenantState['faults'] = {}): TenantState {
  return {
    schemaVersion: 1,
    organization: { Name: organization, Server: 'DM6PR11MB1234.PROD.OUTLOOK.COM' },
    transportConfig: { SmtpClientAuthenticationDisabled: false },
    organizationConfig: { DefaultAuthenticationPolicy: null },
    authenticationPolicies: [],
    mailboxes: [
      {
        Guid: '6f1c1d0e-0000-4000-8000-000000000001',
        Name: 'scanner',
        DisplayName: 'Scanner',
        Alias: 'scanner',
        PrimarySmtpAddress: `scanner@${organization}`,
        UserPrincipalName: `scanner@${organization}`,
        EmailAddresses: [`SMTP:scanner@${organization}`],
        RecipientTypeDetails: 'SharedMailbox',
        SmtpClientAuthenticationDisabled: null,
        AuthenticationPolicy: null,
      },
    ],
    historicalSearches: [],
    smtpAuthActivity: [],
    clock: null,
    historicalSearchPolls: 3,
    faults,
  };
}
