/**
 * One lock per tenant whatever the path: the same simulated state file reached through a symlink or
 * another spelling of its path is one tenant, so a second apply is refused (exit 4) while the first
 * runs; and a write through a symlink changes the file it points to, leaving the link a link.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantState } from '../../src/exchange/simulator/state.js';
import { lockPath } from '../../src/engine/lock.js';
import { until } from '../support/wait.js';
import { assertBuilt, driftedTenant, EngineWorkspace } from './engine-support.js';

let w: EngineWorkspace;
beforeAll(() => {
  assertBuilt();
  // A slow first write keeps the first apply inside its lock for 20 s after it took it: the second
  // meets it however slowly a loaded machine starts the second CLI.
  const slow: TenantState = { ...driftedTenant(6), faults: { latencyByCmdlet: { 'Set-TransportConfig': 20_000 } } };
  w = new EngineWorkspace(slow);
  mkdirSync(join(w.dir, 'sub'));
  symlinkSync(w.state, join(w.dir, 'link.json'));
});
afterAll(() => w.cleanup());

function waitForLock(): Promise<void> {
  const locks = () => {
    try {
      return readdirSync(w.lockDir).filter((f) => f.endsWith('.lock'));
    } catch {
      return []; // not created yet
    }
  };
  return until(() => locks().length > 0, 'the first apply to take the lock');
}

describe('the tenant lock is keyed by the real state file', () => {
  it('an apply through a symlink and one through another spelling of the same file: the second is refused (exit 4)', async () => {
    const first = w.spawn(['apply', 'playbook.yaml', '--target', 'sim:link.json', '--runs-dir', 'runs', '--yes']);
    let firstErr = '';
    first.stderr!.on('data', (chunk: Buffer) => (firstErr += chunk.toString()));
    const firstDone = new Promise<number | null>((resolve) => first.on('close', resolve));
    await waitForLock();
    const second = w.run(['apply', 'playbook.yaml', '--target', 'sim:./sub/../tenant.json', '--runs-dir', 'runs', '--yes']);
    expect(second.code, second.stderr).toBe(4);
    expect(second.stderr).toMatch(/another run holds the lock for contoso\.onmicrosoft\.com/);
    expect(await firstDone, firstErr).toBe(0);
  });

  it('one lock file for every spelling: symlink, `..`, and the organization by domain or by tenant id', () => {
    const spellings = [
      lockPath(w.lockDir, 'contoso.onmicrosoft.com', `sim:${w.state}`),
      lockPath(w.lockDir, 'CONTOSO.onmicrosoft.com', `sim:${join(w.dir, 'link.json')}`),
      lockPath(w.lockDir, '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0', `sim:${join(w.dir, 'sub', '..', 'tenant.json')}`),
    ];
    expect(new Set(spellings).size).toBe(1);
    // Another state file is another tenant.
    expect(lockPath(w.lockDir, 'contoso.onmicrosoft.com', `sim:${join(w.dir, 'other.json')}`)).not.toBe(spellings[0]);
  });

  it('the write went to the real file: the symlink is still a symlink and the tenant behind it changed', () => {
    expect(lstatSync(join(w.dir, 'link.json')).isSymbolicLink()).toBe(true);
    const state = JSON.parse(readFileSync(w.state, 'utf8')) as TenantState;
    expect(state.transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
    // No change log was left beside the link: every spelling reads and writes the one beside the file.
    expect(existsSync(join(w.dir, 'link.json.changes'))).toBe(false);
    // Read through the real path, the tenant is as the apply through the link left it: nothing to do.
    const plan = w.run(['plan', 'playbook.yaml', '--target', 'sim:tenant.json']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
  });
});
