/**
 * What verify reads after apply or rollback wrote: only what the writes could have changed.
 *
 * The observe phase already read the tenant. Verify must read again what the writes touched (it
 * proves the writes landed), but re-reading 100,000 mailboxes to check 40 of them costs minutes on a
 * real tenant. So the verify context starts with the observe phase's shared reads, minus what the
 * writes invalidated:
 * - Set-TransportConfig: the organization switch is read again (one cheap call).
 * - Set-CASMailbox: the bulk mailbox read is kept and each written mailbox is read again by itself
 *   (Get-EXOCASMailbox -Identity, the identity the write used), failed and unknown writes included;
 *   past a twentieth of the tenant, or when one of those reads is not a clean single object, the
 *   whole bulk read is done again instead. Single lookups of allowlist entries are read again.
 * - Any other write (the powershell escape hatch can call any allowlisted Set-/New-): nothing is
 *   carried over; verify reads everything again, as if no observe had happened.
 * Reads that writes of these cmdlets cannot change (authentication policies, the organization
 * config, user policies) are carried over as they are.
 * With more sessions (apply --concurrency), the organization switch is read again on a spare one
 * while the mailboxes are read again (singly or in bulk) on the others, side by side. A read that
 * fails here is not carried: verify reads it again on the run's own session.
 */
import type { RunContext } from '../actions/types.js';
import { BULK_READ_PROPERTIES, MAILBOX_OBJECT_PROPERTIES, MAILBOXES_READ, readMailboxDirectory, readOrganizationSwitch, TRANSPORT_CONFIG_READ, type MailboxDirectory } from '../actions/smtp-auth/mailbox-directory.js';
import type { Change } from '../actions/types.js';
import { createRunContext, sharedReadsOf } from './context.js';
import type { ChangeResult } from './types.js';
import { CmdletFailure, type ExchangeSession } from '../exchange/session.js';

const UNDERSTOOD_WRITES = new Set(['set-casmailbox', 'set-transportconfig']);

/** The calls that may have reached the tenant: everything attempted (applied, failed, unknown), never skipped ones. */
function attemptedCalls(changes: readonly Change[], results: readonly ChangeResult[]): Change['call'][] {
  const attempted = new Set(results.filter((r) => r.status !== 'skipped').map((r) => r.changeId));
  return changes.filter((c) => attempted.has(c.id)).map((c) => c.call);
}

/**
 * The shared reads verify may start with, or undefined when it must read everything again.
 * `session` is the one verify reads through (the written mailboxes are re-read on it here);
 * `readers`, more signed-in sessions (apply --concurrency's pool), re-read beside it, one call each
 * at a time.
 */
export async function readsAfterWrites(
  observed: RunContext,
  verifier: Pick<RunContext, 'session'>,
  changes: readonly Change[],
  results: readonly ChangeResult[],
  readers: readonly ExchangeSession[] = [],
): Promise<Map<string, Promise<unknown>> | undefined> {
  const calls = attemptedCalls(changes, results);
  if (calls.some((c) => !UNDERSTOOD_WRITES.has(c.cmdlet.toLowerCase()))) return undefined;
  const mailboxWrites = calls.filter((c) => c.cmdlet.toLowerCase() === 'set-casmailbox');
  const organizationWritten = calls.some((c) => c.cmdlet.toLowerCase() === 'set-transportconfig');

  const seed = new Map<string, Promise<unknown>>();
  const [spare] = readers;
  const organizationRead = organizationWritten && spare ? readOrganizationSwitch(spare) : undefined;
  organizationRead?.catch(() => undefined);
  for (const [key, read] of sharedReadsOf(observed)) {
    if (key === TRANSPORT_CONFIG_READ && organizationWritten) continue;
    if (key.startsWith('mailbox-lookup:') && mailboxWrites.length > 0) continue;
    if (key === MAILBOXES_READ && mailboxWrites.length > 0) {
      const directory = await read.then(
        (d) => d as MailboxDirectory,
        () => undefined,
      );
      if (directory && (await rereadWritten(directory, mailboxWrites, [verifier.session, ...readers]))) seed.set(key, Promise.resolve(directory));
      else if (organizationRead) {
        // The whole tenant again, on the run's own session, beside the organization read on the spare.
        const again = readMailboxDirectory(createRunContext({ session: verifier.session }));
        if (await again.then(() => true, () => false)) seed.set(key, again);
      }
      continue;
    }
    // A read that failed in observe is not carried: verify tries it again.
    if (await read.then(() => true, () => false)) seed.set(key, read);
  }
  if (organizationRead && (await organizationRead.then(() => true, () => false))) seed.set(TRANSPORT_CONFIG_READ, organizationRead);
  return seed;
}

/**
 * Re-reads each written mailbox into the directory, spread over the sessions (each reads one at a
 * time); false when a full bulk read is the better (or only safe) way.
 */
async function rereadWritten(directory: MailboxDirectory, writes: readonly Change['call'][], sessions: readonly ExchangeSession[]): Promise<boolean> {
  if (writes.some((w) => typeof w.parameters.Identity !== 'string' || w.parameters.Identity.length === 0)) return false;
  const identities = [...new Set(writes.map((w) => w.parameters.Identity as string))];
  if (identities.length > Math.max(100, directory.total / 20)) return false;
  const queue = [...identities];
  let clean = true;
  const reader = async (session: ExchangeSession) => {
    for (let identity = queue.shift(); identity !== undefined && clean; identity = queue.shift()) {
      // A write to an identity that names no mailbox (a powershell step's accepted verbatim call) fails
      // its read-back with the service's error record: an answer, not a broken session.
      const answer = await session
        .invoke('Get-EXOCASMailbox', { Identity: identity, Properties: [...BULK_READ_PROPERTIES] }, { select: MAILBOX_OBJECT_PROPERTIES })
        .catch((error: unknown) => {
          if (error instanceof CmdletFailure) return undefined;
          throw error;
        });
      // Not exactly one clean object: do not guess from a partial answer; read the whole tenant again.
      if (!answer || answer.errors.length > 0 || answer.objects.length !== 1 || !directory.refresh(answer.objects[0]!)) clean = false;
    }
  };
  // A reader that throws (a stop, a lost session) stops the others from starting new reads too.
  const readers = sessions.map((session) =>
    reader(session).catch((error: unknown) => {
      clean = false;
      throw error;
    }),
  );
  await Promise.all(readers.map((r) => r.catch(() => undefined)));
  await Promise.all(readers);
  return clean;
}
