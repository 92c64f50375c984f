/**
 * Service errors as Exchange Online gives them (issue 9 part 2), through the built CLI, on the
 * simulator and on real pwsh + the stub module: each shape of non-terminating error on a write
 * (journaled failed, exit 3), on a read (exit 1 with the service's text, no stack trace), and
 * throttling in the middle of the bulk mailbox read (retried as a fresh, complete read).
 * Needs pwsh for the second backend (src/exchange/find-pwsh.ts): under CI=true a missing pwsh fails.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findPwsh } from '../../src/exchange/find-pwsh.js';
import type { SimFaults, TenantState } from '../../src/exchange/simulator/state.js';
import { cli, driftedTenant, ROOT, workspace, type Workspace } from './smtp-auth-support.js';

const pwsh = findPwsh();
if (!pwsh && process.env.CI === 'true') throw new Error('pwsh is required under CI: run `npm run ensure-pwsh`');

const TOKEN = `eyJ0eXAiOiJKV1QifQ.service-errors-${process.pid}.c2ln`;
const cleanups: Workspace[] = [];
afterEach(() => cleanups.splice(0).forEach((w) => w.cleanup()));

interface Backend {
  name: string;
  /** CLI arguments and environment that run the workspace's playbook against this backend. */
  target(w: Workspace): { args: string[]; env: Record<string, string> };
  /** The file each call is recorded in (cmdlet per line). */
  callLog(w: Workspace): string;
}

const simulator: Backend = {
  name: 'simulator',
  target: (w) => ({ args: ['--target', `sim:${w.state}`], env: { EXO_PLAYBOOK_SIM_CALL_LOG: w.file('calls.jsonl') } }),
  callLog: (w) => w.file('calls.jsonl'),
};
const pwshStub: Backend = {
  name: 'pwsh + stub module',
  target: (w) => ({
    args: ['--target', 'exchange'],
    env: {
      EXO_TOKEN: TOKEN,
      EXO_PLAYBOOK_PWSH: pwsh?.path ?? 'pwsh',
      EXO_PLAYBOOK_MODULE_PATH: join(ROOT, 'test', 'fixtures', 'modules'),
      EXO_PLAYBOOK_STUB_STATE: w.state,
      EXO_PLAYBOOK_STUB_CALLS: w.file('calls.jsonl'),
    },
  }),
  callLog: (w) => w.file('calls.jsonl'),
};

/** The shipped disable playbook over the drifted tenant with `faults`, signing in with a token from $EXO_TOKEN. */
function faultyWorkspace(faults: SimFaults, change?: (state: TenantState) => void, allowlist?: string): Workspace {
  const state = driftedTenant();
  state.faults = faults;
  change?.(state);
  const w = workspace({ tenant: state, ...(allowlist ? { allowlist } : {}) });
  cleanups.push(w);
  const text = readFileSync(w.playbook, 'utf8').replace(/auth: \{ method: certificate[^\n]*\}/, 'auth: { method: access-token, token: "${env:EXO_TOKEN}" }');
  writeFileSync(w.playbook, text);
  return w;
}

function run(backend: Backend, w: Workspace, command: string[]) {
  const { args, env } = backend.target(w);
  return cli([...command, w.playbook, ...args], { EXO_TOKEN: TOKEN, ...env });
}

