/**
 * No PowerShell outlives the session or the CLI that started it: after close(), a call timeout, an
 * AbortSignal cancel, and `kill -9` of an `exo-playbook` process in the middle of a call, no pwsh
 * (launcher) or `dotnet pwsh.dll` process carrying the test's marker is left. And PowerShell gets an
 * allowlisted environment: fake secrets in the CLI's environment are in no /proc/<pid>/environ or
 * cmdline of any process the run starts. Real pwsh + the stub module; Linux (/proc).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionError } from '../../../src/errors.js';
import { resolvePwshCommand } from '../../../src/exchange/find-pwsh.js';
import type { PwshSession, PwshSessionOptions } from '../../../src/exchange/pwsh/session.js';
import { CLI, workspace, type Workspace } from '../../e2e/smtp-auth-support.js';
import { descendantsOf, isPowerShell, powershellWith, untilNone, until, type ProcessInfo } from './processes.js';
import { fixtureTenant, noPwsh, pwshPath, startStubSession, stubModulePath, tempDir, writeState } from './pwsh-for-tests.js';

const opened: PwshSession[] = [];
const workspaces: Workspace[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  workspaces.splice(0).forEach((w) => w.cleanup());
});

/** A stub session whose every call takes `latencyMs`; the state file's folder is the marker. */
async function slowSession(latencyMs: number, extra: PwshSessionOptions = {}): Promise<{ session: PwshSession; marker: string }> {
  const marker = tempDir('orphan');
  const session = await startStubSession(writeState(marker, fixtureTenant((s) => (s.faults = { latencyMs }))), undefined, extra);
  opened.push(session);
  expect(powershellWith(marker).length).toBeGreaterThan(0);
  return { session, marker };
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => new Error('expected the call to fail'),
    (error: unknown) => error as Error,
  );
}

const linux = process.platform === 'linux';
const launcher = pwshPath ? resolvePwshCommand(pwshPath) : undefined;

