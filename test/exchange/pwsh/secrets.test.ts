/**
 * Secrets travel to pwsh over stdin only: never on its command line, never in the text of an error
 * the session produces, while still arriving intact.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SessionError } from '../../../src/errors.js';
import { CmdletFailure, type ExchangeSession } from '../../../src/exchange/session.js';
import { fixtureTenant, noPwsh, tempDir, writeState } from './pwsh-for-tests.js';
import { SharedStubHost } from './shared-host.js';

const SECRET = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2VuLWZvci10ZXN0cw.s1gn4ture-7f3a';

let session: ExchangeSession | undefined;
// One pwsh host for both tests, each over its own state and call record (shared-host.ts).
const host = new SharedStubHost();
afterAll(() => host.close());
afterEach(async () => {
  await session?.close();
  session = undefined;
});

describe.skipIf(noPwsh || process.platform !== 'linux')('secrets in the PowerShell bridge', () => {
  it('keeps the access token off pwsh\'s command line while Connect-ExchangeOnline runs, yet delivers it intact', async () => {
    const dir = tempDir('secret');
    const state = fixtureTenant((s) => (s.faults = { latencyMs: 1500 }));
    const callsFile = join(dir, 'calls.jsonl');
    const stderr: string[] = [];
    const lease = await host.lease(writeState(dir, state), { callsFile, onStderr: (l) => stderr.push(l) });
    session = lease;
    const pid = lease.pid!;
    const connecting = session.invoke(
      'Connect-ExchangeOnline',
      { AccessToken: SECRET, Organization: state.organization.Name, ShowBanner: false },
      { secretParameters: ['AccessToken'] },
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Read while the call is in flight: the process that holds the token.
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline.some((arg) => arg.endsWith('host.ps1'))).toBe(true);
    expect(cmdline.join(' ')).not.toContain(SECRET);
    expect(cmdline.join(' ')).not.toContain('s1gn4ture');
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    expect(environ).not.toContain(SECRET);
    await connecting;
    const recorded = JSON.parse(readFileSync(callsFile, 'utf8').split('\n')[0]!) as { parameters: { AccessToken: { sha256: string } } };
    expect(recorded.parameters.AccessToken.sha256).toBe(createHash('sha256').update(SECRET).digest('hex'));
    expect(stderr.join('\n')).not.toContain(SECRET);
  });

  it('redacts a secret parameter\'s value from error records and from a timeout\'s SessionError', async () => {
    const dir = tempDir('secret');
    session = await host.lease(writeState(dir, fixtureTenant()));
    // The not-found error quotes the identity back: marked secret, it must come back redacted.
    const result = await session.invoke('Get-CASMailbox', { Identity: SECRET }, { secretParameters: ['Identity'] });
    expect(result.errors[0]!.message).toContain("object '[redacted]' couldn't be found");
    expect(JSON.stringify(result)).not.toContain(SECRET);
    const failure = await session.invoke('Get-CASMailbox', { Identity: SECRET, ErrorAction: 'Stop' }, { secretParameters: ['identity'] }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CmdletFailure);
    expect(String((failure as Error).message) + JSON.stringify((failure as CmdletFailure).record)).not.toContain(SECRET);
    // A tenant where every call takes ten minutes: the call ends only by its timeout, whatever the
    // machine's load (a quick failure could otherwise win the race against a 1 ms timer).
    await session.close();
    session = await host.lease(writeState(tempDir('secret-slow'), fixtureTenant((state) => (state.faults = { latencyMs: 600_000 }))));
    const timedOut = await session
      .invoke('Connect-ExchangeOnline', { AccessToken: SECRET, Organization: 'x' }, { secretParameters: ['AccessToken'], timeoutMs: 200 })
      .catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(SessionError);
    expect(String((timedOut as Error).message)).not.toContain(SECRET);
  });
});
