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
}

export async function resolveMailboxes(
  entries: readonly string[],
  directory: MailboxDirectory,
  ctx: RunContext,
): Promise<ResolvedMailbox[]> {
  const resolved: ResolvedMailbox[] = [];
  for (const entry of entries) {
    let mailbox = directory.resolve(entry) ?? null;
    if (mailbox === null) mailbox = await lookUp(entry, directory, ctx);
    resolved.push({ entry, mailbox, value: mailbox === null ? null : directory.valueOf(mailbox) });
  }
  return resolved;
}

async function lookUp(identity: string, directory: MailboxDirectory, ctx: RunContext): Promise<string | null> {
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
    const primary = withoutErrors('Get-EXOMailbox', result).objects[0]?.PrimarySmtpAddress;
    if (typeof primary !== 'string') return null;
    // The bulk read knows the mailbox by its primary address, and so its switch.
    return directory.resolve(primary) ?? primary;
  });
}
