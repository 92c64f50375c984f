/**
 * End-to-end support for the engine tests: a hand-made simulated tenant (the state file format of
 * src/exchange/simulator/state.ts), a playbook without sign-in needs, and a runner for the built CLI
 * with no TTY (stdio are pipes), a private lock folder and a call log.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { replayChangeLogSync } from '../../src/exchange/simulator/change-log.js';
import type { TenantState } from '../../src/exchange/simulator/state.js';
import { mailbox, tenant } from '../support/tenant.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'bin', 'exo-playbook.js');

export function assertBuilt(): void {
  if (!existsSync(join(ROOT, 'dist', 'bundle', 'exo-playbook.mjs'))) throw new Error('run `npm run build` first: the e2e tests spawn the built CLI');
}

/** Organization on; `device` is allowlisted but $null; stray01..strayNN keep a stray $false; some $true, some $null. */
export function driftedTenant(strays = 4): TenantState {
  const mailboxes = [mailbox('device', null), mailbox('locked', true), mailbox('alice', null), mailbox('bob', null)];
  for (let i = 1; i <= strays; i += 1) mailboxes.push(mailbox(`stray${String(i).padStart(2, '0')}`, false));
  return tenant(mailboxes);
}

/**
 * driftedTenant(12) (14 changes: org, device, 12 strays) with every call slowed down, to stop a run in
 * the middle. Each write takes at least 2 s: a test that stops the run once its journal shows the
 * first writes does so with most of them still to come, however late a loaded machine lets it look.
 */
export function slowDriftedTenant(latencyMs: number): TenantState {
  const tenant = driftedTenant(12);
  const write = Math.max(latencyMs, 2000);
  tenant.faults = { latencyMs, latencyByCmdlet: { 'Set-TransportConfig': write, 'Set-CASMailbox': write } };
  return tenant;
}

export const PLAYBOOK = `apiVersion: exo-playbook/v1
name: smtp-auth-disable
change: CHG0042
tenant:
  organization: contoso.onmicrosoft.com
  auth: { method: azure-cli }
# The engine tests are about writing, not about usage data: the lockout guard is told so.
acceptNoUsageEvidence: { reason: engine tests have no usage source }
steps:
  - id: org
    uses: transport-config
    with: { smtpClientAuthenticationDisabled: true }
  - id: allow
    uses: smtp-auth/allowlist
    with: { mailboxes: [device@contoso.com], exclusive: true }
  - id: verify
    uses: smtp-auth/verify
`;

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class EngineWorkspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'exo-engine-'));
  readonly state = join(this.dir, 'tenant.json');
  readonly playbook = join(this.dir, 'playbook.yaml');
  readonly callLog = join(this.dir, 'calls.jsonl');
  readonly runsDir = join(this.dir, 'runs');
  readonly lockDir = join(this.dir, 'locks');
  private readonly children: ChildProcess[] = [];

  constructor(tenant: TenantState = driftedTenant()) {
    this.writeState(tenant);
    writeFileSync(this.playbook, PLAYBOOK);
  }

  writeState(state: TenantState): void {
    writeFileSync(this.state, `${JSON.stringify(state, null, 2)}\n`);
  }

  /** The tenant as the next run sees it: the state file plus the change log a killed run left beside it. */
  readState(): TenantState {
    const state = JSON.parse(readFileSync(this.state, 'utf8')) as TenantState;
    replayChangeLogSync(this.state, state);
    return state;
  }

  env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, EXO_PLAYBOOK_SIM_CALL_LOG: this.callLog, EXO_PLAYBOOK_LOCK_DIR: this.lockDir, NO_COLOR: undefined, FORCE_COLOR: undefined };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    return env;
  }

  /** Runs the CLI with `--target sim:tenant.json` and `--runs-dir runs` where the command takes them. */
  run(args: string[]): Result {
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: this.dir, env: this.env(), encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 240_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** The CLI in the background; cleanup() kills it if it is still running (a test that failed before it ended). */
  spawn(args: string[]): ChildProcess {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: this.dir, env: this.env(), stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.push(child);
    return child;
  }

  /** The journal of the apply run in runs/ (as far as it was written; empty before it exists). */
  journalLines(): string[] {
    if (!existsSync(this.runsDir)) return [];
    const dir = readdirSync(this.runsDir).find((d) => d.endsWith('smtp-auth-disable'));
    if (!dir || !existsSync(join(this.runsDir, dir, 'journal.jsonl'))) return [];
    return readFileSync(join(this.runsDir, dir, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean);
  }

  /** Cmdlets the simulator saw, in order. */
  calls(): { cmdlet: string; parameters: Record<string, unknown> }[] {
    if (!existsSync(this.callLog)) return [];
    return readFileSync(this.callLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { cmdlet: string; parameters: Record<string, unknown> });
  }

  clearCalls(): void {
    rmSync(this.callLog, { force: true });
  }

  cleanup(): void {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const sim = (w: EngineWorkspace) => ['--target', `sim:${w.state}`];
