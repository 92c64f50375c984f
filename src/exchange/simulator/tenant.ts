/**
 * A loaded tenant: the state plus the lookups the cmdlets need. Identity resolution matches what
 * Exchange accepts for -Identity on recipients: Name, Alias, PrimarySmtpAddress, any EmailAddresses
 * entry (with or without its smtp: prefix), UserPrincipalName or Guid, case-insensitively.
 */
import type { SimMailbox, TenantState } from './state.js';

export class Tenant {
  private index: Map<string, SimMailbox> | null = null;

  constructor(readonly state: TenantState) {}

  /** The simulated clock when the state sets one, else the real clock. */
  now(): Date {
    return this.state.clock ? new Date(this.state.clock) : new Date();
  }

  get server(): string {
    return this.state.organization.Server;
  }

  findMailbox(identity: string): SimMailbox | undefined {
    // Identity properties never change through the simulated cmdlets, so the index is built once.
    this.index ??= buildIndex(this.state.mailboxes);
    return this.index.get(normalizeIdentity(identity));
  }
}

function normalizeIdentity(identity: string): string {
  const trimmed = identity.trim().toLowerCase();
  return trimmed.startsWith('smtp:') ? trimmed.slice(5) : trimmed;
}

function buildIndex(mailboxes: readonly SimMailbox[]): Map<string, SimMailbox> {
  const index = new Map<string, SimMailbox>();
  const add = (key: string | null | undefined, mailbox: SimMailbox) => {
    if (!key) return;
    const normalized = normalizeIdentity(key);
    // The first mailbox to claim a key keeps it (Exchange would call a shared key ambiguous).
    if (!index.has(normalized)) index.set(normalized, mailbox);
  };
  for (const mailbox of mailboxes) {
    add(mailbox.Guid, mailbox);
    add(mailbox.Name, mailbox);
    add(mailbox.Alias, mailbox);
    add(mailbox.PrimarySmtpAddress, mailbox);
    add(mailbox.UserPrincipalName, mailbox);
    for (const address of mailbox.EmailAddresses ?? []) {
      // Only SMTP proxies resolve as addresses; X500:/SIP: entries do not.
      if (/^smtp:/i.test(address) || !address.includes(':')) add(address, mailbox);
    }
  }
  return index;
}
