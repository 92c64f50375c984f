/**
 * How tests get PowerShell: the same lookup as the runtime (findPwsh). Under CI=true a missing pwsh
 * fails the tests that need it; elsewhere they are skipped, loudly. A pwsh that is not of the pinned
 * minor version (7.6.x) fails every session the tests start.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findPwsh, requiredPwshSeries } from '../../../src/exchange/find-pwsh.js';
import { generateTenant } from '../../../src/exchange/simulator/generate.js';
import type { TenantState } from '../../../src/exchange/simulator/state.js';
import { PwshSession, type PwshSessionOptions } from '../../../src/exchange/pwsh/session.js';

const found = findPwsh();
if (!found && process.env.CI === 'true') {
  throw new Error('pwsh is required under CI=true but was not found: run `npm run ensure-pwsh` (scripts/ensure-pwsh.mjs).');
}
if (!found) {
  console.warn('\n*** pwsh NOT FOUND: PowerShell bridge tests are SKIPPED. Run `npm run ensure-pwsh` to install it. ***\n');
}

export const pwshPath: string | undefined = found?.path;
export const noPwsh = !found;

export const stubModulePath = resolve(import.meta.dirname, '..', '..', 'fixtures', 'modules');

/** The simulated clock every fixture tenant uses, so dates in results are stable. */
export const CLOCK = '2026-11-20T10:00:00.000Z';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `exo-${prefix}-`));
}

export function fixtureTenant(changes: (state: TenantState) => void = () => undefined): TenantState {
  const state = generateTenant({ mailboxes: 12, seed: 7, clock: CLOCK, activeSenders: 4, explicitEnabled: 2, explicitDisabled: 1 });
  changes(state);
  return state;
}

export function writeState(dir: string, state: TenantState): string {
  const file = join(dir, 'state.json');
  writeFileSync(file, JSON.stringify(state, null, 2));
  return file;
}

/** A PwshSession on the stub module over `stateFile`, recording calls to `callsFile` when given. */
export async function startStubSession(stateFile: string, callsFile?: string, extra: PwshSessionOptions = {}): Promise<PwshSession> {
  const session = await PwshSession.start({
    pwshPath: pwshPath!,
    modulePaths: [stubModulePath],
    ...extra,
    env: { EXO_PLAYBOOK_STUB_STATE: stateFile, ...(callsFile ? { EXO_PLAYBOOK_STUB_CALLS: callsFile } : {}), ...extra.env },
  });
  const version = session.hostInfo?.psVersion ?? '';
  if (!version.startsWith(`${requiredPwshSeries()}.`)) {
    await session.close();
    throw new Error(`${pwshPath} is PowerShell ${version}; the tests need ${requiredPwshSeries()}.x (package.json config.pwshVersion)`);
  }
  return session;
}
