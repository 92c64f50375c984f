import type { AccessToken, TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { SessionError } from '../../../src/errors.js';
import { ConnectedSession } from '../../../src/exchange/connect/connected-session.js';
import { createConnector, type Tenant } from '../../../src/exchange/connect/connector.js';
import { cmdletFailure, hostCrashed, RecordingSession } from './recording-session.js';

const ORG = 'contoso.onmicrosoft.com';
const MINUTE = 60_000;

/** A credential that hands out numbered tokens, each living `lifetimeMs` from the fake clock's now. */
function countingCredential(clock: { now: number }, lifetimeMs: number): TokenCredential & { issued: number } {
  const credential = {
    issued: 0,
    async getToken(): Promise<AccessToken> {
      credential.issued += 1;
      return { token: `token-${credential.issued}`, expiresOnTimestamp: clock.now + lifetimeMs };
    },
  };
  return credential;
}

function managedIdentityTenant(): Tenant {
  return { organization: ORG, auth: { method: 'managed-identity', signIn: 'token' } };
}

async function openWith(credential: TokenCredential, clock: { now: number }, session = new RecordingSession()) {
  const connector = createConnector(managedIdentityTenant(), {
    env: {},
    baseDir: '/',
    cmdlets: ['Get-TransportConfig'],
    credentialFor: async () => credential,
    now: () => clock.now,
  });
  const connected = await ConnectedSession.open(session, connector, { now: () => clock.now });
  return { session, connected };
}

describe('ConnectedSession: staying signed in', () => {
  it('connects once with the token and runs calls without reconnecting while the token is fresh', async () => {
    const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
    const credential = countingCredential(clock, 60 * MINUTE);
    const { session, connected } = await openWith(credential, clock);
    await connected.invoke('Get-TransportConfig');
    clock.now += 30 * MINUTE;
    await connected.invoke('Get-TransportConfig');
    expect(session.count('Connect-ExchangeOnline')).toBe(1);
    expect(session.calls[0]?.parameters.AccessToken).toBe('token-1');
    expect(session.calls[0]?.secretParameters).toEqual(['AccessToken']);
  });

  it('a token that expires in 1 minute leads to a second Connect-ExchangeOnline, with a new token, before the next call', async () => {
    const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
    const credential = countingCredential(clock, 1 * MINUTE);
    const { session, connected } = await openWith(credential, clock);
    await connected.invoke('Get-TransportConfig');
    expect(session.calls.map((c) => c.cmdlet)).toEqual([
      'Connect-ExchangeOnline',
      'Connect-ExchangeOnline',
      'Get-TransportConfig',
    ]);
    expect(session.calls[1]?.parameters.AccessToken).toBe('token-2');
  });

  it('renews before a streamed read too', async () => {
    const clock = { now: 0 };
    const credential = countingCredential(clock, 10 * MINUTE);
    const { session, connected } = await openWith(credential, clock);
    clock.now += 6 * MINUTE; // 4 minutes left: inside the 5-minute margin
    const rows = [];
    for await (const row of connected.stream('Get-TransportConfig')) rows.push(row);
    expect(rows).toHaveLength(1);
    expect(session.count('Connect-ExchangeOnline')).toBe(2);
  });

  it('after the host crashed (SessionError) the next call signs in again first; cmdlet failures do not', async () => {
    const clock = { now: 0 };
    const { session, connected } = await openWith(countingCredential(clock, 60 * MINUTE), clock);
    session.failNext.set('Get-CASMailbox', cmdletFailure('Get-CASMailbox', "object 'x' couldn't be found"));
    await expect(connected.invoke('Get-CASMailbox', { Identity: 'x' })).rejects.toThrow(/couldn't be found/);
    await connected.invoke('Get-TransportConfig');
    expect(session.count('Connect-ExchangeOnline')).toBe(1);

    session.failNext.set('Get-TransportConfig', hostCrashed('Get-TransportConfig'));
    await expect(connected.invoke('Get-TransportConfig')).rejects.toBeInstanceOf(SessionError);
    await connected.invoke('Get-TransportConfig');
    expect(session.calls.slice(-2).map((c) => c.cmdlet)).toEqual(['Connect-ExchangeOnline', 'Get-TransportConfig']);
  });

  it('with reconnectAfterFailure false (the pwsh restart hook signs in) a crash does not cause a second connect', async () => {
    const clock = { now: 0 };
    const session = new RecordingSession();
    const connector = createConnector(managedIdentityTenant(), {
      env: {},
      baseDir: '/',
      cmdlets: [],
      credentialFor: async () => countingCredential(clock, 60 * MINUTE),
      now: () => clock.now,
    });
    const connected = await ConnectedSession.open(session, connector, { now: () => clock.now, reconnectAfterFailure: false });
    session.failNext.set('Get-TransportConfig', hostCrashed('Get-TransportConfig'));
    await expect(connected.invoke('Get-TransportConfig')).rejects.toBeInstanceOf(SessionError);
    await connected.invoke('Get-TransportConfig');
    expect(session.count('Connect-ExchangeOnline')).toBe(1);
  });

  it('close after a crash does not start a host only to disconnect it', async () => {
    const clock = { now: 0 };
    const { session, connected } = await openWith(countingCredential(clock, 60 * MINUTE), clock);
    session.failNext.set('Get-TransportConfig', hostCrashed('Get-TransportConfig'));
    await expect(connected.invoke('Get-TransportConfig')).rejects.toBeInstanceOf(SessionError);
    await connected.close();
    expect(session.count('Disconnect-ExchangeOnline')).toBe(0);
    expect(session.closed).toBe(1);
  });

  it('the restart hook makes the next call reconnect', async () => {
    const clock = { now: 0 };
    const { session, connected } = await openWith(countingCredential(clock, 60 * MINUTE), clock);
    connected.markRestarted();
    await connected.invoke('Get-TransportConfig');
    expect(session.count('Connect-ExchangeOnline')).toBe(2);
  });

  it('concurrent calls share one reconnect', async () => {
    const clock = { now: 0 };
    const { session, connected } = await openWith(countingCredential(clock, 60 * MINUTE), clock);
    connected.markRestarted();
    await Promise.all([1, 2, 3].map(() => connected.invoke('Get-TransportConfig')));
    expect(session.count('Connect-ExchangeOnline')).toBe(2);
    expect(session.count('Get-TransportConfig')).toBe(3);
  });

  it('close disconnects with -Confirm:$false once, then closes the session; later calls fail', async () => {
    const clock = { now: 0 };
    const { session, connected } = await openWith(countingCredential(clock, 60 * MINUTE), clock);
    await connected.close();
    await connected.close();
    expect(session.calls.filter((c) => c.cmdlet === 'Disconnect-ExchangeOnline').map((c) => c.parameters)).toEqual([{ Confirm: false }]);
    expect(session.closed).toBe(1);
    await expect(connected.invoke('Get-TransportConfig')).rejects.toThrow(/closed/);
  });

  it('a failed first sign-in closes the session and says which method, app and what to check, without the secret', async () => {
    const session = new RecordingSession();
    session.failNext.set(
      'Connect-ExchangeOnline',
      cmdletFailure('Connect-ExchangeOnline', 'UnAuthorized: token super-secret-token-123 rejected\n   at trace'),
    );
    const connector = createConnector(
      { organization: ORG, auth: { method: 'access-token', token: '${env:EXO_TOKEN}' } },
      { env: {}, baseDir: '/', cmdlets: [], resolveSecret: async () => 'super-secret-token-123' },
    );
    const failure = await ConnectedSession.open(session, connector).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SessionError);
    const message = (failure as Error).message;
    expect(message).toContain(`Sign-in to ${ORG} failed (access-token, supplied token)`);
    expect(message).toContain('UnAuthorized: token [redacted] rejected');
    expect(message).toContain('Check that the token is an app-only token for https://outlook.office365.com');
    expect(message).not.toContain('super-secret-token-123');
    expect(message).not.toContain('at trace');
    expect(session.closed).toBe(1);
  });

  it('a token credential failure names the app id and what to check', async () => {
    const connector = createConnector(
      { organization: ORG, auth: { method: 'certificate', appId: 'app-42', certificatePath: 'c.pem', signIn: 'token' } },
      {
        env: {},
        baseDir: '/',
        cmdlets: [],
        credentialFor: async () => ({
          getToken: async () => {
            throw new Error("AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application.\nTrace ID: 1");
          },
        }),
      },
    );
    const session = new RecordingSession();
    await expect(ConnectedSession.open(session, connector)).rejects.toThrow(
      /^Sign-in to contoso\.onmicrosoft\.com failed \(certificate, app id app-42, token from @azure\/identity\): AADSTS700027: .*application\. Check that app app-42 is registered .*Exchange\.ManageAsApp.*Exchange Administrator role\.$/,
    );
    expect(session.count('Connect-ExchangeOnline')).toBe(0);
  });
});

describe('access-token sign-in', () => {
  function jwt(expSeconds: number): string {
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    return `${part({ alg: 'none' })}.${part({ aud: 'https://outlook.office365.com', exp: expSeconds })}.sig`;
  }

  it('refuses an expired token before connecting, saying when it expired', async () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    const connector = createConnector(
      { organization: ORG, auth: { method: 'access-token', token: '${env:EXO_TOKEN}' } },
      { env: {}, baseDir: '/', cmdlets: [], resolveSecret: async () => jwt(now / 1000 - 60), now: () => now },
    );
    const session = new RecordingSession();
    await expect(ConnectedSession.open(session, connector, { now: () => now })).rejects.toThrow(
      /the access token expired at 2026-03-01T11:59:00\.000Z\. Provide a fresh token/,
    );
    expect(session.count('Connect-ExchangeOnline')).toBe(0);
  });

  it('near expiry re-reads the secret and reconnects only when the token changed', async () => {
    let now = Date.parse('2026-03-01T12:00:00Z');
    let token = jwt(now / 1000 + 120);
    const connector = createConnector(
      { organization: ORG, auth: { method: 'access-token', token: '${file:token.txt}' } },
      { env: {}, baseDir: '/', cmdlets: [], resolveSecret: async () => token, now: () => now },
    );
    const session = new RecordingSession();
    const connected = await ConnectedSession.open(session, connector, { now: () => now });
    await connected.invoke('Get-TransportConfig'); // same token re-read: no second connect
    expect(session.count('Connect-ExchangeOnline')).toBe(1);
    token = jwt(now / 1000 + 3600); // refreshed outside, e.g. by a pipeline step
    now += 1000;
    await connected.invoke('Get-TransportConfig');
    expect(session.count('Connect-ExchangeOnline')).toBe(2);
    expect(session.calls.at(-2)?.parameters.AccessToken).toBe(token);
  });
});

