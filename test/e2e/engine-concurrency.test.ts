/**
 * `apply --concurrency 3` against --target exchange (real pwsh + the stub ExchangeOnlineManagement
 * module, 300 ms per call, 61 mailbox writes): three pwsh hosts each signed in once, the same end
 * state as a serial run (the reference, at 30 ms per call), three writes in flight (how much faster:
 * npm run bench). The extra hosts start with the run (before its reads), so a run that then writes
 * nothing (no change, or refused) must change nothing and leave no PowerShell behind. Needs pwsh
 * (src/exchange/find-pwsh.ts): under CI=true a missing pwsh fails.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findPwsh } from '../../src/exchange/find-pwsh.js';
import type { TenantState } from '../../src/exchange/simulator/state.js';
import { openTarget } from '../../src/exchange/target.js';
import type { Playbook } from '../../src/playbook/schema.js';
import { powershellWith, until } from '../exchange/pwsh/processes.js';
import { assertBuilt, CLI, driftedTenant, EngineWorkspace, ROOT, type Result } from './engine-support.js';

const pwsh = findPwsh();
if (!pwsh) {
  if (process.env.CI === 'true') throw new Error('pwsh is required under CI: run `npm run ensure-pwsh`');
  console.warn('\n*** SKIPPING engine concurrency e2e: PowerShell not found (run `npm run ensure-pwsh`) ***\n');
}

const TOKEN = `eyJ0eXAiOiJKV1QifQ.concurrency-e2e-${process.pid}.c2ln`;
const LATENCY_MS = 300;
const SERIAL_LATENCY_MS = 30;
/**
 * Per call in the --concurrency 3 run: the run's own session writes while the extra hosts start, so
 * the writes must outlast the extra hosts' start and sign-in for three to be in flight at once. At
 * 1 s a write the run's session alone needs a minute for them, however slowly a loaded machine
 * starts the other two hosts.
 */
const PARALLEL_LATENCY_MS = 1000;
/** Enough writes that the pool's extra sign-ins (a pwsh start each, ~2-3 s here) pay for themselves. */
const STRAYS = 60;

/** 1 + STRAYS per-mailbox writes in one step: device gets $false, every stray $false goes back to $null. */
const PLAYBOOK = `apiVersion: exo-playbook/v1
name: allowlist-only
tenant:
  organization: contoso.onmicrosoft.com
  auth: { method: access-token, token: "\${env:EXO_TOKEN}" }
steps:
  - id: allow
    uses: smtp-auth/allowlist
    with: { mailboxes: [device@contoso.com], exclusive: true }
`;

const workspaces: EngineWorkspace[] = [];
afterEach(() => workspaces.splice(0).forEach((w) => w.cleanup()));
beforeAll(() => assertBuilt());

function slowTenant(latencyMs = LATENCY_MS): EngineWorkspace {
  return workspaceOf({ ...driftedTenant(STRAYS), faults: { latencyMs } });
}

/** A workspace over this tenant with the allowlist-only playbook. */
function workspaceOf(tenant: TenantState): EngineWorkspace {
  const w = new EngineWorkspace(tenant);
  writeFileSync(w.playbook, PLAYBOOK);
  workspaces.push(w);
  return w;
}

/** The built CLI against the stub module over this workspace's state file; resolves with the wall time. */
function applyViaPwsh(w: EngineWorkspace, concurrency: number, yes = true): Promise<Result & { ms: number }> {
  const stubCalls = join(w.dir, 'stub-calls.jsonl');
  const env = {
    ...w.env(),
    NO_COLOR: '1',
    EXO_TOKEN: TOKEN,
    EXO_PLAYBOOK_PWSH: pwsh!.path,
    EXO_PLAYBOOK_MODULE_PATH: join(ROOT, 'test', 'fixtures', 'modules'),
    EXO_PLAYBOOK_STUB_STATE: w.state,
    EXO_PLAYBOOK_STUB_CALLS: stubCalls,
  };
  const args = ['apply', w.playbook, '--target', 'exchange', '--runs-dir', w.runsDir, ...(yes ? ['--yes'] : []), '--concurrency', String(concurrency), '--log-file', join(w.dir, 'run.jsonl')];
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: w.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr, ms: Math.round(performance.now() - started) }));
  });
}

