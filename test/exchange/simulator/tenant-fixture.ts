/** A small hand-made tenant whose every mailbox is there for a reason the tests name. */
import { expect } from 'vitest';
import { CmdletFailure } from '../../../src/exchange/session.js';
import type { SimMailbox, TenantState } from '../../../src/exchange/simulator/state.js';

export const SERVER = 'DM6PR11MB1234.PROD.OUTLOOK.COM';
export const CLOCK = '2026-11-20T09:00:00.000Z';

function mailbox(alias: string, displayName: string, smtp: boolean | null, extra: Partial<SimMailbox> = {}): SimMailbox {
  return {
    Guid: `00000000-0000-4000-8000-${String(alias.length).padStart(4, '0')}${Buffer.from(alias).toString('hex').slice(0, 8).padEnd(8, '0')}`,
    Name: alias,
    DisplayName: displayName,
    Alias: alias,
    PrimarySmtpAddress: `${alias}@contoso.com`,
    UserPrincipalName: `${alias}@contoso.com`,
    EmailAddresses: [`SMTP:${alias}@contoso.com`, `smtp:${alias}@contoso.onmicrosoft.com`],
    RecipientTypeDetails: 'UserMailbox',
    SmtpClientAuthenticationDisabled: smtp,
    AuthenticationPolicy: null,
    ...extra,
  };
}

export function smallTenant(): TenantState {
  return {
    schemaVersion: 1,
    organization: { Name: 'contoso.onmicrosoft.com', Server: SERVER },
    transportConfig: { SmtpClientAuthenticationDisabled: false },
    organizationConfig: { DefaultAuthenticationPolicy: null },
    authenticationPolicies: [
      { Name: 'Block Basic SMTP', AllowBasicAuthSmtp: false },
      { Name: 'Allow Basic SMTP for devices', AllowBasicAuthSmtp: true },
    ],
    mailboxes: [
      // An explicit $false: the device the allowlist must keep.
      mailbox('scanner', 'Scan to Email', false, { AuthenticationPolicy: 'Allow Basic SMTP for devices' }),
      // Follows the organization; has a second proxy address and a different UPN.
      mailbox('j.doe', 'Jane Doe', null, {
        UserPrincipalName: 'jane.doe@contoso.onmicrosoft.com',
        EmailAddresses: ['SMTP:j.doe@contoso.com', 'smtp:jane@contoso.com', 'smtp:j.doe@contoso.onmicrosoft.com'],
      }),
      // An explicit $true with the blocking policy.
      mailbox('a.smith', 'Alex Smith', true, { AuthenticationPolicy: 'Block Basic SMTP' }),
      mailbox('sales', 'Sales', null, { RecipientTypeDetails: 'SharedMailbox' }),
    ],
    historicalSearches: [],
    smtpAuthActivity: [
      { sender: 'scanner@contoso.com', protocol: 'Basic', messages: 420, lastSeen: '2026-11-18T07:00:00.000Z' },
      { sender: 'j.doe@contoso.com', protocol: 'OAuth', messages: 12, lastSeen: '2026-11-01T10:00:00.000Z' },
      // Outside a 7-day window ending at CLOCK.
      { sender: 'sales@contoso.com', protocol: 'Basic', messages: 3, lastSeen: '2026-10-01T10:00:00.000Z' },
    ],
    clock: CLOCK,
    historicalSearchPolls: 3,
    faults: {},
  };
}

/** The CmdletFailure a call ends with (the test fails if it succeeds or fails otherwise). */
export async function failure(promise: Promise<unknown>): Promise<CmdletFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CmdletFailure);
  return error as CmdletFailure;
}
