/**
 * The bulk read asks the bridge for MAILBOX_OBJECT_PROPERTIES only (InvokeOptions.select): a property
 * MailboxDirectory reads but the list lacks would arrive undefined through pwsh. Objects cut down to
 * the list must build the same directory as whole ones.
 */
import { describe, expect, it } from 'vitest';
import { MailboxDirectory, MAILBOX_OBJECT_PROPERTIES } from '../../../src/actions/smtp-auth/mailbox-directory.js';
import type { PsObject } from '../../../src/exchange/session.js';

const whole: PsObject[] = [
  { Identity: 'Ann', Name: 'Ann', DisplayName: 'Ann', PrimarySmtpAddress: 'ann@contoso.com', Guid: 'g-ann', ExternalDirectoryObjectId: 'e-ann', UserPrincipalName: 'ann@contoso.onmicrosoft.com', Alias: 'ann', EmailAddresses: ['SMTP:ann@contoso.com', 'smtp:a@contoso.com', 'X500:/o=x'], SmtpClientAuthenticationDisabled: false, ActiveSyncEnabled: true },
  { Identity: 'Bob', Name: 'Bob', PrimarySmtpAddress: 'bob@contoso.com', Guid: 'g-bob', UserPrincipalName: 'a@contoso.com', Alias: 'bob', EmailAddresses: ['SMTP:bob@contoso.com'], SmtpClientAuthenticationDisabled: true },
  { Identity: 'Cy', Name: 'Cy', PrimarySmtpAddress: 'cy@contoso.com', Guid: 'g-cy', Alias: 'cy', EmailAddresses: [], SmtpClientAuthenticationDisabled: null },
];

function selected(object: PsObject): PsObject {
  return Object.fromEntries(Object.entries(object).filter(([key]) => (MAILBOX_OBJECT_PROPERTIES as readonly string[]).includes(key)));
}

function summary(directory: MailboxDirectory) {
  const names = ['ann@contoso.com', 'a@contoso.com', 'ann', 'ann@contoso.onmicrosoft.com', 'bob', 'cy@contoso.com', 'g-ann'];
  return {
    total: directory.total,
    overrides: directory.overrides(),
    resolved: names.map((n) => [directory.resolve(n), directory.idOf(n), directory.valueOf(n)]),
  };
}

describe('MAILBOX_OBJECT_PROPERTIES', () => {
  it('is every property the directory reads: selected objects build the same directory as whole ones', () => {
    const full = new MailboxDirectory();
    const cut = new MailboxDirectory();
    for (const object of whole) full.add(object);
    for (const object of whole) cut.add(selected(object));
    expect(summary(cut)).toEqual(summary(full));
    expect(summary(full).overrides).toEqual([
      { mailbox: 'ann@contoso.com', id: 'g-ann', value: false },
      { mailbox: 'bob@contoso.com', id: 'g-bob', value: true },
    ]);
  });
});