/** Cmdlets the stub module saw (every pwsh host appends to the same record). */
function stubCalls(w: EngineWorkspace): string[] {
  const file = join(w.dir, 'stub-calls.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { cmdlet: string }).cmdlet);
}

/** The run's --log-file events, in order. */
function logEvents(w: EngineWorkspace): { type: string; message: string }[] {
  return readFileSync(join(w.dir, 'run.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { type: string; message: string });
}

/** The most writes in flight at once, from the run's --log-file events. */
function maxWritesInFlight(w: EngineWorkspace): number {
  let inFlight = 0;
  let max = 0;
  for (const line of readFileSync(join(w.dir, 'run.jsonl'), 'utf8').split('\n').filter(Boolean)) {
    const type = (JSON.parse(line) as { type: string }).type;
    if (type === 'change-start') max = Math.max(max, ++inFlight);
    if (type === 'change-end') inFlight -= 1;
  }
  return max;
}

const switches = (state: TenantState) => Object.fromEntries(state.mailboxes.map((m) => [m.PrimarySmtpAddress, m.SmtpClientAuthenticationDisabled]));

describe.skipIf(!pwsh)('apply --concurrency through pwsh + stub module', () => {
  it('--concurrency 3 ends in the same state as --concurrency 1, signs in three hosts, and keeps three writes in flight', async () => {
    // The serial run is the reference end state and proves one host, one write at a time: it needs
    // calls that take a while (so overlapping writes would show), not 300 ms each (18 s of waiting).
    const serial = slowTenant(SERIAL_LATENCY_MS);
    const parallel = slowTenant(PARALLEL_LATENCY_MS);

    const one = await applyViaPwsh(serial, 1);
    expect(one.code, one.stdout + one.stderr).toBe(0);
    const three = await applyViaPwsh(parallel, 3);
    expect(three.code, three.stdout + three.stderr).toBe(0);
    console.log(`apply of ${STRAYS + 1} writes: --concurrency 1 (${SERIAL_LATENCY_MS} ms per call) took ${one.ms} ms, --concurrency 3 (${PARALLEL_LATENCY_MS} ms per call) took ${three.ms} ms`);

    // Same end state: every stray $false back to $null, device $false, nothing else touched.
    expect(switches(parallel.readState())).toEqual(switches(serial.readState()));
    expect(switches(parallel.readState())).toMatchObject({ 'device@contoso.com': false, 'stray01@contoso.com': null, [`stray${STRAYS}@contoso.com`]: null, 'locked@contoso.com': true });

    // One sign-in per pwsh host: 1 for the serial run, 3 for the pool; the writes themselves are the same.
    const connects = (w: EngineWorkspace) => stubCalls(w).filter((c) => c === 'Connect-ExchangeOnline').length;
    const writes = (w: EngineWorkspace) => stubCalls(w).filter((c) => c === 'Set-CASMailbox').length;
    expect(connects(serial)).toBe(1);
    expect(connects(parallel)).toBe(3);
    expect(writes(serial)).toBe(STRAYS + 1);
    expect(writes(parallel)).toBe(STRAYS + 1);
    expect(maxWritesInFlight(serial)).toBe(1);
    expect(maxWritesInFlight(parallel)).toBe(3);
    expect(three.stdout + three.stderr).not.toMatch(/could not open session/);
    expect(three.stdout + three.stderr).not.toContain(TOKEN);
    // The extra hosts were asked for before the reads, not at the first write.
    const events = logEvents(parallel);
    const at = (message: string) => events.findIndex((e) => e.message === message);
    expect(at('opening session 3 of 3 for parallel writes')).toBeGreaterThan(-1);
    expect(at('opening session 3 of 3 for parallel writes')).toBeLessThan(events.findIndex((e) => e.type === 'observe'));
    expect(at('session 3 of 3 signed in for parallel writes')).toBeGreaterThan(-1);
    // Every host this run started is gone once the CLI has exited.
    if (process.platform === 'linux') expect(powershellWith(parallel.dir)).toEqual([]);
    // How much faster is a benchmark's question (npm run bench, docs/PERFORMANCE.md), not a timed
    // assertion that fails on a loaded 2-core machine; three writes in flight at once is what this proves.
  });

  it('--concurrency 3 with nothing to write: exit 0, no write reaches the tenant, no PowerShell left behind', async () => {
    // device is already $false and there is no stray: the plan is empty.
    const compliant = driftedTenant(0);
    compliant.mailboxes.find((m) => m.PrimarySmtpAddress === 'device@contoso.com')!.SmtpClientAuthenticationDisabled = false;
    const w = workspaceOf({ ...compliant, faults: { latencyMs: LATENCY_MS } });
    const before = switches(w.readState());
    const run = await applyViaPwsh(w, 3);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/0 change/);
    expect(stubCalls(w).filter((c) => /^(Set|New|Remove|Add|Enable|Disable)-/.test(c))).toEqual([]);
    expect(switches(w.readState())).toEqual(before);
    expect(run.stdout + run.stderr).not.toMatch(/could not open session|did not close cleanly/);
    if (process.platform === 'linux') expect(powershellWith(w.dir)).toEqual([]);
  });

  it("a refused sign-in is tried once: the extra hosts never sign in when the run's own sign-in fails", async () => {
    const w = workspaceOf({ ...driftedTenant(4), faults: { latencyMs: LATENCY_MS } });
    // The playbook names another organization than the tenant's: Connect-ExchangeOnline refuses it.
    writeFileSync(w.playbook, PLAYBOOK.replace('contoso.onmicrosoft.com', 'fabrikam.onmicrosoft.com'));
    const run = await applyViaPwsh(w, 3);
    expect(run.code, run.stdout + run.stderr).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/fabrikam\.onmicrosoft\.com/);
    expect(stubCalls(w).filter((c) => c === 'Connect-ExchangeOnline')).toHaveLength(1);
    expect(stubCalls(w).filter((c) => /^Set-/.test(c))).toEqual([]);
    if (process.platform === 'linux') expect(powershellWith(w.dir)).toEqual([]);
  });

  it.skipIf(process.platform !== 'linux')('an extra session abandoned while it signs in: its PowerShell is killed, not waited for', async () => {
    // Every stub call takes ten minutes: the sign-in below never finishes by itself within the test.
    const w = workspaceOf({ ...driftedTenant(0), faults: { latencyMs: 600_000 } });
    const calls = join(w.dir, 'stub-calls.jsonl');
    const abandon = new AbortController();
    const tenant = { organization: 'contoso.onmicrosoft.com', auth: { method: 'access-token', token: '${env:EXO_TOKEN}' } } as unknown as Playbook['tenant'];
    const opening = openTarget('exchange', tenant, {
      env: { ...process.env, EXO_TOKEN: TOKEN, EXO_PLAYBOOK_PWSH: pwsh!.path, EXO_PLAYBOOK_MODULE_PATH: join(ROOT, 'test', 'fixtures', 'modules'), EXO_PLAYBOOK_STUB_STATE: w.state, EXO_PLAYBOOK_STUB_CALLS: calls },
      baseDir: w.dir,
      cmdlets: ['Get-EXOCASMailbox', 'Set-CASMailbox'],
      signal: abandon.signal,
    });
    const failure = opening.then(
      () => new Error('expected the opening to be abandoned'),
      (error: unknown) => error as Error,
    );
    await until(() => existsSync(calls) && readFileSync(calls, 'utf8').includes('Connect-ExchangeOnline'), 'the sign-in to start', 90_000);
    expect(powershellWith(w.dir)).toHaveLength(1);
    abandon.abort();
    expect((await failure).message).toMatch(/PowerShell exited during Connect-ExchangeOnline \(killed by SIGKILL\)/);
    // Gone by the time the opening rejected: nothing to poll for.
    expect(powershellWith(w.dir)).toEqual([]);
  });

  it('--concurrency 3 refused before writing (no --yes, no terminal): exit 4, nothing written, no PowerShell left behind', async () => {
    const w = workspaceOf({ ...driftedTenant(4), faults: { latencyMs: LATENCY_MS } });
    const before = switches(w.readState());
    const run = await applyViaPwsh(w, 3, false);
    expect(run.code, run.stdout + run.stderr).toBe(4);
    expect(run.stdout + run.stderr).toContain('nothing was written');
    expect(stubCalls(w).filter((c) => /^(Set|New|Remove|Add|Enable|Disable)-/.test(c))).toEqual([]);
    expect(switches(w.readState())).toEqual(before);
    if (process.platform === 'linux') expect(powershellWith(w.dir)).toEqual([]);
  });
});

describe('apply --concurrency against a simulated tenant', () => {
  it('extra simulated sessions on the same file share one tenant: --concurrency 3 ends like --concurrency 1', async () => {
    const fast = (): EngineWorkspace => {
      const w = new EngineWorkspace({ ...driftedTenant(STRAYS), faults: { latencyMs: 5 } });
      workspaces.push(w);
      return w;
    };
    const serial = fast();
    const parallel = fast();
    const one = serial.run(['apply', serial.playbook, '--target', `sim:${serial.state}`, '--runs-dir', serial.runsDir, '--yes', '--concurrency', '1']);
    expect(one.code, one.stdout + one.stderr).toBe(0);
    const three = parallel.run(['apply', parallel.playbook, '--target', `sim:${parallel.state}`, '--runs-dir', parallel.runsDir, '--yes', '--concurrency', '3', '--log-file', join(parallel.dir, 'run.jsonl')]);
    expect(three.code, three.stdout + three.stderr).toBe(0);
    expect(parallel.readState()).toEqual(serial.readState());
    expect(maxWritesInFlight(parallel)).toBe(3);
    expect(three.stdout + three.stderr).toContain('opening session 3 of 3 for parallel writes');
  });
});
