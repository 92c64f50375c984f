/**
 * `method: partner` (GDAP / Secure Application Model) end to end: @azure/identity asks the
 * customer's tenant (a token endpoint on 127.0.0.1) for an app-only token with the partner app's
 * client secret or certificate, and the runner signs in with Connect-ExchangeOnline -AccessToken
 * -DelegatedOrganization through real pwsh and the stub module, which serves one simulated tenant
 * per organization (EXO_STUB_STATE_DIR). Also the stub's own rules for those parameters and for
 * several tenants in one host. Needs pwsh: under CI=true a missing pwsh fails the file.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionError } from '../../../src/errors.js';
import { createConnector } from '../../../src/exchange/connect/connector.js';
import { credentialFor, type CredentialAuth } from '../../../src/exchange/connect/credentials.js';
import { findPwsh } from '../../../src/exchange/find-pwsh.js';
import type { PwshSession } from '../../../src/exchange/pwsh/session.js';
import { writeStateFile } from '../../../src/exchange/simulator/state-file.js';
import type { TenantState } from '../../../src/exchange/simulator/state.js';
import { openTarget, secretEnvNames } from '../../../src/exchange/target.js';
import { authSchema, type Playbook } from '../../../src/playbook/schema.js';
import { makeCertificates, type TestCertificates } from '../../support/certificates.js';
import { startTokenEndpoint, unsignedJwt, type TokenEndpoint } from '../../support/token-endpoint.js';
import { startStubSession } from '../pwsh/pwsh-for-tests.js';
import { RecordingSession } from './recording-session.js';
import { smallTenant } from './tenant-state.js';

const CONTOSO = 'contoso.onmicrosoft.com';
const FABRIKAM = 'fabrikam.onmicrosoft.com';
const CONTOSO_ID = '0a1b2c3d-0000-4000-8000-00000000c0de';
const FABRIKAM_ID = '0a1b2c3d-0000-4000-8000-0000000fab00';
const STRAY = 'stray.onmicrosoft.com';
const STRAY_ID = '0a1b2c3d-0000-4000-8000-000000057a7e';
const APP_ID = '9d1e2f3a-0000-4000-8000-00000000a9b0';
const SECRET = `partner-secret-${process.pid}`;
const MODULES = resolve('test/fixtures/modules');
const pwsh = findPwsh();
if (!pwsh && process.env.CI === 'true') throw new Error('pwsh is required under CI: run `npm run ensure-pwsh`');

let dir: string;
let statesDir: string;
let certs: TestCertificates;
let endpoint: TokenEndpoint;

const tenantState = (organization: string, tenantId: string, organizationOff: boolean): TenantState => {
  const state = smallTenant(organization);
  state.organization.TenantId = tenantId;
  state.transportConfig.SmtpClientAuthenticationDisabled = organizationOff;
  return state;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exo-partner-sign-in-'));
  statesDir = join(dir, 'tenants');
  certs = makeCertificates(join(dir, 'certs'), 'unused-pfx-password');
  await mkdir(statesDir);
  // Two customers, each its own state file named by its organization; contoso has SMTP AUTH on, fabrikam off.
  await writeStateFile(join(statesDir, `${CONTOSO}.json`), tenantState(CONTOSO, CONTOSO_ID, false));
  await writeStateFile(join(statesDir, `${FABRIKAM}.json`), tenantState(FABRIKAM, FABRIKAM_ID, true));
  // Entra knows a third customer that has no simulated tenant: its sign-in gets a token, then fails.
  endpoint = await startTokenEndpoint({ [CONTOSO]: CONTOSO_ID, [CONTOSO_ID]: CONTOSO_ID, [FABRIKAM]: FABRIKAM_ID, [FABRIKAM_ID]: FABRIKAM_ID, [STRAY]: STRAY_ID, [STRAY_ID]: STRAY_ID });
});
afterAll(async () => {
  await endpoint?.close();
  await rm(dir, { recursive: true, force: true });
});

async function callsFile(name: string): Promise<{ file: string; connects: () => Promise<Record<string, unknown>[]> }> {
  const file = join(dir, `${name}.calls.jsonl`);
  await writeFile(file, '');
  const connects = async () =>
    (await readFile(file, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { cmdlet: string; parameters: Record<string, unknown> })
      .filter((call) => call.cmdlet === 'Connect-ExchangeOnline')
      .map((call) => call.parameters);
  return { file, connects };
}

type PartnerAuth = Extract<Playbook['tenant']['auth'], { method: 'partner' }>;

async function openPartner(organization: string, auth: Omit<PartnerAuth, 'method' | 'appId'>, calls: string) {
  return openTarget(
    'exchange',
    { organization, auth: { method: 'partner', appId: APP_ID, ...auth } },
    {
      env: { ...process.env, EXO_PLAYBOOK_MODULE_PATH: MODULES, EXO_STUB_STATE_DIR: statesDir, EXO_PLAYBOOK_STUB_CALLS: calls, PARTNER_SECRET: SECRET },
      baseDir: dir,
      cmdlets: ['Get-TransportConfig'],
      connector: { credentialFor: (a: CredentialAuth, context) => credentialFor(a, context, endpoint.credentialOptions) },
    },
  );
}

describe('partner sign-in in tenant.auth', () => {
  const partner = { method: 'partner', appId: APP_ID } as const;

  it('takes the app with a client secret reference or a PEM certificate, and a customer tenant id', () => {
    expect(authSchema.safeParse({ ...partner, clientSecret: '${env:PARTNER_SECRET}', customerTenantId: CONTOSO_ID }).success).toBe(true);
    expect(authSchema.safeParse({ ...partner, certificatePath: 'partner.pem', certificatePassword: '${env:PW}' }).success).toBe(true);
  });

  it.each([
    ['neither a secret nor a certificate', {}, 'exactly one of certificatePath'],
    ['both a secret and a certificate', { clientSecret: '${env:S}', certificatePath: 'p.pem' }, 'exactly one of certificatePath'],
    ['a certificate password without a certificate', { clientSecret: '${env:S}', certificatePassword: '${env:PW}' }, 'certificatePassword goes with certificatePath'],
    ['an unknown key', { clientSecret: '${env:S}', tenant: 'x' }, 'tenant'],
  ])('refuses %s', (_name, extra, message) => {
    const result = authSchema.safeParse({ ...partner, ...extra });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(message);
  });

  it('connects with the token as -AccessToken and the organization as -DelegatedOrganization, whatever kind of token it is', async () => {
    for (const token of [unsignedJwt({ idtyp: 'app', roles: ['Exchange.ManageAsApp'] }), unsignedJwt({ scp: 'Exchange.Manage', upn: 'admin@partner.onmicrosoft.com' })]) {
      const session = new RecordingSession();
      const asked: string[] = [];
      const connector = createConnector(
        { organization: CONTOSO, auth: { ...partner, clientSecret: '${env:PARTNER_SECRET}', customerTenantId: CONTOSO_ID } },
        {
          env: {},
          baseDir: '/',
          cmdlets: ['Get-TransportConfig'],
          credentialFor: async (auth) => ({
            getToken: async () => {
              asked.push(auth.method === 'partner' ? (auth.customerTenantId ?? '') : '');
              return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
            },
          }),
        },
      );
      await connector.connect(session, 'initial');
      expect(asked).toEqual([CONTOSO_ID]);
      expect(session.calls[0]).toEqual({
        cmdlet: 'Connect-ExchangeOnline',
        parameters: { DelegatedOrganization: CONTOSO, ShowBanner: false, SkipLoadingFormatData: true, CommandName: ['Get-TransportConfig'], AccessToken: token },
        secretParameters: ['AccessToken'],
      });
      expect(connector.description).toMatchObject({ method: 'partner', appId: APP_ID, signIn: 'token', tokenTenant: CONTOSO_ID });
    }
  });

  it('withholds the client secret variable from PowerShell (it reaches only @azure/identity)', () => {
    expect(secretEnvNames({ ...partner, clientSecret: '${env:PARTNER_SECRET}' })).toEqual(['PARTNER_SECRET']);
  });
});

describe.skipIf(!pwsh)('partner sign-in through real pwsh and the stub, one tenant per organization', () => {
  /** Signs in as a partner, reads the organization switch, closes; what the token endpoint and the stub saw. */
  async function readAsPartner(name: string, organization: string, auth: Omit<PartnerAuth, 'method' | 'appId'>) {
    const { file, connects } = await callsFile(name);
    const before = endpoint.requests.length;
    const session = await openPartner(organization, auth, file);
    let organizationOff: unknown;
    try {
      organizationOff = (await session.invoke('Get-TransportConfig')).objects[0]?.SmtpClientAuthenticationDisabled;
    } finally {
      await session.close();
    }
    return { organizationOff, request: endpoint.requests.slice(before)[0], connect: (await connects())[0], record: readFileSync(file, 'utf8') };
  }

  it("a client secret gets a token from the customer's tenant, then -AccessToken -DelegatedOrganization signs in to that customer", async () => {
    const { organizationOff, request, connect, record } = await readAsPartner('secret', CONTOSO, { clientSecret: '${env:PARTNER_SECRET}', customerTenantId: CONTOSO_ID });
    // contoso's own state: SMTP AUTH on for the organization.
    expect(organizationOff).toBe(false);
    expect(request?.tenant).toBe(CONTOSO_ID);
    expect(request?.form.get('grant_type')).toBe('client_credentials');
    expect(request?.form.get('client_id')).toBe(APP_ID);
    expect(request?.form.get('client_secret')).toBe(SECRET);
    expect(request?.form.get('scope')).toBe('https://outlook.office365.com/.default');
    expect(Object.keys(connect!).sort()).toEqual(['AccessToken', 'CommandName', 'DelegatedOrganization', 'ShowBanner', 'SkipLoadingFormatData']);
    expect(connect!.DelegatedOrganization).toBe(CONTOSO);
    // The record holds the token's hash only; the secret never reached PowerShell.
    expect(record).not.toContain(SECRET);
  });

  it("a PEM certificate signs the assertion; without customerTenantId the token comes from the organization's domain, and the other tenant's state is served", async () => {
    const { organizationOff, request, connect } = await readAsPartner('certificate', FABRIKAM, { certificatePath: certs.pem });
    expect(organizationOff).toBe(true);
    expect(request?.tenant).toBe(FABRIKAM);
    expect(request?.form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(request?.form.get('client_assertion')?.split('.')).toHaveLength(3);
    expect(request?.form.has('client_secret')).toBe(false);
    expect(connect).toMatchObject({ DelegatedOrganization: FABRIKAM });
  });

  it('a customer with no simulated tenant fails the sign-in as Entra answers an unknown tenant, saying which one', async () => {
    const { file } = await callsFile('unknown');
    const failure = await openPartner(STRAY, { clientSecret: '${env:PARTNER_SECRET}' }, file).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SessionError);
    const message = (failure as Error).message;
    expect(message).toMatch(/^Sign-in to stray\.onmicrosoft\.com failed \(partner, app id 9d1e2f3a-[^)]*\): AADSTS90002: Tenant 'stray\.onmicrosoft\.com' not found/);
    expect(message).toContain(`partner app ${APP_ID} is consented in the customer tenant ${STRAY}`);
    expect(message).not.toContain(SECRET);
  });

  it("a token asked from another customer's tenant is refused by the customer it is used for", async () => {
    const { file } = await callsFile('mismatch');
    const failure = await openPartner(CONTOSO, { clientSecret: '${env:PARTNER_SECRET}', customerTenantId: FABRIKAM_ID }, file).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SessionError);
    expect((failure as Error).message).toContain(`The access token was issued by tenant '${FABRIKAM_ID}', not by the delegated organization '${CONTOSO}'`);
  });
});

