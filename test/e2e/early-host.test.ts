/**
 * `apply --target exchange` (and plan, verify) starts PowerShell at launch, while it validates the
 * playbook and takes the lock (src/cli/early-start.ts, src/exchange/pwsh/early-host.ts). What a user must still see: a
 * playbook that fails validation, or a lock held by another run, ends with the same message and exit
 * code as before, no PowerShell is left running, and the tenant got no call at all (not even a
 * sign-in). A good run signs in on that host and ends in the same state. Real pwsh + the stub module
 * (Linux /proc for the process checks); run `npm run build` first.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireTenantLock } from '../../src/engine/lock.js';
import { findPwsh } from '../../src/exchange/find-pwsh.js';
import { powershellWith, untilNone } from '../exchange/pwsh/processes.js';
import { cli, ROOT, workspace, type Workspace } from './smtp-auth-support.js';

const pwsh = findPwsh();
if (!pwsh && process.env.CI === 'true') throw new Error('pwsh is required under CI: run `npm run ensure-pwsh`');

const TOKEN = `eyJ0eXAiOiJKV1QifQ.early-host-${process.pid}.c2ln`;
const cleanups: Workspace[] = [];
afterEach(() => cleanups.splice(0).forEach((w) => w.cleanup()));

/** The shipped disable playbook signing in with $EXO_TOKEN; the workspace folder is the process marker. */
function tokenWorkspace(): Workspace & { env: Record<string, string>; calls: string } {
  const w = workspace();
  cleanups.push(w);
  writeFileSync(w.playbook, readFileSync(w.playbook, 'utf8').replace(/auth: \{ method: certificate[^\n]*\}/, 'auth: { method: access-token, token: "${env:EXO_TOKEN}" }'));
  const calls = w.file('calls.jsonl');
  const env = {
    EXO_TOKEN: TOKEN,
    EXO_PLAYBOOK_PWSH: pwsh?.path ?? '',
    EXO_PLAYBOOK_MODULE_PATH: join(ROOT, 'test', 'fixtures', 'modules'),
    EXO_PLAYBOOK_STUB_STATE: w.state,
    EXO_PLAYBOOK_STUB_CALLS: calls,
    EXO_PLAYBOOK_LOCK_DIR: w.file('locks'),
  };
  return { ...w, env, calls };
}

const linux = process.platform === 'linux';

describe.skipIf(!pwsh || !linux)('apply starts PowerShell early, and only a valid, unlocked run uses it', () => {
  it('a playbook that fails validation: exit 1 with file:line:col, no PowerShell left, no call reached the tenant', async () => {
    const w = tokenWorkspace();
    writeFileSync(w.playbook, readFileSync(w.playbook, 'utf8').replace('uses: smtp-auth/allowlist', 'uses: smtp-auth/alowlist'));
    const before = readFileSync(w.state, 'utf8');
    const r = await cli(['apply', w.playbook, '--target', 'exchange', '--runs-dir', w.file('runs'), '--yes'], w.env, w.dir);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/smtp-auth-disable\.yaml:\d+:\d+: .*alowlist/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.stdout).toBe('');
    expect(await untilNone(() => powershellWith(w.dir))).toEqual([]);
    expect(existsSync(w.calls)).toBe(false);
    expect(readFileSync(w.state, 'utf8')).toBe(before);
    expect(existsSync(w.file('runs'))).toBe(false);
  });

  it('plan and verify too: a playbook that fails validation leaves no PowerShell and no call', async () => {
    const w = tokenWorkspace();
    writeFileSync(w.playbook, readFileSync(w.playbook, 'utf8').replace('uses: smtp-auth/allowlist', 'uses: smtp-auth/alowlist'));
    for (const command of ['plan', 'verify']) {
      const r = await cli([command, w.playbook], w.env, w.dir);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/smtp-auth-disable\.yaml:\d+:\d+: .*alowlist/);
      expect(await untilNone(() => powershellWith(w.dir))).toEqual([]);
    }
    expect(existsSync(w.calls)).toBe(false);
  });

  it('another run holds the lock: exit 4, no PowerShell left, only the sign-in and the tenant read reached the tenant', async () => {
    const w = tokenWorkspace();
    // Against Exchange the lock is keyed by the tenant read after sign-in (Get-OrganizationConfig's Name).
    const lock = acquireTenantLock({ organization: 'contoso.onmicrosoft.com', target: 'exchange', tenant: 'contoso.onmicrosoft.com', command: 'apply other', env: w.env });
    try {
      const before = readFileSync(w.state, 'utf8');
      const r = await cli(['apply', w.playbook, '--runs-dir', w.file('runs'), '--yes', '--accept-breakage', 'alice@contoso.com'], w.env, w.dir);
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toMatch(/another run holds the lock for contoso\.onmicrosoft\.com/);
      expect(await untilNone(() => powershellWith(w.dir))).toEqual([]);
      const cmdlets = readFileSync(w.calls, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { cmdlet: string }).cmdlet);
      expect(cmdlets.filter((c) => c !== 'Disconnect-ExchangeOnline')).toEqual(['Connect-ExchangeOnline', 'Get-OrganizationConfig']);
      expect(readFileSync(w.state, 'utf8')).toBe(before);
    } finally {
      lock.release();
    }
  });

  it('a valid run signs in once, on one PowerShell, writes, verifies compliant and leaves none behind', async () => {
    const w = tokenWorkspace();
    const r = await cli(['apply', w.playbook, '--target', 'exchange', '--runs-dir', w.file('runs'), '--yes', '--accept-breakage', 'alice@contoso.com'], w.env, w.dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/COMPLIANT/);
    const cmdlets = readFileSync(w.calls, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { cmdlet: string }).cmdlet);
    // One sign-in, before any read; one sign-out, last.
    expect(cmdlets.filter((c) => c === 'Connect-ExchangeOnline')).toHaveLength(1);
    expect(cmdlets[0]).toBe('Connect-ExchangeOnline');
    expect(cmdlets.at(-1)).toBe('Disconnect-ExchangeOnline');
    expect(w.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
    expect(await untilNone(() => powershellWith(w.dir))).toEqual([]);
  });
});