function journal(w: Workspace): Record<string, unknown>[] {
  const [dir] = readdirSync(w.file('runs'));
  return readFileSync(join(w.file('runs'), dir!, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

function calls(backend: Backend, w: Workspace): string[] {
  return readFileSync(backend.callLog(w), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { cmdlet: string }).cmdlet);
}

const backends = pwsh ? [simulator, pwshStub] : [simulator];

describe.each(backends)('service errors through the CLI: $name', (backend) => {
  it('a write that reports an error record (each shape) is journaled failed with the parsed service error, exit 3', async () => {
    const w = faultyWorkspace({
      errors: [
        { cmdlet: 'Set-CASMailbox', shape: 'recipient-task', message: 'The mailbox is being moved. Try again later.', times: 1 },
        { cmdlet: 'Set-CASMailbox', shape: 'rest', httpStatus: 500, message: 'Backend unavailable.', times: 1 },
        { cmdlet: 'Set-CASMailbox', shape: 'not-found', times: 1 },
      ],
    });
    const before = w.readState();
    const apply = await run(backend, w, ['apply', '--runs-dir', w.file('runs'), '--yes', '--accept-breakage', 'alice@contoso.com']);
    expect(apply.code, apply.stdout + apply.stderr).toBe(3);
    expect(apply.stderr).not.toContain('internal error');
    const failed = journal(w).filter((r) => r.type === 'after' && r.outcome === 'failed');
    expect(failed.map((r) => r.serviceError)).toEqual([
      { code: null, exceptionType: 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', text: 'The mailbox is being moved. Try again later.', httpStatus: null },
      { code: 'InternalServerError', exceptionType: 'Microsoft.Exchange.Management.RestApiClient.RestClientException', text: 'Backend unavailable.', httpStatus: 500 },
      { code: 'Ex6F9304', exceptionType: 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException', text: expect.stringContaining("couldn't be found"), httpStatus: null },
    ]);
    expect(String(failed[0]!.error)).toContain('The mailbox is being moved. Try again later.');
    // The failed writes changed nothing: the three allowlist changes' mailboxes keep their values.
    const after = w.readState();
    const failedTargets = journal(w).filter((r) => r.type === 'before' && failed.some((f) => f.changeId === r.changeId)).map((r) => r.target);
    expect(failedTargets).toHaveLength(3);
    for (const target of failedTargets) {
      const value = (s: TenantState) => s.mailboxes.find((m) => m.PrimarySmtpAddress === target)!.SmtpClientAuthenticationDisabled;
      expect(value(after), String(target)).toBe(value(before));
    }
  });

  it.each([
    ['Get-TransportConfig', { cmdlet: 'Get-TransportConfig', shape: 'recipient-task', message: 'The transport configuration is being updated.' }, 'The transport configuration is being updated. (RecipientTaskException)'],
    ['Get-EXOCASMailbox', { cmdlet: 'Get-EXOCASMailbox', shape: 'rest', httpStatus: 500, message: 'An server side error occured.', afterObjects: 3 }, 'An server side error occured. (RestClientException, HTTP 500, code InternalServerError)'],
    ['Get-User', { cmdlet: 'Get-User', shape: 'not-found' }, "couldn't be found"],
  ] as const)('a read of %s that reports an error record ends the run with exit 1 and the service text, no stack trace', async (cmdlet, fault, text) => {
    const w = faultyWorkspace({ errors: [{ ...fault }] }, (state) => (state.authenticationPolicies = [{ Name: 'Block Basic SMTP', AllowBasicAuthSmtp: false }]));
    const plan = await run(backend, w, ['plan']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(1);
    expect(plan.stderr).toContain(`error: ${cmdlet} failed: `);
    expect(plan.stderr).toContain(text);
    expect(plan.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it('an error inside Get-EXOMailbox is not "no such mailbox": the run ends with exit 1', async () => {
    // printer@contoso.com is in no bulk-read index, so the allowlist looks it up by identity.
    const allowlist = 'scanner@contoso.com\nprinter@contoso.com\n';
    const calm = faultyWorkspace({}, undefined, allowlist);
    // Not found: the allowlist names no mailbox, said at its line.
    const missing = await run(backend, calm, ['plan']);
    expect(missing.stderr).toContain("allowlist entry 'printer@contoso.com' matches no mailbox");
    const w = faultyWorkspace({ errors: [{ cmdlet: 'Get-EXOMailbox', shape: 'rest', httpStatus: 500, message: 'Backend unavailable.' }] }, undefined, allowlist);
    const plan = await run(backend, w, ['plan']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(1);
    expect(plan.stderr).toContain('error: Get-EXOMailbox failed: Backend unavailable. (RestClientException, HTTP 500, code InternalServerError)');
    expect(plan.stderr).not.toContain('matches no mailbox');
  });

  it('throttling in the middle of the bulk read is retried as a fresh, complete read', async () => {
    const w = faultyWorkspace({ errors: [{ cmdlet: 'Get-EXOCASMailbox', shape: 'rest', httpStatus: 429, message: 'You have reached the maximum number of concurrent requests per tenant. Please wait and try again', afterObjects: 3, times: 1 }] });
    const plan = await run(backend, w, ['plan', '--format', 'json']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(2);
    const changes = (JSON.parse(plan.stdout) as { steps: { changes: { target: string; after: unknown }[] }[] }).steps.flatMap((s) => s.changes);
    // stray2 is the 4th mailbox: the cut-off read never saw it; the complete one did.
    expect(changes.map((c) => c.target)).toEqual(expect.arrayContaining(['scanner@contoso.com', 'stray1@contoso.com', 'stray2@contoso.com']));
    expect(calls(backend, w).filter((c) => c === 'Get-EXOCASMailbox')).toHaveLength(2);
  });
});

describe('reads lost with their session (simulator crash, like a PowerShell host that died)', () => {
  it('are retried, and the plan is the one a calm tenant gives', async () => {
    const calm = faultyWorkspace({});
    const crashing = faultyWorkspace({ crashOnCall: 2 });
    const expected = await run(simulator, calm, ['plan', '--format', 'json']);
    const plan = await run(simulator, crashing, ['plan', '--format', 'json']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(2);
    const changes = (out: string) => (JSON.parse(out) as { steps: { changes: unknown[] }[] }).steps.map((s) => s.changes);
    expect(changes(plan.stdout)).toEqual(changes(expected.stdout));
    // The lost call again, after signing in again on the fresh session.
    expect(calls(simulator, crashing).length).toBe(calls(simulator, calm).length + 2);
    expect(calls(simulator, crashing).filter((c) => c === 'Connect-ExchangeOnline')).toHaveLength(2);
  });
});

describe.skipIf(!pwsh)('reads lost with their PowerShell host (pwsh + stub module)', () => {
  it('are retried on a fresh, signed-in host, and the plan is the one a calm tenant gives', async () => {
    // The stub counts calls per process: every host dies on its third call, so each read after the
    // first dies once and is read again on the next host.
    const calm = faultyWorkspace({});
    const crashing = faultyWorkspace({ crashOnCall: 3 });
    const expected = await run(pwshStub, calm, ['plan', '--format', 'json']);
    const plan = await run(pwshStub, crashing, ['plan', '--format', 'json']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(2);
    const changes = (out: string) => (JSON.parse(out) as { steps: { changes: unknown[] }[] }).steps.map((s) => s.changes);
    expect(changes(plan.stdout)).toEqual(changes(expected.stdout));
    expect(calls(pwshStub, crashing).filter((c) => c === 'Connect-ExchangeOnline').length).toBeGreaterThan(1);
  });
});