const DELEGATED = `e30.${Buffer.from(JSON.stringify({ scp: 'Exchange.Manage', upn: 'admin@contoso.onmicrosoft.com' })).toString('base64url')}.c2ln`;

describe('device-code sign-in', () => {
  it('token sign-in: the credential prompt reaches onDeviceCode', async () => {
    const shown: string[] = [];
    const prompt = 'To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ABCD1234 to authenticate.';
    const connector = createConnector(
      { organization: ORG, auth: { method: 'device-code', signIn: 'token' } },
      {
        env: {},
        baseDir: '/',
        cmdlets: [],
        onDeviceCode: (message) => shown.push(message),
        // Stands in for DeviceCodeCredential: prompts through the context, then returns a token.
        credentialFor: async (_auth, context) => ({
          getToken: async () => {
            context.onDeviceCode(prompt);
            return { token: DELEGATED, expiresOnTimestamp: Date.now() + 3_600_000 };
          },
        }),
      },
    );
    const session = new RecordingSession();
    await ConnectedSession.open(session, connector);
    expect(shown).toEqual([prompt]);
    expect(session.calls[0]?.parameters.AccessToken).toBe(DELEGATED);
    // A delegated token names its user, not the tenant (Connect-ExchangeOnline -AccessToken).
    expect(session.calls[0]?.parameters.UserPrincipalName).toBe('admin@contoso.onmicrosoft.com');
    expect(session.calls[0]?.parameters).not.toHaveProperty('Organization');
  });

  it('module sign-in: a prompt the module emits as a warning reaches onDeviceCode, other warnings only the log', async () => {
    const shown: string[] = [];
    const logged: string[] = [];
    const session = new RecordingSession();
    session.connectWarnings = [
      'To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code XYZ to authenticate.',
      'Something unrelated',
    ];
    const connector = createConnector(
      { organization: ORG, auth: { method: 'device-code', signIn: 'module' } },
      { env: {}, baseDir: '/', cmdlets: [], onDeviceCode: (m) => shown.push(m), log: (l) => logged.push(l) },
    );
    await ConnectedSession.open(session, connector);
    expect(session.calls[0]?.parameters.Device).toBe(true);
    expect(shown).toHaveLength(1);
    expect(shown[0]).toContain('enter the code XYZ');
    expect(logged).toContain('Connect-ExchangeOnline: Something unrelated');
  });
});
