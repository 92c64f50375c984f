/**
 * The same disable playbook through real PowerShell and the stub ExchangeOnlineManagement module
 * (--target exchange, access-token sign-in from an env var) ends in the same tenant state as through
 * the in-process simulator. Needs pwsh (src/exchange/find-pwsh.ts): under CI=true a missing pwsh fails.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findPwsh } from '../../src/exchange/find-pwsh.js';
import type { TenantState } from '../../src/exchange/simulator/state.js';
import { cli, ROOT, workspace, type Workspace } from './smtp-auth-support.js';

const pwsh = findPwsh();
if (!pwsh) {
  if (process.env.CI === 'true') throw new Error('pwsh is required under CI: run `npm run ensure-pwsh`');
  console.warn('\n*** SKIPPING smtp-auth pwsh e2e: PowerShell not found (run `npm run ensure-pwsh`) ***\n');
}

const TOKEN = `eyJ0eXAiOiJKV1QifQ.smtp-auth-e2e-${process.pid}.c2ln`;
const cleanups: Workspace[] = [];
afterEach(() => cleanups.splice(0).forEach((w) => w.cleanup()));

/** The shipped playbook, signing in with an app-only token from $EXO_TOKEN. */
function tokenWorkspace(): Workspace {
  const w = workspace();
  cleanups.push(w);
  const text = readFileSync(w.playbook, 'utf8').replace(
    /auth: \{ method: certificate[^\n]*\}/,
    'auth: { method: access-token, token: "${env:EXO_TOKEN}" }',
  );
  writeFileSync(w.playbook, text);
  return w;
}

/** What the playbook governs: the organization switch and every mailbox. */
const governed = (state: TenantState) => ({ transportConfig: state.transportConfig, mailboxes: state.mailboxes });

describe.skipIf(!pwsh)('smtp-auth-disable through pwsh + stub module', () => {
  it('ends in the same state file as through the simulator, then verifies compliant', async () => {
    const sim = tokenWorkspace();
    const real = tokenWorkspace();
    const accept = ['--yes', '--accept-breakage', 'alice@contoso.com'];
    // A lock folder of its own: the default one in the temp folder is shared with every other run on the machine.
    const env = { EXO_TOKEN: TOKEN, EXO_PLAYBOOK_LOCK_DIR: sim.file('locks') };

    const viaSim = await cli(['apply', sim.playbook, '--target', `sim:${sim.state}`, '--runs-dir', sim.file('runs'), ...accept], env);
    expect(viaSim.code, viaSim.stdout + viaSim.stderr).toBe(0);

    const pwshEnv = {
      ...env,
      EXO_PLAYBOOK_PWSH: pwsh!.path,
      EXO_PLAYBOOK_MODULE_PATH: join(ROOT, 'test', 'fixtures', 'modules'),
      EXO_PLAYBOOK_STUB_STATE: real.state,
    };
    const viaPwsh = await cli(['apply', real.playbook, '--target', 'exchange', '--runs-dir', real.file('runs'), ...accept], pwshEnv);
    expect(viaPwsh.code, viaPwsh.stdout + viaPwsh.stderr).toBe(0);
    expect(viaPwsh.stdout + viaPwsh.stderr).not.toContain(TOKEN);

    expect(governed(real.readState())).toEqual(governed(sim.readState()));
    expect(real.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(true);

    const verify = await cli(['verify', real.playbook, '--target', 'exchange'], pwshEnv);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