describe.skipIf(!pwsh)('the stub: -DelegatedOrganization with -AccessToken, and one state per organization in one host', () => {
  let session: PwshSession;
  beforeAll(async () => {
    session = await startStubSession('', undefined, { env: { EXO_STUB_STATE_DIR: statesDir } });
  });
  afterAll(async () => {
    await session?.close();
  });

  const APP_TOKEN = unsignedJwt({ idtyp: 'app', roles: ['Exchange.ManageAsApp'], tid: CONTOSO_ID });
  // The Secure Application Model's classic shape: a partner admin's delegated token for the customer.
  const PARTNER_USER_TOKEN = unsignedJwt({ scp: 'Exchange.Manage', upn: 'admin@partner.onmicrosoft.com', tid: CONTOSO_ID });
  const connect = async (parameters: Record<string, unknown>) => {
    const result = await session.invoke('Connect-ExchangeOnline', { ShowBanner: false, ...parameters } as never, { secretParameters: ['AccessToken'] }).catch((error: unknown) => error);
    return result instanceof Error ? result.message : 'connected';
  };
  const organizationOff = async () => (await session.invoke('Get-TransportConfig')).objects[0]?.SmtpClientAuthenticationDisabled;

  it('refuses a call before the host signed in to an organization: it cannot tell which tenant to serve', async () => {
    await expect(session.invoke('Get-TransportConfig')).rejects.toThrow(/EXO_STUB_STATE_DIR per organization: sign in first/);
  });

  it.each([
    ['an app-only token with -DelegatedOrganization', { AccessToken: APP_TOKEN, DelegatedOrganization: CONTOSO }],
    ["a partner admin's delegated token with -DelegatedOrganization (no -UserPrincipalName needed)", { AccessToken: PARTNER_USER_TOKEN, DelegatedOrganization: CONTOSO }],
    ['-DelegatedOrganization by tenant id', { AccessToken: APP_TOKEN, DelegatedOrganization: CONTOSO_ID.toUpperCase() }],
  ])('%s connects', async (_name, parameters) => {
    // By tenant id the file is named by the id: a copy of the domain's file.
    if (String(parameters.DelegatedOrganization).includes('-')) {
      await writeFile(join(statesDir, `${CONTOSO_ID}.json`), await readFile(join(statesDir, `${CONTOSO}.json`)));
    }
    expect(await connect(parameters)).toBe('connected');
  });

  it.each([
    ['-Organization together with -DelegatedOrganization', { AccessToken: APP_TOKEN, Organization: CONTOSO, DelegatedOrganization: CONTOSO }, /not both Organization and DelegatedOrganization/],
    ['a delegated token with -Organization', { AccessToken: PARTNER_USER_TOKEN, Organization: CONTOSO }, /delegated token: provide the UserPrincipalName/],
    ['a name that is no tenant', { AccessToken: APP_TOKEN, DelegatedOrganization: '../contoso.onmicrosoft.com' }, /AADSTS90002: Tenant '\.\.\/contoso\.onmicrosoft\.com' not found/],
  ])('%s is refused', async (_name, parameters, refusal) => {
    expect(await connect(parameters)).toMatch(refusal);
  });

  it('serves whichever organization the host signed in to last, and keeps each tenant\'s writes in its own file', async () => {
    expect(await connect({ AccessToken: APP_TOKEN, Organization: CONTOSO })).toBe('connected');
    expect(await organizationOff()).toBe(false);
    await session.invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: true });
    expect(await organizationOff()).toBe(true);

    expect(await connect({ AccessToken: unsignedJwt({ idtyp: 'app', roles: ['Exchange.ManageAsApp'], tid: FABRIKAM_ID }), DelegatedOrganization: FABRIKAM })).toBe('connected');
    await session.invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: false });
    expect(await organizationOff()).toBe(false);
    await session.invoke('Disconnect-ExchangeOnline');

    // Switching tenants folded contoso's change into contoso's file; Disconnect folded fabrikam's.
    const onDisk = (organization: string) => (JSON.parse(readFileSync(join(statesDir, `${organization}.json`), 'utf8')) as TenantState).transportConfig.SmtpClientAuthenticationDisabled;
    expect(onDisk(CONTOSO)).toBe(true);
    expect(onDisk(FABRIKAM)).toBe(false);
  });
});
