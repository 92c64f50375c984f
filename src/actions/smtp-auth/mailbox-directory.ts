/**
 * The ONE bulk mailbox read of a run, shared by every step that needs mailboxes (ctx.shared).
 * It streams Get-EXOCASMailbox and keeps only what plan and verify need: an address index
 * (primary address, proxy addresses, UPN → mailbox number) and the explicit overrides of the
 * tri-state switch. 100,000 mailboxes cost 100,000 small strings, never 100,000 objects.
 */
import { SessionError } from '../../errors.js';
import { withoutErrors, type ExchangeSession, type PsObject, type PsValue } from '../../exchange/session.js';
import type { TriState } from '../../exchange/simulator/state.js';
import type { RunContext } from '../types.js';
import { toTriState } from './effective.js';

/** The keys of the run's shared reads (ctx.shared) this file makes. */
export const MAILBOXES_READ = 'mailboxes';
export const TRANSPORT_CONFIG_READ = 'transport-config';

/** Properties asked for by name: SmtpClientAuthenticationDisabled is in no property set. */
export const BULK_READ_PROPERTIES = ['SmtpClientAuthenticationDisabled'] as const;

/**
 * What add()/refresh() read from each mailbox object: the bridge converts nothing else, so a property
 * read here but missing from this list arrives undefined (keep the two in step).
 */
export const MAILBOX_OBJECT_PROPERTIES = [
  'PrimarySmtpAddress',
  'Guid',
  'ExternalDirectoryObjectId',
  'UserPrincipalName',
  'Alias',
  'EmailAddresses',
  ...BULK_READ_PROPERTIES,
] as const;

export interface MailboxOverride {
  /** Primary SMTP address. */
  mailbox: string;
  /** The immutable id the bulk read returned (Guid); writes name the mailbox by it. */
  id?: string;
  value: boolean;
}

export class MailboxDirectory {
  private readonly primaries: string[] = [];
  /** mailbox number → the immutable id the read returned (Guid), '' when it returned none. */
  private readonly ids: string[] = [];
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
    const id = stringOf(object.Guid) ?? stringOf(object.ExternalDirectoryObjectId) ?? '';
    const claimed = this.index.get(primary.toLowerCase());
    // The same mailbox read twice, not another mailbox whose UPN or proxy happens to equal this address.
    const known = claimed !== undefined && this.primaries[claimed]!.toLowerCase() === primary.toLowerCase() && (!id || !this.ids[claimed] || this.ids[claimed] === id) ? claimed : undefined;
    const n = known ?? this.primaries.push(primary) - 1;
    if (known === undefined) this.ids.push(id);
    // A mailbox's own primary address names it, whatever another mailbox claimed first.
    if (claimed !== undefined && known === undefined) this.index.set(primary.toLowerCase(), n);
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
    // Another mailbox answering for this address is no fresh read of this one.
    const id = stringOf(object.Guid);
    if (id && this.ids[n] && this.ids[n]!.toLowerCase() !== id.toLowerCase()) return false;
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

  /**
   * The immutable id (Guid) of the mailbox an address names, as the bulk read returned it. Writes and
   * read-backs use it: an address can be ambiguous, the id names exactly the mailbox observed.
   */
  idOf(identity: string): string | undefined {
    const n = this.index.get(normalise(identity));
    return n === undefined ? undefined : this.ids[n] || undefined;
  }

  /** Every address each named mailbox is known by (primary, SMTP proxies, and UPN/alias when read), lower-case; one pass. */
  addressesOf(identities: readonly string[]): Map<string, string[]> {
    const wanted = new Map<number, string>();
    for (const identity of identities) {
      const n = this.index.get(normalise(identity));
      if (n !== undefined) wanted.set(n, identity);
    }
    const out = new Map<string, string[]>([...wanted.values()].map((identity) => [identity, []]));
    if (wanted.size === 0) return out;
    for (const [key, n] of this.index) {
      const identity = wanted.get(n);
      // Guids are ids, not addresses.
      if (identity !== undefined && key !== this.ids[n]?.toLowerCase()) out.get(identity)!.push(key);
    }
    return out;
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
      .map(([n, value]) => ({ mailbox: this.primaries[n] as string, ...(this.ids[n] ? { id: this.ids[n] } : {}), value }))
      .sort((a, b) => a.mailbox.localeCompare(b.mailbox));
  }
}

/**
 * Streams the bulk read once per run; later callers get the same directory. A read that fails
 * part-way is never kept: throttling (or a lost PowerShell host) restarts it from the first mailbox
 * (onRestart drops what was read), anything else fails the run.
 */
export function readMailboxDirectory(ctx: RunContext): Promise<MailboxDirectory> {
  return ctx.shared(MAILBOXES_READ, async () => {
    let directory = new MailboxDirectory();
    ctx.report('Reading every mailbox (Get-EXOCASMailbox -ResultSize Unlimited)');
    const objects = ctx.session.stream(
      'Get-EXOCASMailbox',
      { ResultSize: 'Unlimited', Properties: [...BULK_READ_PROPERTIES] },
      {
        select: MAILBOX_OBJECT_PROPERTIES,
        onRestart: () => {
          directory = new MailboxDirectory();
          ctx.report('Reading every mailbox again, from the start (the read was throttled)');
        },
      },
    );
    for await (const object of objects) {
      directory.add(object);
      if (directory.total % 10000 === 0) ctx.report(`Read ${directory.total} mailboxes`);
    }
    return directory;
  });
}

/** The organization's switch, read once per run. No object is no answer: never "organization on". */
export function readOrganizationDisabled(ctx: RunContext): Promise<boolean> {
  return ctx.shared(TRANSPORT_CONFIG_READ, () => readOrganizationSwitch(ctx.session));
}

const ORGANIZATION_SWITCH = 'SmtpClientAuthenticationDisabled';

/** The Get-TransportConfig read behind readOrganizationDisabled, on a given session (verify after writes reads it on a spare one). */
export async function readOrganizationSwitch(session: ExchangeSession): Promise<boolean> {
  const { objects } = withoutErrors('Get-TransportConfig', await session.invoke('Get-TransportConfig', {}, { select: [ORGANIZATION_SWITCH] }));
  const value = toTriState(objects[0]?.[ORGANIZATION_SWITCH]);
  if (objects.length !== 1 || value === null) {
    throw new SessionError(`Get-TransportConfig returned ${objects.length === 1 ? 'no SmtpClientAuthenticationDisabled' : `${objects.length} objects`}: the organization's SMTP AUTH switch is unknown, so nothing is planned`);
  }
  return value;
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
