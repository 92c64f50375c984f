/**
 * One lock per real tenant (issue 24 point 4): two applies on one tenant meet on one lock however
 * they reach it, so exactly one proceeds and the other is refused (exit 4) naming the holder:
 * - against Exchange (PowerShell + the stub module), one playbook naming the organization by its
 *   domain and another by its tenant id: the lock is keyed by the tenant read after sign-in;
 * - two runs with different TMPDIRs and no EXO_PLAYBOOK_LOCK_DIR: the default lock folder is the
 *   per-user state folder ($XDG_STATE_HOME/exo-playbook/locks), not the temp folder;
 * - a simulated tenant reached through a hard link: keyed by the state file's device and inode.
 * The first run is slowed by the tenant's latency knob; the second starts when the first's lock
 * file appears (an event), and the first is then awaited to its exit.
 */
import { spawn } from 'node:child_process';
import { linkSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findPwsh } from '../../src/exchange/find-pwsh.js';
import type { TenantState } from '../../src/exchange/simulator/state.js';
import { assertBuilt, CLI, driftedTenant, EngineWorkspace, PLAYBOOK, ROOT } from './engine-support.js';

const pwsh = findPwsh();
const TENANT_ID = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';
const TOKEN = `eyJ0eXAiOiJKV1QifQ.tenant-lock-e2e-${process.pid}.c2ln`;

const workspaces: EngineWorkspace[] = [];
afterEach(() => workspaces.splice(0).forEach((w) => w.cleanup()));

function slowWorkspace(latencyMs: number): EngineWorkspace {
  assertBuilt();
  const state: TenantState = { ...driftedTenant(6), faults: { latencyMs } };
  state.organization = { ...state.organization, TenantId: TENANT_ID };
  const w = new EngineWorkspace(state);
  workspaces.push(w);
  return w;
}

/** Resolves once a .lock file exists in `dir` (polled: a file appearing is the event). */
function lockFileIn(dir: string, first: Promise<unknown>): Promise<string> {
  return new Promise((resolve, reject) => {
    let finished = false;
    void first.then(() => (finished = true));
    const poll = () => {
      let found: string | undefined;
      try {
        found = readdirSync(dir).find((f) => f.endsWith('.lock'));
      } catch {
        // the folder is made when the lock is taken
      }
      if (found) resolve(join(dir, found));
      else if (finished) reject(new Error('the first apply ended without ever holding the lock'));
      else setTimeout(poll, 25);
    };
    poll();
  });
}

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns the CLI in the workspace with extra variables (undefined removes one); resolves at its exit. */
function start(w: EngineWorkspace, args: string[], env: NodeJS.ProcessEnv): Promise<Exit> {
  const merged: NodeJS.ProcessEnv = { ...w.env(), ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete merged[key];
  const child = spawn(process.execPath, [CLI, ...args], { cwd: w.dir, env: merged, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Two applies; the second starts once the first holds its lock. Returns both exits. */
async function race(w: EngineWorkspace, lockDir: string, first: [string[], NodeJS.ProcessEnv], second: [string[], NodeJS.ProcessEnv]): Promise<[Exit, Exit, string]> {
  const one = start(w, ...first);
  const lock = await lockFileIn(lockDir, one);
  const two = await start(w, ...second);
  return [await one, two, lock];
}

function expectOneProceeded(one: Exit, two: Exit): void {
  expect(two.code, two.stderr).toBe(4);
  expect(two.stderr).toMatch(/another run holds the lock for .*: held by apply smtp-auth-disable on host .*, pid \d+, since /);
  expect(one.code, one.stderr).toBe(0);
}

describe('one lock per real tenant', () => {
  it('a hard link to the simulated state file is the same tenant', async () => {
    const w = slowWorkspace(300);
    linkSync(w.state, join(w.dir, 'hard-link.json'));
    const [one, two] = await race(
      w,
      w.lockDir,
      [['apply', 'playbook.yaml', '--target', 'sim:tenant.json', '--runs-dir', 'runs', '--yes'], {}],
      [['apply', 'playbook.yaml', '--target', 'sim:hard-link.json', '--runs-dir', 'runs', '--yes'], {}],
    );
    expectOneProceeded(one, two);
    expect(w.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
  });

  it('two TMPDIRs meet in the default lock folder, a per-user state folder ($XDG_STATE_HOME/exo-playbook/locks)', async () => {
    const w = slowWorkspace(300);
    const home = join(w.dir, 'home');
    const state = join(w.dir, 'state');
    for (const d of [home, state, join(w.dir, 'tmp1'), join(w.dir, 'tmp2')]) mkdirSync(d);
    const base = { EXO_PLAYBOOK_LOCK_DIR: undefined, HOME: home, XDG_STATE_HOME: state };
    const args = ['apply', 'playbook.yaml', '--target', 'sim:tenant.json', '--runs-dir', 'runs', '--yes'];
    const [one, two, lock] = await race(w, join(state, 'exo-playbook', 'locks'), [args, { ...base, TMPDIR: join(w.dir, 'tmp1') }], [args, { ...base, TMPDIR: join(w.dir, 'tmp2') }]);
    expectOneProceeded(one, two);
    expect(lock.startsWith(join(state, 'exo-playbook', 'locks'))).toBe(true);
  });

  it.skipIf(!pwsh)('against Exchange: one playbook naming the tenant by domain, another by tenant id', async () => {
    const w = slowWorkspace(400);
    const byDomain = PLAYBOOK.replace('auth: { method: azure-cli }', 'auth: { method: access-token, token: "${env:EXO_TOKEN}" }');
    writeFileSync(join(w.dir, 'by-domain.yaml'), byDomain);
    writeFileSync(join(w.dir, 'by-id.yaml'), byDomain.replace('organization: contoso.onmicrosoft.com', `organization: ${TENANT_ID}`));
    const env = {
      EXO_TOKEN: TOKEN,
      EXO_PLAYBOOK_PWSH: pwsh!.path,
      EXO_PLAYBOOK_MODULE_PATH: join(ROOT, 'test', 'fixtures', 'modules'),
      EXO_PLAYBOOK_STUB_STATE: w.state,
    };
    const [one, two] = await race(
      w,
      w.lockDir,
      [['apply', 'by-domain.yaml', '--target', 'exchange', '--runs-dir', 'runs', '--yes'], env],
      [['apply', 'by-id.yaml', '--target', 'exchange', '--runs-dir', 'runs', '--yes'], env],
    );
    expectOneProceeded(one, two);
    expect(two.stderr).toContain('contoso.onmicrosoft.com');
    expect(w.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
  });
});
