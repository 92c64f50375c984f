/**
 * Resolves addresses (allowlist entries, usage senders) to mailboxes: first against the shared
 * bulk read, then, for the few the index does not know (a UPN or alias the bulk read does not
 * carry), one Get-EXOMailbox -Identity each. Never one Get per mailbox of the tenant.
 */
import { isNotFoundRecord } from '../../exchange/service-error.js';
import { CmdletFailure, withoutErrors } from '../../exchange/session.js';
import type { TriState } from '../../exchange/simulator/state.js';
import type { RunContext } from '../types.js';
import type { MailboxDirectory } from './mailbox-directory.js';

export interface ResolvedMailbox {
  /** As written (allowlist entry or sender address). */
  entry: string;
  /** The mailbox's primary SMTP address; null when the tenant has no such mailbox. */
  mailbox: string | null;
  /** The mailbox's SMTP AUTH switch now ($null when unknown). */
  value: TriState;
  /** The immutable id the bulk read returned (Guid): writes and read-backs name the mailbox by it. */
  id?: string;
  /** Every address the mailbox is known by (primary, SMTP proxies, UPN, alias), lower-case. */
  addresses?: string[];
}

export async function resolveMailboxes(
  entries: readonly string[],
  directory: MailboxDirectory,
  ctx: RunContext,
): Promise<ResolvedMailbox[]> {
  const resolved: ResolvedMailbox[] = [];
  for (const entry of entries) {
    let mailbox = directory.resolve(entry) ?? null;
    let id = mailbox === null ? undefined : directory.idOf(mailbox);
    if (mailbox === null) {
      const found = await lookUp(entry, directory, ctx);
      mailbox = found?.mailbox ?? null;
      id = found?.id;
    }
    resolved.push({ entry, mailbox, value: mailbox === null ? null : directory.valueOf(mailbox), ...(id ? { id } : {}) });
  }
  return resolved;
}

/**
 * Adds every address each resolved mailbox is known by (primary, SMTP proxies, UPN, alias), so that
 * acceptance by any of them counts. The bulk read carries no UPN or alias (Get-EXOCASMailbox's
 * minimum property set: learn.microsoft.com/powershell/exchange/cmdlet-property-sets), so one
 * Get-EXOMailbox -Properties UserPrincipalName,Alias per resolved mailbox adds them.
 */
export async function withAddresses(resolved: readonly ResolvedMailbox[], directory: MailboxDirectory, ctx: RunContext): Promise<ResolvedMailbox[]> {
  const known = directory.addressesOf(resolved.flatMap((r) => (r.mailbox ? [r.mailbox] : [])));
  const out: ResolvedMailbox[] = [];
  for (const r of resolved) {
    if (r.mailbox === null) {
      out.push(r);
      continue;
    }
    const identity = r.id ?? r.mailbox;
    const details = await ctx.shared(`mailbox-addresses:${identity.toLowerCase()}`, async () => {
      try {
        // Asked for by name, so the answer carries them whatever the minimum property set holds.
        const result = await ctx.session.invoke('Get-EXOMailbox', { Identity: identity, Properties: ['UserPrincipalName', 'Alias'] });
        // Only "not found" is no answer; any other error record fails the read.
        if (result.errors.length > 0 && result.errors.every(isNotFoundRecord)) return null;
        return withoutErrors('Get-EXOMailbox', result).objects[0] ?? null;
      } catch (error) {
        if (error instanceof CmdletFailure && isNotFoundRecord(error.record)) return null;
        throw error;
      }
    });
    const extra: string[] = [];
    for (const name of ['PrimarySmtpAddress', 'UserPrincipalName', 'Alias']) {
      const value = details?.[name];
      if (typeof value === 'string' && value) extra.push(value);
    }
    const proxies = details?.EmailAddresses;
    if (Array.isArray(proxies)) for (const p of proxies) if (typeof p === 'string' && (/^smtp:/i.test(p) || !p.includes(':'))) extra.push(p.replace(/^smtp:/i, ''));
    const addresses = [...new Set([r.mailbox, ...(known.get(r.mailbox) ?? []), ...extra].map((a) => a.toLowerCase()))];
    out.push({ ...r, addresses });
  }
  return out;
}

async function lookUp(identity: string, directory: MailboxDirectory, ctx: RunContext): Promise<{ mailbox: string; id: string | undefined } | null> {
  return ctx.shared(`mailbox-lookup:${identity.toLowerCase()}`, async () => {
    let result;
    try {
      result = await ctx.session.invoke('Get-EXOMailbox', { Identity: identity });
    } catch (error) {
      if (error instanceof CmdletFailure && isNotFoundRecord(error.record)) return null;
      throw error;
    }
    // Only "not found" means no such mailbox; any other error record is a failed read.
    if (result.errors.length > 0 && result.errors.every(isNotFoundRecord)) return null;
    const { objects } = withoutErrors('Get-EXOMailbox', result);
    const primary = objects[0]?.PrimarySmtpAddress;
    if (typeof primary !== 'string') return null;
    const guid = objects[0]?.Guid;
    // The bulk read knows the mailbox by its primary address, and so its switch.
    const mailbox = directory.resolve(primary) ?? primary;
    return { mailbox, id: directory.idOf(mailbox) ?? (typeof guid === 'string' && guid ? guid : undefined) };
  });
}
