/**
 * Sign-in as the real module accepts it, through real PowerShell and the stub module, whose
 * Connect-ExchangeOnline opens the certificate file and checks the token's partner parameter the
 * way ExchangeOnlineManagement does: a PEM signs in with a token from @azure/identity
 * (-AccessToken -Organization), a .pfx through the module (-CertificateFilePath
 * -CertificatePassword), a delegated token with -UserPrincipalName. Certificates are made here with
 * openssl. Needs pwsh: under CI=true a missing pwsh fails the file.
 */
import { constants, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AccessToken, ClientCertificateCredentialOptions, TokenCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionError } from '../../../src/errors.js';
import { credentialFor, type CredentialAuth } from '../../../src/exchange/connect/credentials.js';
import { findPwsh } from '../../../src/exchange/find-pwsh.js';
import type { PwshSession } from '../../../src/exchange/pwsh/session.js';
import { writeStateFile } from '../../../src/exchange/simulator/state-file.js';
import { openTarget } from '../../../src/exchange/target.js';
import type { Playbook } from '../../../src/playbook/schema.js';
import { makeCertificates, type TestCertificates } from '../../support/certificates.js';
import { jsonHeaders } from '../../support/token-endpoint.js';
import { startStubSession } from '../pwsh/pwsh-for-tests.js';
import { smallTenant } from './tenant-state.js';

const ORG = 'contoso.onmicrosoft.com';
const MODULES = resolve('test/fixtures/modules');
const PASSWORD = `pfx-pass-${process.pid}`;
const pwsh = findPwsh();
if (!pwsh && process.env.CI === 'true') throw new Error('pwsh is required under CI: run `npm run ensure-pwsh`');

const jwt = (claims: Record<string, unknown>) =>
  `${Buffer.from('{"typ":"JWT","alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims })).toString('base64url')}.c2ln`;
const APP_TOKEN = jwt({ idtyp: 'app', roles: ['Exchange.ManageAsApp'], tid: 'tenant-id' });
const USER_TOKEN = jwt({ scp: 'Exchange.Manage', upn: 'admin@contoso.onmicrosoft.com', tid: 'tenant-id' });

let dir: string;
let certs: TestCertificates;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exo-cert-sign-in-'));
  certs = makeCertificates(join(dir, 'certs'), PASSWORD);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function setUp(name: string) {
  const stateFile = join(dir, `${name}.json`);
  const callsFile = join(dir, `${name}.calls.jsonl`);
  await writeStateFile(stateFile, smallTenant(ORG));
  await writeFile(callsFile, '');
  const env = { ...process.env, EXO_PLAYBOOK_MODULE_PATH: MODULES, EXO_PLAYBOOK_STUB_STATE: stateFile, EXO_PLAYBOOK_STUB_CALLS: callsFile, EXO_CERT_PASSWORD: PASSWORD };
  const connects = async () =>
    (await readFile(callsFile, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { cmdlet: string; parameters: Record<string, unknown> })
      .filter((call) => call.cmdlet === 'Connect-ExchangeOnline');
  return { env, stateFile, callsFile, connects };
}

/** Entra's token endpoint as @azure/identity's HTTP client sees it: discovery, then the token. */
type HttpClient = NonNullable<ClientCertificateCredentialOptions['httpClient']>;

function fakeTokenService(requests: { url: URL; body: string }[]): HttpClient {
  return {
    async sendRequest(request) {
      const url = new URL(request.url);
      requests.push({ url, body: typeof request.body === 'string' ? request.body : '' });
      const tenantBase = `${url.origin}/${ORG}`;
      const body = url.pathname.endsWith('/openid-configuration')
        ? { token_endpoint: `${tenantBase}/oauth2/v2.0/token`, issuer: `${url.origin}/tenant-id/v2.0`, authorization_endpoint: `${tenantBase}/oauth2/v2.0/authorize`, jwks_uri: `${tenantBase}/discovery/v2.0/keys` }
        : { token_type: 'Bearer', expires_in: 3600, access_token: APP_TOKEN };
      return { request, status: 200, headers: jsonHeaders(), bodyAsText: JSON.stringify(body) };
    },
  };
}

/** A credential that hands out a fixed token: @azure/identity cannot reach Entra from here. */
const fixedToken = (token: string): TokenCredential => ({ getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) });

const certificateTenant = (certificatePath: string, extra: Partial<Extract<Playbook['tenant']['auth'], { method: 'certificate' }>> = {}): Playbook['tenant'] => ({
  organization: ORG,
  auth: { method: 'certificate', appId: 'app-0042', certificatePath, ...extra },
});

