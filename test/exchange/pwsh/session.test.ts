/**
 * PwshSession against real pwsh and the stub module: the protocol survives stray console output, the
 * host enforces the allowlist itself, and a call that times out, is cancelled, or whose pwsh dies
 * fails with a SessionError that says what happened, while the next call gets a fresh, working host.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SessionError } from '../../../src/errors.js';
import { resolvePwshCommand } from '../../../src/exchange/find-pwsh.js';
import { PwshSession } from '../../../src/exchange/pwsh/session.js';
import { CmdletFailure, type PsValue } from '../../../src/exchange/session.js';
import { generateTenant } from '../../../src/exchange/simulator/generate.js';
import type { TenantState } from '../../../src/exchange/simulator/state.js';
import { makeCertificates } from '../../support/certificates.js';
import { utcDateTimeValue } from '../../../src/exchange/utc-date-time.js';
import { fixtureTenant, noPwsh, pwshPath, startStubSession, stubModulePath, tempDir, writeState } from './pwsh-for-tests.js';
import { SharedStubHost, type Lease } from './shared-host.js';

// Tests that need a host but not one of their own lease this one, each over its own state file and
// call record (shared-host.ts says how nothing leaks): a pwsh start costs 1-2 s of CPU. A test that
// kills its host (timeout, cancel, SIGKILL, crash) gets the fresh one PwshSession starts, or leaves
// it dead and the next lease starts a new session. The tests that watch a host start or end start
// their own.
const host = new SharedStubHost();
const BANNER = 'An error has occurred that was not properly handled. Additional information is shown below. The PowerShell process will exit.';
afterAll(() => host.close());

interface Setup {
  session: Lease | PwshSession;
  dir: string;
  stateFile: string;
  callsFile: string;
  state: TenantState;
  stray: string[];
  stderr: string[];
  restarts: number;
}

async function setup(changes?: (state: TenantState) => void): Promise<Setup> {
  const dir = tempDir('pwsh');
  const state = fixtureTenant(changes);
  const stateFile = writeState(dir, state);
  const callsFile = join(dir, 'calls.jsonl');
  const stray: string[] = [];
  const stderr: string[] = [];
  const result = { dir, stateFile, callsFile, state, stray, stderr, restarts: 0 } as Setup;
  result.session = await host.lease(stateFile, {
    callsFile,
    onStray: (line) => stray.push(line),
    onStderr: (line) => stderr.push(line),
    onRestart: () => {
      result.restarts += 1;
    },
  });
  opened.push(result.session);
  return result;
}

function calls(file: string): { cmdlet: string; parameters: Record<string, PsValue> }[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { cmdlet: string; parameters: Record<string, PsValue> });
}

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e as Error,
  );
}

const opened: (Lease | PwshSession)[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

describe.skipIf(noPwsh)('PwshSession', () => {
  // One tenant (state file, call record) for the tests that neither kill their host nor need faults
  // in the state file; each of them leases the shared host over it.
  let sharedSetup: Setup | undefined;
  const shared = async (): Promise<Setup> => {
    if (!sharedSetup) return (sharedSetup = await setup());
    const tenant = sharedSetup;
    tenant.session = await host.lease(tenant.stateFile, { callsFile: tenant.callsFile, onStray: (line) => tenant.stray.push(line), onStderr: (line) => tenant.stderr.push(line) });
    opened.push(tenant.session);
    return tenant;
  };

  it('ignores console output that lacks the token (the module banner) and reports it as stray', async () => {
    const { session, state, stray } = await shared();
    const result = await session.invoke('Connect-ExchangeOnline', { AccessToken: 'x', Organization: state.organization.Name });
    expect(result).toEqual({ objects: [], warnings: [], errors: [] });
    expect(stray.join('\n')).toContain('REST API backed Exchange Online cmdlets (stub)');
    expect(session.hostInfo).toMatchObject({ psVersion: expect.stringMatching(/^7\./), moduleVersion: '3.9.0' });
  });

  it('refuses a cmdlet that is not on the allowlist in the host itself, and nothing runs', async () => {
    const { session, dir } = await shared();
    const canary = join(dir, 'canary');
    const failure = await errorOf(session.invoke('Invoke-Expression', { Command: `[IO.File]::WriteAllText('${canary}', 'x')` }));
    expect(failure).toBeInstanceOf(CmdletFailure);
    expect((failure as CmdletFailure).record).toMatchObject({ fullyQualifiedErrorId: 'CmdletNotAllowed' });
    expect(failure.message).toContain("'Invoke-Expression' is not on exo-playbook's allowlist");
    expect(existsSync(canary)).toBe(false);
  });

  it('binds from data: -Confirm:$false added to Set-*, {$dateTimeUtc} into a Kind Utc [DateTime], a SecureString from {$secureString}', async () => {
    const { session, state, callsFile, dir } = await shared();
    // The stub opens the certificate as the module does: a real .pfx, protected by the password sent.
    const { pfx } = makeCertificates(join(dir, 'certs'), 'pa$$ w0rd');
    const earlier = existsSync(callsFile) ? calls(callsFile).length : 0;
    await session.invoke('Set-CASMailbox', { Identity: state.mailboxes[0]!.Name, SmtpClientAuthenticationDisabled: null });
    await session.invoke('Start-HistoricalSearch', { ReportTitle: 't', ReportType: 'MessageTrace', StartDate: utcDateTimeValue('2026-11-19T10:00:00Z'), EndDate: utcDateTimeValue('2026-11-20T09:30:00.250Z') });
    await session.invoke(
      'Connect-ExchangeOnline',
      { AppId: 'app', CertificateFilePath: pfx, CertificatePassword: { $secureString: 'pa$$ w0rd' }, Organization: state.organization.Name, ShowBanner: false },
      { secretParameters: ['CertificatePassword'] },
    );
    const [set, start, connect] = calls(callsFile).slice(earlier);
    expect(set!.parameters).toEqual({ Identity: state.mailboxes[0]!.Name, SmtpClientAuthenticationDisabled: null, Confirm: false });
    expect(start!.parameters).toMatchObject({ StartDate: { dateTime: '2026-11-19T10:00:00.000Z', kind: 'Utc' }, EndDate: { dateTime: '2026-11-20T09:30:00.250Z', kind: 'Utc' } });
    // The stub records a SecureString only as the SHA-256 of its text: the password arrived intact.
    expect(connect!.parameters.CertificatePassword).toEqual({ secureStringSha256: createHash('sha256').update('pa$$ w0rd').digest('hex') });
    expect(connect!.parameters.ShowBanner).toBe(false);
  });

  it('fails a call that exceeds its timeout, names it, and the next call runs on a fresh host', async () => {
    // The call would take ten minutes: only the timeout can end it, however slow the machine.
    const { session, stateFile, state } = await setup((s) => (s.faults = { latencyMs: 600_000 }));
    const firstPid = session.pid;
    const error = await errorOf(session.invoke('Get-TransportConfig', {}, { timeoutMs: 400 }));
    expect(error).toBeInstanceOf(SessionError);
    expect(error.message).toMatch(/Get-TransportConfig timed out after 400 ms/);
    writeFileSync(stateFile, JSON.stringify({ ...state, faults: {} }));
    const next = await session.invoke('Get-TransportConfig');
    expect(next.objects).toHaveLength(1);
    expect(session.pid).not.toBe(firstPid);
    expect(session.restarts).toBe(1);
  });

  it('cancels a call with an AbortSignal', async () => {
    const { session } = await setup((s) => (s.faults = { latencyMs: 600_000 }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const error = await errorOf(session.invoke('Get-OrganizationConfig', {}, { signal: controller.signal }));
    expect(error).toBeInstanceOf(SessionError);
    expect(error.message).toContain('Get-OrganizationConfig was cancelled');
  });

  it('reports a pwsh killed mid-call with the cmdlet and the signal, restarts it, and calls onRestart', async () => {
    // The call would take ten minutes: the kill always comes in the middle of it.
    const setupResult = await setup((s) => (s.faults = { latencyMs: 600_000 }));
    const { session, stateFile, state } = setupResult;
    const pending = session.invoke('Get-User', { ResultSize: 'Unlimited' });
    await new Promise((resolve) => setTimeout(resolve, 400));
    process.kill(session.pid!, 'SIGKILL');
    writeFileSync(stateFile, JSON.stringify({ ...state, faults: {} }));
    const error = await errorOf(pending);
    expect(error).toBeInstanceOf(SessionError);
    expect(error.message).toContain('PowerShell exited during Get-User (killed by SIGKILL)');
    const next = await session.invoke('Get-User', { ResultSize: 2 });
    expect(next.objects).toHaveLength(2);
    expect(setupResult.restarts).toBe(1);
  });

  it('reports a module that exits the process (crashOnCall) with the exit code and its last stderr line', async () => {
    // The stub counts calls per process, so the fresh host's first call does not crash again.
    const { session } = await setup((s) => (s.faults = { crashOnCall: 2 }));
    await session.invoke('Get-OrganizationConfig');
    const error = await errorOf(session.invoke('Get-TransportConfig'));
    expect(error.message).toContain('PowerShell exited during Get-TransportConfig (exit code 134)');
    expect(error.message).toContain('crashing on call 2 (Get-TransportConfig)');
    expect((await session.invoke('Get-TransportConfig')).objects).toHaveLength(1);
  });

  it('disconnects on close when connected, and the host process ends', async () => {
    // A host of its own: this test ends it.
    const dir = tempDir('pwsh');
    const state = fixtureTenant();
    const callsFile = join(dir, 'calls.jsonl');
    const session = await startStubSession(writeState(dir, state), callsFile);
    opened.push(session);
    await session.invoke('Connect-ExchangeOnline', { AccessToken: 't', Organization: state.organization.Name, ShowBanner: false });
    const pid = session.pid!;
    await session.close();
    await session.close();
    expect(calls(callsFile).map((c) => c.cmdlet)).toEqual(['Connect-ExchangeOnline', 'Disconnect-ExchangeOnline']);
    expect(() => process.kill(pid, 0)).toThrow();
    await expect(session.invoke('Get-TransportConfig')).rejects.toThrow(/closed/);
  });

  it('a PowerShell that ends on its own while starting (before any sign-in) is started once more, and says so', async () => {
    // A launcher that prints PowerShell's crash banner and exits 0 on its first start (as one host did
    // once in a loaded test run), then runs the real pwsh.
    const dir = tempDir('flaky-start');
    const starts = join(dir, 'starts');
    const real = resolvePwshCommand(pwshPath!);
    const launcher = join(dir, 'pwsh-once-broken');
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    writeFileSync(
      launcher,
      `#!/bin/sh\necho start >> ${quote(starts)}\nif [ "$(wc -l < ${quote(starts)})" -eq 1 ]; then echo; echo '${BANNER}'; exit 0; fi\nexec ${[real.command, ...real.args].map(quote).join(' ')} "$@"\n`,
      { mode: 0o755 },
    );
    const tenant = fixtureTenant();
    const stateFile = writeState(dir, tenant);
    const stderr: string[] = [];
    const session = await startStubSession(stateFile, undefined, { command: { command: launcher, args: [] }, onStderr: (line) => stderr.push(line) });
    opened.push(session);
    expect(readFileSync(starts, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
    expect(stderr.join('\n')).toMatch(/exited while starting \(exit code 0\); it printed:\n {2}An error has occurred that was not properly handled[^\n]*; starting it once more/);
    await session.invoke('Connect-ExchangeOnline', { AccessToken: 't', Organization: tenant.organization.Name, ShowBanner: false });
    expect((await session.invoke('Get-TransportConfig')).objects).toHaveLength(1);

    // Twice in a row is reported as it is, with what it printed: never a third start.
    const always = join(dir, 'pwsh-broken');
    writeFileSync(always, `#!/bin/sh\necho start >> ${quote(join(dir, 'broken-starts'))}\necho '${BANNER}'\nexit 0\n`, { mode: 0o755 });
    const error = await errorOf(PwshSession.start({ pwshPath: pwshPath!, command: { command: always, args: [] }, modulePaths: [stubModulePath] }));
    expect(error).toBeInstanceOf(SessionError);
    expect(error.message).toMatch(/exited while starting \(exit code 0\); it printed:\n {2}An error has occurred/);
    expect(readFileSync(join(dir, 'broken-starts'), 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('fails to start with a message naming the module when it cannot be imported', async () => {
    const error = await errorOf(PwshSession.start({ pwshPath: pwshPath!, moduleName: 'NoSuchModule.ExoPlaybook' }));
    expect(error).toBeInstanceOf(SessionError);
    expect(error.message).toContain("could not import the module 'NoSuchModule.ExoPlaybook'");
  });

  it('streams 3,000 mailboxes in order through a slow consumer (backpressure)', async () => {
    const dir = tempDir('pwsh');
    const state = generateTenant({ mailboxes: 3000, seed: 3, clock: '2026-11-20T10:00:00.000Z' });
    const session = await host.lease(writeState(dir, state));
    opened.push(session);
    const names: string[] = [];
    for await (const o of session.stream('Get-EXOCASMailbox', { ResultSize: 'Unlimited', Properties: ['SmtpClientAuthenticationDisabled'] })) {
      names.push(String(o.Name));
      if (names.length % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(names).toEqual(state.mailboxes.map((m) => m.Name));
  });

  it('streams a bulk read object by object', async () => {
    const { session, state } = await shared();
    const names: string[] = [];
    for await (const o of session.stream('Get-CASMailbox', { ResultSize: 'Unlimited' })) names.push(String(o.Name));
    expect(names).toEqual(state.mailboxes.map((m) => m.Name));
    // An early break leaves the session usable.
    for await (const o of session.stream('Get-CASMailbox', { ResultSize: 'Unlimited' })) {
      void o;
      break;
    }
    expect((await session.invoke('Get-TransportConfig')).objects).toHaveLength(1);
  });
});