describe.skipIf(noPwsh || !linux)('no PowerShell outlives its session', () => {
  it('runs one process per host: `dotnet pwsh.dll` itself when pwsh is the .NET tool launcher', async () => {
    const { session, marker } = await slowSession(0);
    const processes = powershellWith(marker);
    expect(processes.map((p) => p.pid)).toEqual([session.pid]);
    if (launcher?.toolDll) expect(processes[0]!.cmdline.slice(0, 2)).toEqual([launcher.command, launcher.toolDll]);
  });

  it('leaves none after close()', async () => {
    const { session, marker } = await slowSession(0);
    await session.invoke('Get-TransportConfig');
    await session.close();
    expect(await untilNone(() => powershellWith(marker))).toEqual([]);
  });

  it('leaves none after a call timeout', async () => {
    const { session, marker } = await slowSession(60_000);
    const error = await failureOf(session.invoke('Get-TransportConfig', {}, { timeoutMs: 500 }));
    expect(error).toBeInstanceOf(SessionError);
    expect(error.message).toContain('timed out');
    expect(await untilNone(() => powershellWith(marker))).toEqual([]);
  });

  it('leaves none after an AbortSignal cancel', async () => {
    const { session, marker } = await slowSession(60_000);
    const controller = new AbortController();
    const pending = failureOf(session.invoke('Get-OrganizationConfig', {}, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 300);
    expect((await pending).message).toContain('was cancelled');
    expect(await untilNone(() => powershellWith(marker))).toEqual([]);
  });

  it.skipIf(!launcher?.toolDll)('leaves none after a timeout even when run through the launcher (its child included)', async () => {
    const { session, marker } = await slowSession(60_000, { command: { command: pwshPath!, args: [] } });
    // The launcher and the dotnet pwsh.dll it started.
    expect(powershellWith(marker).length).toBe(2);
    await failureOf(session.invoke('Get-TransportConfig', {}, { timeoutMs: 500 }));
    expect(await untilNone(() => powershellWith(marker))).toEqual([]);
  });
});

/** Recognisable fake secrets under names a CLI environment really has. */
const SECRETS = {
  AZURE_CLIENT_SECRET: 'fake-azure-client-secret-Qx7~zz',
  EXO_CERT_PASSWORD: 'fake-cert-password-9f8e7d',
  EXO_WEBHOOK: 'https://contoso.webhook.office.com/webhookb2/fake-webhook-secret-5c4b',
  MY_TOKEN_XYZ: 'fake-my-token-xyz-a1b2c3',
};
const TOKEN = 'eyJ0eXAiOiJKV1QifQ.fake-run-token-d4e5f6.c2ln';

/**
 * `exo-playbook verify --target exchange` on the stub, every stub call taking a minute, the shipped
 * playbook signing in with $EXO_TOKEN; returns once a call is in flight (the stub recorded it).
 */
async function cliMidCall() {
  const w = workspace();
  workspaces.push(w);
  writeFileSync(w.state, JSON.stringify({ ...JSON.parse(readFileSync(w.state, 'utf8')), faults: { latencyMs: 60_000 } }));
  writeFileSync(
    w.playbook,
    readFileSync(w.playbook, 'utf8').replace(/auth: \{ method: certificate[^\n]*\}/, 'auth: { method: access-token, token: "${env:EXO_TOKEN}" }'),
  );
  const calls = w.file('calls.jsonl');
  const child = execa('node', [CLI, 'verify', w.playbook, '--target', 'exchange'], {
    cwd: w.dir,
    reject: false,
    env: {
      ...SECRETS,
      EXO_TOKEN: TOKEN,
      NO_COLOR: '1',
      EXO_PLAYBOOK_PWSH: pwshPath!,
      EXO_PLAYBOOK_MODULE_PATH: stubModulePath,
      EXO_PLAYBOOK_STUB_STATE: w.state,
      EXO_PLAYBOOK_STUB_CALLS: calls,
    },
  });
  void child.catch(() => undefined);
  await until(() => {
    try {
      return readFileSync(calls, 'utf8').includes('\n');
    } catch {
      return false;
    }
  }, 'the first stub call', 90_000);
  return { child, marker: w.dir, pid: child.pid! };
}

describe.skipIf(noPwsh || !linux)('the CLI and its PowerShell', () => {
  it('kill -9 of exo-playbook in the middle of a call leaves no PowerShell behind', async () => {
    const { child, marker, pid } = await cliMidCall();
    const started = descendantsOf(pid).filter(isPowerShell);
    expect(started.length).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    await child;
    const left = await untilNone(() => [...powershellWith(marker), ...started.filter((p) => stillRunning(p))]);
    expect(left.map((p) => p.cmdline.join(' '))).toEqual([]);
  });

  it('gives PowerShell an allowlisted environment: no secret of the CLI is in any environ or cmdline', async () => {
    const { child, pid, marker } = await cliMidCall();
    try {
      const started = descendantsOf(pid);
      expect(started.filter(isPowerShell).length).toBeGreaterThan(0);
      for (const p of started) {
        const text = `${p.environ}\n${p.cmdline.join(' ')}`;
        for (const [name, value] of Object.entries({ ...SECRETS, EXO_TOKEN: TOKEN })) {
          expect(text, `${name} in process ${p.pid} (${p.cmdline.join(' ')})`).not.toContain(value);
          expect(p.environ.split('\0').some((entry) => entry.startsWith(`${name}=`)), `${name}= in ${p.pid}`).toBe(false);
        }
      }
      // What it does get: the basics, and the stub's own knob (the test's marker).
      const environ = started.find(isPowerShell)!.environ.split('\0');
      expect(environ).toContain(`PATH=${process.env.PATH}`);
      expect(environ.some((e) => e.startsWith('EXO_PLAYBOOK_STUB_STATE=') && e.includes(marker))).toBe(true);
    } finally {
      process.kill(pid, 'SIGKILL');
      await child;
    }
  });
});

function stillRunning(p: ProcessInfo): boolean {
  try {
    const cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'latin1');
    const state = readFileSync(`/proc/${p.pid}/stat`, 'latin1');
    return cmdline === p.cmdline.join('\0') + '\0' && !/\) [ZX] /.test(state);
  } catch {
    return false;
  }
}