describe.skipIf(!pwsh)('certificate sign-in as the module accepts it (real pwsh + stub)', () => {
  it('a PEM signs in by default through the token path: a client assertion signed with its key, then -AccessToken -Organization', async () => {
    const { env, connects } = await setUp('pem-token');
    const requests: { url: URL; body: string }[] = [];
    const session = await openTarget('exchange', certificateTenant(certs.pem), {
      env,
      baseDir: dir,
      cmdlets: ['Get-TransportConfig'],
      connector: {
        // The real ClientCertificateCredential over the PEM; only its HTTP goes to an in-process
        // token service instead of Entra (nothing leaves the process).
        credentialFor: (auth: CredentialAuth, context) =>
          credentialFor(auth, context, { httpClient: fakeTokenService(requests), authorityHost: 'https://login.example.invalid', disableInstanceDiscovery: true }),
      },
    });
    try {
      expect((await session.invoke('Get-TransportConfig')).objects).toHaveLength(1);
    } finally {
      await session.close();
    }
    // The token request proves the PEM's key signed it: the assertion names the certificate by its
    // SHA-256 thumbprint and its signature verifies with the certificate's public key.
    const tokenRequest = requests.find((r) => r.url.pathname.endsWith('/oauth2/v2.0/token'));
    const form = new URLSearchParams(tokenRequest!.body);
    expect(form.get('client_id')).toBe('app-0042');
    expect(form.get('scope')).toBe('https://outlook.office365.com/.default');
    const [header, payload, signature] = form.get('client_assertion')!.split('.');
    const certificate = new X509Certificate(readFileSync(certs.certificateOnlyPem));
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())['x5t#S256']).toBe(Buffer.from(certificate.fingerprint256.replace(/:/g, ''), 'hex').toString('base64url'));
    expect(
      cryptoVerify('sha256', Buffer.from(`${header}.${payload}`), { key: certificate.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, Buffer.from(signature!, 'base64url')),
    ).toBe(true);
    // The app-only token it got goes to the module with -Organization, no certificate parameters.
    const [connect] = await connects();
    expect(Object.keys(connect!.parameters).sort()).toEqual(['AccessToken', 'CommandName', 'Organization', 'ShowBanner', 'SkipLoadingFormatData']);
    expect(connect!.parameters.Organization).toBe(ORG);
  });

  it('a .pfx signs in through the module: the stub opens it with the password and connects', async () => {
    const { env, connects } = await setUp('pfx-module');
    const session = await openTarget('exchange', certificateTenant(certs.pfx, { certificatePassword: '${env:EXO_CERT_PASSWORD}' }), {
      env,
      baseDir: dir,
      cmdlets: ['Get-TransportConfig'],
    });
    try {
      expect((await session.invoke('Get-TransportConfig')).objects[0]?.SmtpClientAuthenticationDisabled).toBe(false);
    } finally {
      await session.close();
    }
    const [connect] = await connects();
    expect(connect!.parameters).toMatchObject({ AppId: 'app-0042', CertificateFilePath: certs.pfx, Organization: ORG });
    expect(connect!.parameters).not.toHaveProperty('AccessToken');
  });

  it('a .pfx with a wrong password fails the sign-in as the module does, naming no secret', async () => {
    const { env } = await setUp('pfx-wrong-password');
    const failure = await openTarget('exchange', certificateTenant(certs.pfx, { certificatePassword: '${env:EXO_CERT_PASSWORD}' }), {
      env: { ...env, EXO_CERT_PASSWORD: 'not-the-password' },
      baseDir: dir,
      cmdlets: [],
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SessionError);
    expect((failure as Error).message).toMatch(/^Sign-in to contoso\.onmicrosoft\.com failed \(certificate, app id app-0042, signed in by ExchangeOnlineManagement\): .*password/i);
    expect((failure as Error).message).not.toContain('not-the-password');
  });

  it('a PEM given to the module (signIn: module) fails as the module does: the certificate has no private key', async () => {
    const { env } = await setUp('pem-module');
    const failure = await openTarget('exchange', certificateTenant(certs.pem, { signIn: 'module' }), { env, baseDir: dir, cmdlets: [] }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SessionError);
    expect((failure as Error).message).toContain('has no private key');
  });

  it('a delegated token (Azure CLI) goes with -UserPrincipalName, the user the token names', async () => {
    const { env, connects } = await setUp('delegated');
    const session = await openTarget('exchange', { organization: ORG, auth: { method: 'azure-cli' } }, {
      env,
      baseDir: dir,
      cmdlets: ['Get-TransportConfig'],
      connector: { credentialFor: async () => fixedToken(USER_TOKEN) },
    });
    await session.close();
    const [connect] = await connects();
    expect(connect!.parameters).toMatchObject({ UserPrincipalName: 'admin@contoso.onmicrosoft.com' });
    expect(connect!.parameters).not.toHaveProperty('Organization');
  });
});

describe.skipIf(!pwsh)('the stub refuses -AccessToken without the partner its token type needs', () => {
  let session: PwshSession;
  let stateFile: string;
  beforeAll(async () => {
    ({ stateFile } = await setUp('partners'));
    session = await startStubSession(stateFile);
  });
  afterAll(async () => {
    await session?.close();
  });

  const connect = async (parameters: Record<string, unknown>) => {
    const result = await session.invoke('Connect-ExchangeOnline', { ShowBanner: false, ...parameters } as never, { secretParameters: ['AccessToken'] }).catch((error: unknown) => error);
    return result instanceof Error ? result.message : 'connected';
  };

  it.each([
    ['an app-only token alone', { AccessToken: APP_TOKEN }, /Either one of Organization, DelegatedOrganization or UserPrincipalName should be provided/],
    ['an app-only token with -UserPrincipalName', { AccessToken: APP_TOKEN, UserPrincipalName: 'admin@contoso.onmicrosoft.com' }, /app-only token: provide the Organization/],
    ['a delegated token with -Organization', { AccessToken: USER_TOKEN, Organization: ORG }, /delegated token: provide the UserPrincipalName/],
  ])('%s is refused', async (_name, parameters, refusal) => {
    expect(await connect(parameters)).toMatch(refusal);
  });

  it.each([
    ['an app-only token with -Organization', { AccessToken: APP_TOKEN, Organization: ORG }],
    ['a delegated token with its -UserPrincipalName', { AccessToken: USER_TOKEN, UserPrincipalName: 'admin@contoso.onmicrosoft.com' }],
  ])('%s connects', async (_name, parameters) => {
    expect(await connect(parameters)).toBe('connected');
  });
});
