/**
 * A fleet through real pwsh and the stub ExchangeOnlineManagement module: three stub tenants (one state
 * file per organization, EXO_STUB_STATE_DIR) signed in to with both shapes a fleet uses: the partner
 * app (GDAP / Secure Application Model: a token from the customer's tenant, then -AccessToken
 * -DelegatedOrganization), with a client secret and with a PEM certificate, and the multi-tenant app
 * with a certificate (-AppId -CertificateFilePath -Organization). @azure/identity asks a token endpoint
 * on 127.0.0.1. The CLI runs in-process so the test can point the sign-in at that endpoint.
 * Needs pwsh: under CI=true a missing pwsh fails the file.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setEngineDepsForTests } from '../../src/cli/engine-support.js';
import { defaultDeps } from '../../src/engine/deps.js';
import { credentialFor, type CredentialAuth } from '../../src/exchange/connect/credentials.js';
import { findPwsh } from '../../src/exchange/find-pwsh.js';
import type { TenantState } from '../../src/exchange/simulator/state.js';
import { openTarget } from '../../src/exchange/target.js';
import { makeCertificates } from '../support/certificates.js';
import { startTokenEndpoint, type TokenEndpoint } from '../support/token-endpoint.js';
import { smallTenant } from '../exchange/connect/tenant-state.js';
import { runCli } from '../support/report-workspace.js';

const pwsh = findPwsh();
if (!pwsh && process.env.CI === 'true') throw new Error('pwsh is required under CI: run `npm run ensure-pwsh`');

const CONTOSO = 'contoso.onmicrosoft.com';
const CONTOSO_ID = '0a1b2c3d-0000-4000-8000-00000000c0de';
const FABRIKAM = 'fabrikam.onmicrosoft.com';
const FABRIKAM_ID = '0a1b2c3d-0000-4000-8000-0000000fab00';
const NORTHWIND = 'northwind.onmicrosoft.com';
const APP_ID = '9d1e2f3a-0000-4000-8000-00000000a9b0';
const SECRET = `partner-secret-${process.pid}`;
const PFX_PASSWORD = `pfx-${process.pid}`;

let dir: string;
let endpoint: TokenEndpoint;

const PLAYBOOK = `apiVersion: exo-playbook/v1
name: fleet-pwsh
tenant:
  organization: "\${tenant.id}"
  auth: { method: azure-cli }
acceptNoUsageEvidence: { reason: the stub tenants have no usage source }
steps:
  - id: org
    uses: transport-config
    with: { smtpClientAuthenticationDisabled: true }
`;

// The partner app by default; fabrikam signs the assertion with a PEM; northwind is the multi-tenant
// app's app-only sign-in with a .pfx (module sign-in: -AppId -CertificateFilePath -Organization).
const INVENTORY = `apiVersion: exo-playbook/v1
kind: Inventory
defaults:
  auth: { method: partner, appId: ${APP_ID}, clientSecret: "\${env:PARTNER_SECRET}" }
tenants:
  - id: ${CONTOSO}
    tenantId: ${CONTOSO_ID}
    tags: [partner]
  - id: ${FABRIKAM}
    tags: [partner]
    auth: { method: partner, appId: ${APP_ID}, certificatePath: certs/exo.pem }
  - id: ${NORTHWIND}
    tags: [app-only]
    auth: { method: certificate, appId: ${APP_ID}, certificatePath: certs/exo.pfx, certificatePassword: "\${env:PFX_PASSWORD}" }
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'exo-fleet-pwsh-'));
  makeCertificates(join(dir, 'certs'), PFX_PASSWORD);
  mkdirSync(join(dir, 'tenants'));
  for (const organization of [CONTOSO, FABRIKAM, NORTHWIND]) writeFileSync(join(dir, 'tenants', `${organization}.json`), JSON.stringify(smallTenant(organization)));
  writeFileSync(join(dir, 'playbook.yaml'), PLAYBOOK);
  writeFileSync(join(dir, 'inventory.yaml'), INVENTORY);
  writeFileSync(join(dir, 'calls.jsonl'), '');
  endpoint = await startTokenEndpoint({ [CONTOSO]: CONTOSO_ID, [CONTOSO_ID]: CONTOSO_ID, [FABRIKAM]: FABRIKAM_ID, [FABRIKAM_ID]: FABRIKAM_ID });
  const real = await defaultDeps();
  setEngineDepsForTests({
    ...real,
    openTarget: (target, tenant, options) =>
      openTarget(target, tenant, { ...options, cmdlets: [...options.cmdlets], connector: { credentialFor: (a: CredentialAuth, context) => credentialFor(a, context, endpoint.credentialOptions) } }),
  });
});

afterAll(async () => {
  setEngineDepsForTests(undefined);
  await endpoint?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[]) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    EXO_PLAYBOOK_MODULE_PATH: resolve('test/fixtures/modules'),
    EXO_STUB_STATE_DIR: join(dir, 'tenants'),
    EXO_PLAYBOOK_STUB_CALLS: join(dir, 'calls.jsonl'),
    EXO_PLAYBOOK_LOCK_DIR: join(dir, 'locks'),
    PARTNER_SECRET: SECRET,
    PFX_PASSWORD,
  };
  return runCli(args, dir, env);
}

const connects = () =>
  readFileSync(join(dir, 'calls.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { cmdlet: string; parameters: Record<string, unknown> })
    .filter((c) => c.cmdlet === 'Connect-ExchangeOnline')
    .map((c) => c.parameters);

const organizationOff = (organization: string) => (JSON.parse(readFileSync(join(dir, 'tenants', `${organization}.json`), 'utf8')) as TenantState).transportConfig.SmtpClientAuthenticationDisabled;

describe.skipIf(!pwsh)('a fleet through real pwsh: three stub tenants, both partner sign-in shapes', () => {
  it('plans every tenant, each signed in its own way, then applies and verifies them', async () => {
    const plan = await cli(['fleet', 'plan', 'playbook.yaml', '--inventory', 'inventory.yaml', '--parallel', '3']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(2);
    for (const organization of [CONTOSO, FABRIKAM, NORTHWIND]) expect(plan.stdout).toMatch(new RegExp(`${organization}\\s+changes\\s+2\\s+1 change\\(s\\)`));
    expect(plan.stdout).toContain('[REAL]');

    // Partner: -AccessToken -DelegatedOrganization <tenant>; the multi-tenant app: -AppId -CertificateFilePath -Organization <tenant>.
    const calls = connects();
    const byTenant = (organization: string) => calls.find((c) => c.DelegatedOrganization === organization || c.Organization === organization);
    expect(Object.keys(byTenant(CONTOSO)!).sort()).toEqual(['AccessToken', 'CommandName', 'DelegatedOrganization', 'ShowBanner', 'SkipLoadingFormatData']);
    expect(byTenant(FABRIKAM)).toMatchObject({ DelegatedOrganization: FABRIKAM });
    expect(byTenant(NORTHWIND)).toMatchObject({ AppId: APP_ID, Organization: NORTHWIND, CertificateFilePath: join(dir, 'certs', 'exo.pfx') });
    expect(byTenant(NORTHWIND)).not.toHaveProperty('DelegatedOrganization');
    // contoso's token came from its tenant id (the inventory's tenantId), fabrikam's from its domain; a secret for one, an assertion for the other.
    const contosoRequest = endpoint.requests.find((r) => r.tenant === CONTOSO_ID);
    const fabrikamRequest = endpoint.requests.find((r) => r.tenant === FABRIKAM);
    expect(contosoRequest?.form.get('client_secret')).toBe(SECRET);
    expect(contosoRequest?.form.get('scope')).toBe('https://outlook.office365.com/.default');
    expect(fabrikamRequest?.form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(readFileSync(join(dir, 'calls.jsonl'), 'utf8')).not.toContain(SECRET);

    const apply = await cli(['fleet', 'apply', 'playbook.yaml', '--inventory', 'inventory.yaml', '--parallel', '3', '--yes']);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    for (const organization of [CONTOSO, FABRIKAM, NORTHWIND]) {
      expect(apply.stdout).toMatch(new RegExp(`${organization}\\s+ok\\s+0\\s+1 applied, 0 failed, 0 skipped; compliant`));
      expect(organizationOff(organization)).toBe(true);
    }
    const verify = await cli(['fleet', 'verify', 'playbook.yaml', '--inventory', 'inventory.yaml', '--tenants', 'partner', '--format', 'json']);
    expect(verify.code, verify.stderr).toBe(0);
    expect((JSON.parse(verify.stdout) as { tenants: { id: string }[] }).tenants.map((t) => t.id)).toEqual([CONTOSO, FABRIKAM]);
  });
});
