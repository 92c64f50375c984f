/**
 * The `exchange` target through real PowerShell and the stub ExchangeOnlineManagement module
 * (EXO_PLAYBOOK_MODULE_PATH), signing in with an access token from an environment variable.
 * Needs pwsh (src/exchange/find-pwsh.ts): under CI=true a missing pwsh fails the test.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionError } from '../../../src/errors.js';
import { ConnectedSession } from '../../../src/exchange/connect/connected-session.js';
import { findPwsh } from '../../../src/exchange/find-pwsh.js';
import type { PwshSession } from '../../../src/exchange/pwsh/session.js';
import type { TenantState } from '../../../src/exchange/simulator/state.js';
import { writeStateFile } from '../../../src/exchange/simulator/state-file.js';
import { openTarget } from '../../../src/exchange/target.js';
import { makeCertificates } from '../../support/certificates.js';
import { smallTenant } from './tenant-state.js';

const ORG = 'contoso.onmicrosoft.com';
const TOKEN = `eyJ0eXAiOiJKV1QifQ.stub-access-token-${process.pid}-${Date.now()}.c2ln`;
const MODULES = resolve('test/fixtures/modules');
const pwsh = findPwsh();
if (!pwsh) {
  if (process.env.CI === 'true') throw new Error('pwsh is required under CI: run `npm run ensure-pwsh`');
  console.warn('SKIPPING exchange-target tests: PowerShell not found (run `npm run ensure-pwsh`)');
}

interface StubCall {
  cmdlet: string;
  parameters: Record<string, unknown>;
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exo-exchange-target-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function setUp(name: string, faults: TenantState['faults'] = {}) {
  const stateFile = join(dir, `${name}.json`);
  const callsFile = join(dir, `${name}.calls.jsonl`);
  await writeStateFile(stateFile, smallTenant(ORG, faults));
  await writeFile(callsFile, '');
  const env = {
    ...process.env,
    EXO_PLAYBOOK_MODULE_PATH: MODULES,
    EXO_PLAYBOOK_STUB_STATE: stateFile,
    EXO_PLAYBOOK_STUB_CALLS: callsFile,
    EXO_TOKEN: TOKEN,
  };
  const calls = async (): Promise<StubCall[]> =>
    (await readFile(callsFile, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as StubCall);
  return { env, calls };
}

const tenant = { organization: ORG, auth: { method: 'access-token' as const, token: '${env:EXO_TOKEN}' } };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Every process's argv on this machine that contains the text (Linux /proc). */
async function processesWithArgv(text: string): Promise<string[]> {
  const hits: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (argv.includes(text)) hits.push(`${entry}: ${argv.split('\0').join(' ')}`);
  }
  return hits;
}

describe.skipIf(!pwsh)('--target exchange with the stub module', () => {
  it('signs in with the token over stdin, runs Get-TransportConfig, and disconnects on close', async () => {
    const { env, calls } = await setUp('connects');
    const session = await openTarget('exchange', tenant, { env, baseDir: dir, cmdlets: ['Get-TransportConfig', 'Set-TransportConfig'] });
    try {
      expect(session.kind).toBe('pwsh');
      const result = await session.invoke('Get-TransportConfig');
      expect(result.objects[0]?.SmtpClientAuthenticationDisabled).toBe(false);

      const pid = ((session as ConnectedSession).inner as PwshSession).pid;
      expect(pid).toBeGreaterThan(0);
      expect(await readFile(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(TOKEN);
      expect(await processesWithArgv(TOKEN)).toEqual([]);
      // The variable the token is read from is withheld from pwsh's environment too.
      const environ = await readFile(`/proc/${pid}/environ`, 'utf8');
      expect(environ).not.toContain(TOKEN);
      expect(environ.split('\0').some((entry) => entry.startsWith('EXO_TOKEN='))).toBe(false);
      expect(environ).toContain('EXO_PLAYBOOK_STUB_STATE=');
    } finally {
      await session.close();
    }
    const recorded = await calls();
    expect(recorded.map((c) => c.cmdlet)).toEqual(['Connect-ExchangeOnline', 'Get-TransportConfig', 'Disconnect-ExchangeOnline']);
    expect(recorded[0]?.parameters).toEqual({
      Organization: ORG,
      ShowBanner: false,
      SkipLoadingFormatData: true,
      CommandName: ['Get-TransportConfig', 'Set-TransportConfig'],
      AccessToken: { sha256: sha256(TOKEN) },
    });
    expect(recorded[2]?.parameters).toMatchObject({ Confirm: false });
  });

  it('after the host crashes mid-call, the next call runs on a fresh host that signed in first', async () => {
    // Stub calls are counted per process: 1 Connect, 2 Get, 3 Get crashes the host.
    const { env, calls } = await setUp('crash', { crashOnCall: 3 });
    const session = await openTarget('exchange', tenant, { env, baseDir: dir, cmdlets: ['Get-TransportConfig'] });
    try {
      await session.invoke('Get-TransportConfig');
      await expect(session.invoke('Get-TransportConfig')).rejects.toBeInstanceOf(SessionError);
      const result = await session.invoke('Get-TransportConfig');
      expect(result.objects[0]?.SmtpClientAuthenticationDisabled).toBe(false);
    } finally {
      await session.close();
    }
    const names = (await calls()).map((c) => c.cmdlet);
    expect(names.slice(0, 5)).toEqual([
      'Connect-ExchangeOnline',
      'Get-TransportConfig',
      'Get-TransportConfig', // crashed
      'Connect-ExchangeOnline', // the fresh host signs in again
      'Get-TransportConfig',
    ]);
    expect(names.filter((n) => n === 'Connect-ExchangeOnline')).toHaveLength(2);
  });

  it('certificate module sign-in: the password arrives as a SecureString built from stdin data, never in argv', async () => {
    const { env, calls } = await setUp('certificate');
    const password = `pfx-password-${process.pid}`;
    // The stub opens the file as the module does: it must be a real .pfx that the password opens.
    makeCertificates(join(dir, 'certs'), password, join(dir, 'certs/exo.pfx'));
    const session = await openTarget(
      'exchange',
      {
        organization: ORG,
        auth: {
          method: 'certificate',
          appId: 'app-0042',
          certificatePath: 'certs/exo.pfx',
          certificatePassword: '${env:EXO_CERT_PASSWORD}',
          signIn: 'module',
        },
      },
      { env: { ...env, EXO_CERT_PASSWORD: password }, baseDir: dir, cmdlets: ['Get-TransportConfig'] },
    );
    try {
      expect(await processesWithArgv(password)).toEqual([]);
    } finally {
      await session.close();
    }
    const [connect] = await calls();
    expect(connect?.parameters).toMatchObject({
      AppId: 'app-0042',
      CertificateFilePath: join(dir, 'certs/exo.pfx'),
      CertificatePassword: { secureStringSha256: sha256(password) },
      Organization: ORG,
    });
  });

  it('a wrong organization fails the sign-in with the same readable SessionError as the simulator', async () => {
    const { env } = await setUp('wrong-org');
    const failure = await openTarget('exchange', { ...tenant, organization: 'fabrikam.onmicrosoft.com' }, {
      env,
      baseDir: dir,
      cmdlets: [],
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SessionError);
    expect((failure as Error).message).toContain('Sign-in to fabrikam.onmicrosoft.com failed (access-token, supplied token)');
    expect((failure as Error).message).toContain(`the signed-in tenant is '${ORG}'`);
    expect((failure as Error).message).not.toContain(TOKEN);
  });
});
