/**
 * A fleet of simulated tenants for the fleet tests: N state files made by the simulator's generator
 * (different seeds, sizes and senders), one allowlist and one SMTP AUTH clients report per tenant, an
 * inventory that targets them (predictable ids and tags, unlike `sim init-fleet`'s), and
 * a copy of the shipped playbooks/smtp-auth-fleet.yaml. Runs the built CLI with no TTY, a private
 * lock folder and a private runs folder; everything lives in one temporary folder.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTenant } from '../../src/exchange/simulator/generate.js';
import { clientsReportCsv } from '../../src/exchange/simulator/usage-export.js';
import type { TenantState } from '../../src/exchange/simulator/state.js';
import { replayChangeLogSync } from '../../src/exchange/simulator/change-log.js';
import { CLI, ROOT, type Result } from '../e2e/engine-support.js';

export interface FleetOptions {
  tenants: number;
  mailboxes?: number;
  /** Tenants (1-based) whose allowlist leaves its active senders out: the lockout guard refuses them. */
  unguarded?: number[];
  /** Extra inventory lines per tenant (1-based). */
  extra?: Record<number, string[]>;
}

export function tenantId(i: number): string {
  return `tenant${String(i).padStart(2, '0')}-contoso.onmicrosoft.com`;
}

/** Every sender the usage sources see that is a mailbox: the allowlist that keeps them all. */
export function allSenders(state: TenantState): string[] {
  const mailboxes = new Set(state.mailboxes.map((m) => m.PrimarySmtpAddress.toLowerCase()));
  const seen = [...state.smtpAuthActivity.map((a) => a.sender), ...(state.graph?.signIns ?? []).map((s) => s.userPrincipalName)].map((s) => s.toLowerCase());
  return [...new Set(seen)].filter((s) => mailboxes.has(s)).sort();
}

export class FleetWorkspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'exo-fleet-'));
  readonly inventory = join(this.dir, 'inventory.yaml');
  readonly playbook = join(this.dir, 'smtp-auth-fleet.yaml');
  readonly lockDir = join(this.dir, 'locks');
  readonly ids: string[] = [];

  constructor(options: FleetOptions) {
    mkdirSync(join(this.dir, 'tenants'));
    mkdirSync(join(this.dir, 'allowlists'));
    mkdirSync(join(this.dir, 'usage'));
    copyFileSync(join(ROOT, 'playbooks', 'smtp-auth-fleet.yaml'), this.playbook);
    const lines = ['apiVersion: exo-playbook/v1', 'kind: Inventory', 'defaults:', '  auth: { method: azure-cli }', 'tenants:'];
    for (let i = 1; i <= options.tenants; i += 1) {
      const id = tenantId(i);
      this.ids.push(id);
      const state = generateTenant({ mailboxes: (options.mailboxes ?? 30) + i, seed: `fleet-${i}`, organization: id, explicitEnabled: 2 + (i % 3), activeSenders: 2 + (i % 4), usageDetail: true, clock: '2026-12-07T09:00:00.000Z' });
      this.writeState(id, state);
      const allow = options.unguarded?.includes(i) ? [] : allSenders(state);
      writeFileSync(join(this.dir, 'allowlists', `${id}.txt`), `# tenant ${i}\n${allow.join('\n')}\n`);
      writeFileSync(join(this.dir, 'usage', `${id}.csv`), clientsReportCsv(state, 30));
      lines.push(`  - id: ${id}`, `    name: Tenant ${i}`, `    tags: [${i % 2 ? 'odd' : 'even'}${i === 1 ? ', pilot' : ''}]`, `    target: sim:tenants/${id}.json`, `    vars: { allowlist: allowlists/${id}.txt, usageReport: usage/${id}.csv }`, ...(options.extra?.[i] ?? []).map((l) => `    ${l}`));
    }
    writeFileSync(this.inventory, `${lines.join('\n')}\n`);
  }

  statePath(id: string): string {
    return join(this.dir, 'tenants', `${id}.json`);
  }

  writeState(id: string, state: TenantState): void {
    writeFileSync(this.statePath(id), `${JSON.stringify(state, null, 2)}\n`);
  }

  /** The tenant as the next run sees it: the state file plus the change log beside it. */
  readState(id: string): TenantState {
    const state = JSON.parse(readFileSync(this.statePath(id), 'utf8')) as TenantState;
    replayChangeLogSync(this.statePath(id), state);
    return state;
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, EXO_PLAYBOOK_LOCK_DIR: this.lockDir, ...extra };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    return env;
  }

  run(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Result {
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: this.dir, env: this.env(extraEnv), encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  spawn(args: string[], extraEnv: NodeJS.ProcessEnv = {}): ChildProcess {
    return spawn(process.execPath, [CLI, ...args], { cwd: this.dir, env: this.env(extraEnv), stdio: ['pipe', 'pipe', 'pipe'] });
  }

  runAsync(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: this.dir, env: this.env(extraEnv), stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A fleet result without its timings (durations, start and end times, when plans were made or checked). */
export function withoutTimings(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimings);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !['durationMs', 'startedAt', 'finishedAt', 'createdAt', 'checkedAt', 'at'].includes(k))
        .map(([k, v]) => [k, withoutTimings(v)]),
    );
  }
  return value;
}
