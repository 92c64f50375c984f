/**
 * The ONE bulk mailbox read of a run, shared by every step that needs mailboxes (ctx.shared).
 * It streams Get-EXOCASMailbox and keeps only what plan and verify need: an address index
 * (primary address, proxy addresses, UPN → mailbox number) and the explicit overrides of the
 * tri-state switch. 100,000 mailboxes cost 100,000 small strings, never 100,000 objects.
 */
import type { PsObject, PsValue } from '../../exchange/session.js';
import type { TriState } from '../../exchange/simulator/state.js';
import type { RunContext } from '../types.js';
import { toTriState } from './effective.js';

/** The keys of the run's shared reads (ctx.shared) this file makes. */
export const MAILBOXES_READ = 'mailboxes';
export const TRANSPORT_CONFIG_READ = 'transport-config';

/** Properties asked for by name: SmtpClientAuthenticationDisabled is in no property set. */
export const BULK_READ_PROPERTIES = ['SmtpClientAuthenticationDisabled'] as const;

/** What add()/refresh() read from each mailbox object: the bridge converts nothing else. */
export const MAILBOX_OBJECT_PROPERTIES = [
  'PrimarySmtpAddress',
  'UserPrincipalName',
  'Alias',
  'EmailAddresses',
  ...BULK_READ_PROPERTIES,
] as const;

export interface MailboxOverride {
  /** Primary SMTP address. */
  mailbox: string;
  value: boolean;
}

export class MailboxDirectory {
  private readonly primaries: string[] = [];
  private readonly index = new Map<string, number>();
  /** mailbox number → explicit value; absent means $null. */
  private readonly explicit = new Map<number, boolean>();

  get total(): number {
    return this.primaries.length;
  }

  /** Adds one mailbox from a Get-EXOCASMailbox / Get-EXOMailbox object. */
  add(object: PsObject): string | undefined {
    const primary = stringOf(object.PrimarySmtpAddress);
    if (!primary) return undefined;
    const known = this.index.get(primary.toLowerCase());
    const n = known ?? this.primaries.push(primary) - 1;
    for (const key of identityKeys(object)) if (!this.index.has(key)) this.index.set(key, n);
    const value = toTriState(object.SmtpClientAuthenticationDisabled);
    if (value !== null) this.explicit.set(n, value);
    return primary;
  }

  /**
   * Takes a fresh single read of one mailbox the bulk read saw (verify after apply re-reads only the
   * mailboxes it wrote). False when the object names no mailbox of this directory.
   */
  refresh(object: PsObject): boolean {
    const primary = stringOf(object.PrimarySmtpAddress);
    const n = primary === undefined ? undefined : this.index.get(primary.toLowerCase());
    if (n === undefined || !('SmtpClientAuthenticationDisabled' in object)) return false;
    const value = toTriState(object.SmtpClientAuthenticationDisabled);
    if (value === null) this.explicit.delete(n);
    else this.explicit.set(n, value);
    return true;
  }

  /** The primary address of the mailbox an address, alias or UPN names, if the bulk read saw it. */
  resolve(identity: string): string | undefined {
    const n = this.index.get(normalise(identity));
    return n === undefined ? undefined : this.primaries[n];
  }

  /** The mailbox's switch, by primary address (or any indexed identity). */
  valueOf(identity: string): TriState {
    const n = this.index.get(normalise(identity));
    if (n === undefined) return null;
    return this.explicit.get(n) ?? null;
  }

  /** Every explicit $true/$false, sorted by address (stable plans). */
  overrides(): MailboxOverride[] {
    return [...this.explicit]
      .map(([n, value]) => ({ mailbox: this.primaries[n] as string, value }))
      .sort((a, b) => a.mailbox.localeCompare(b.mailbox));
  }
}

/** Streams the bulk read once per run; later callers get the same directory. */
export function readMailboxDirectory(ctx: RunContext): Promise<MailboxDirectory> {
  return ctx.shared(MAILBOXES_READ, async () => {
    const directory = new MailboxDirectory();
    ctx.report('Reading every mailbox (Get-EXOCASMailbox -ResultSize Unlimited)');
    for await (const object of ctx.session.stream(
      'Get-EXOCASMailbox',
      { ResultSize: 'Unlimited', Properties: [...BULK_READ_PROPERTIES] },
      { select: MAILBOX_OBJECT_PROPERTIES },
    )) {
      directory.add(object);
      if (directory.total % 10000 === 0) ctx.report(`Read ${directory.total} mailboxes`);
    }
    return directory;
  });
}

/** The organization's switch, read once per run. */
export function readOrganizationDisabled(ctx: RunContext): Promise<boolean> {
  return ctx.shared(TRANSPORT_CONFIG_READ, async () => {
    const { objects } = await ctx.session.invoke('Get-TransportConfig');
    return toTriState(objects[0]?.SmtpClientAuthenticationDisabled) === true;
  });
}

function normalise(identity: string): string {
  return identity.trim().replace(/^smtp:/i, '').toLowerCase();
}

function stringOf(value: PsValue | undefined): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function* identityKeys(object: PsObject): Iterable<string> {
  for (const name of ['PrimarySmtpAddress', 'UserPrincipalName', 'Alias']) {
    const value = stringOf(object[name]);
    if (value) yield normalise(value);
  }
  const proxies = object.EmailAddresses;
  if (Array.isArray(proxies)) {
    for (const proxy of proxies) {
      // X500:, SIP: and other proxy types are not mail addresses a sender would use.
      if (typeof proxy === 'string' && (/^smtp:/i.test(proxy) || !proxy.includes(':'))) yield normalise(proxy);
    }
  }
}
