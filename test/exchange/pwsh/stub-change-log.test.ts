/**
 * The stub module writes like the simulator: a Set appends one line to `<state>.changes` (the file
 * itself is not rewritten), a second pwsh host on the same file sees the first one's writes through
 * the log, the simulator's reader replays the stub's log, and Disconnect-ExchangeOnline folds it in.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { changeLogPath } from '../../../src/exchange/simulator/change-log.js';
import { readStateFile } from '../../../src/exchange/simulator/state-file.js';
import type { ExchangeSession } from '../../../src/exchange/session.js';
import { fixtureTenant, noPwsh, tempDir, writeState } from './pwsh-for-tests.js';
import { SharedStubHost } from './shared-host.js';

// The first session of each test leases one shared pwsh host (its own state file: shared-host.ts);
// a second session on the same file while that one is open gets a host of its own.
const host = new SharedStubHost();
afterAll(() => host.close());
const sessions: ExchangeSession[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});

async function connected(stateFile: string, organization: string): Promise<ExchangeSession> {
  const session = await host.lease(stateFile);
  sessions.push(session);
  await session.invoke('Connect-ExchangeOnline', { AccessToken: 't', Organization: organization, ShowBanner: false });
  return session;
}

const switchOf = async (session: ExchangeSession, identity: string) =>
  (await session.invoke('Get-EXOCASMailbox', { Identity: identity, Properties: ['SmtpClientAuthenticationDisabled'] })).objects[0]?.SmtpClientAuthenticationDisabled;

describe.skipIf(noPwsh)('stub module change log', () => {
  it('appends writes to the log, shares them between hosts on one file, and folds them in at Disconnect', async () => {
    const initial = fixtureTenant();
    const stateFile = writeState(tempDir('stublog'), initial);
    const [a, b] = [initial.mailboxes[0]!.PrimarySmtpAddress, initial.mailboxes[1]!.PrimarySmtpAddress];
    const before = statSync(stateFile);
    const one = await connected(stateFile, initial.organization.Name);
    const two = await connected(stateFile, initial.organization.Name);
    expect(await switchOf(two, a)).not.toBe(true);

    await one.invoke('Set-CASMailbox', { Identity: a, SmtpClientAuthenticationDisabled: true });
    expect(await switchOf(two, a)).toBe(true); // host two sees host one's write through the log
    await two.invoke('Set-CASMailbox', { Identity: b, SmtpClientAuthenticationDisabled: false });
    await two.invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: true });
    expect(await switchOf(one, b)).toBe(false);

    // The file was not rewritten: the writes are lines in the log, which the simulator's reader replays.
    const during = statSync(stateFile);
    expect([during.ino, during.size, during.mtimeMs]).toEqual([before.ino, before.size, before.mtimeMs]);
    const log = readFileSync(changeLogPath(stateFile), 'utf8').trim().split('\n');
    expect(JSON.parse(log[0]!)).toEqual({ changeLogFor: { ino: before.ino, size: before.size, mtimeMs: expect.closeTo(before.mtimeMs, 3) } });
    expect(log).toHaveLength(4);
    const replayed = await readStateFile(stateFile);
    expect(replayed.mailboxes[0]!.SmtpClientAuthenticationDisabled).toBe(true);
    expect(replayed.mailboxes[1]!.SmtpClientAuthenticationDisabled).toBe(false);
    expect(replayed.transportConfig.SmtpClientAuthenticationDisabled).toBe(true);

    // Disconnect (close) folds the log into the file and deletes it.
    await Promise.all(sessions.splice(0).map((s) => s.close()));
    expect(existsSync(changeLogPath(stateFile))).toBe(false);
    const folded = JSON.parse(readFileSync(stateFile, 'utf8')) as typeof initial;
    expect(folded.mailboxes[0]!.SmtpClientAuthenticationDisabled).toBe(true);
    expect(folded.mailboxes[1]!.SmtpClientAuthenticationDisabled).toBe(false);
    expect(folded.transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
  });

  it('keeps what the file says of each mailbox through a write and a fold: fields it does not know, fields it lacks, the order of the list', async () => {
    const initial = fixtureTenant();
    const [first, second] = initial.mailboxes as unknown as Record<string, unknown>[];
    first!.Department = 'Facilities'; // not a field the stub models: kept as it is
    delete second!.AuthenticationPolicy; // absent: stays absent (the simulator leaves it out too)
    const stateFile = writeState(tempDir('stubkeep'), initial);
    const session = await connected(stateFile, initial.organization.Name);
    // Identities resolve case-insensitively, as before.
    await session.invoke('Set-CASMailbox', { Identity: String(first!.PrimarySmtpAddress).toUpperCase(), SmtpClientAuthenticationDisabled: true });
    await session.invoke('Set-CASMailbox', { Identity: String(second!.PrimarySmtpAddress), SmtpClientAuthenticationDisabled: false });
    const read = await session.invoke('Get-EXOCASMailbox', { ResultSize: 'Unlimited', Properties: ['SmtpClientAuthenticationDisabled'] });
    expect(read.objects.map((o) => o.PrimarySmtpAddress)).toEqual(initial.mailboxes.map((m) => m.PrimarySmtpAddress));
    expect(read.objects.slice(0, 2).map((o) => o.SmtpClientAuthenticationDisabled)).toEqual([true, false]);
    await Promise.all(sessions.splice(0).map((s) => s.close()));
    expect(existsSync(changeLogPath(stateFile))).toBe(false);
    const folded = JSON.parse(readFileSync(stateFile, 'utf8')) as { mailboxes: Record<string, unknown>[] };
    expect(folded.mailboxes[0]).toEqual({ ...first, SmtpClientAuthenticationDisabled: true });
    expect(folded.mailboxes[1]).toEqual({ ...second, SmtpClientAuthenticationDisabled: false });
    expect('AuthenticationPolicy' in folded.mailboxes[1]!).toBe(false);
    expect(folded.mailboxes.slice(2)).toEqual(initial.mailboxes.slice(2));
  });
});
