/**
 * Small hand-made tenants in the simulator's state file format (src/exchange/simulator/state.ts),
 * shared by the action tests and the end-to-end tests.
 */
import { createHash } from 'node:crypto';
import type { SimMailbox, TenantState, TriState } from '../../src/exchange/simulator/state.js';

/** A user mailbox `<local>@contoso.com` with an onmicrosoft alias and UPN, and the given SMTP AUTH switch. */
export function mailbox(local: string, value: TriState = null, extra: Partial<SimMailbox> = {}): SimMailbox {
  const address = `${local}@contoso.com`;
  // Unique per local part (writes name mailboxes by Guid: two mailboxes must never share one).
  const hex = createHash('sha256').update(local).digest('hex').slice(0, 12);
  return {
    Guid: `00000000-0000-4000-8000-${hex}`,
    Name: local,
    DisplayName: local,
    Alias: local,
    PrimarySmtpAddress: address,
    UserPrincipalName: `${local}@contoso.onmicrosoft.com`,
    EmailAddresses: [`SMTP:${address}`, `smtp:${local}@contoso.onmicrosoft.com`],
    RecipientTypeDetails: 'UserMailbox',
    SmtpClientAuthenticationDisabled: value,
    AuthenticationPolicy: null,
    ...extra,
  };
}

/** contoso.onmicrosoft.com with SMTP AUTH on for the organization, a fixed clock and no faults. */
export function tenant(mailboxes: SimMailbox[], overrides: Partial<TenantState> = {}): TenantState {
  return {
    schemaVersion: 1,
    organization: { Name: 'contoso.onmicrosoft.com', Server: 'DM6PR11MB1234.PROD.OUTLOOK.COM' },
    transportConfig: { SmtpClientAuthenticationDisabled: false },
    organizationConfig: { DefaultAuthenticationPolicy: null },
    authenticationPolicies: [],
    mailboxes,
    historicalSearches: [],
    smtpAuthActivity: [],
    clock: '2026-11-23T10:00:00.000Z',
    historicalSearchPolls: 3,
    faults: {},
    ...overrides,
  };
}
