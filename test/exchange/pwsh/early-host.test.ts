/**
 * The PowerShell host apply starts at launch (src/cli/early-start.ts, src/exchange/pwsh/early-host.ts):
 * which command lines start one, that it never carries a variable the playbook names (its secrets),
 * that the run gets that very host only when it is the one the run would start itself, and that an
 * unclaimed or mismatched one is killed. Real pwsh + the stub module; Linux (/proc).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { earlyRunOf, envNamesIn, startEarly } from '../../../src/cli/early-start.js';
import { claimEarlyHost, discardEarlyHost, type HostRecipe } from '../../../src/exchange/pwsh/early-host.js';
import { powershellWith, until, untilNone } from './processes.js';
import { fixtureTenant, noPwsh, pwshPath, stubModulePath, tempDir, writeState } from './pwsh-for-tests.js';

afterEach(() => discardEarlyHost());

describe('which command lines start PowerShell at launch', () => {
  it('apply, plan and verify, with their target (exchange by default), whatever the order of their options', () => {
    expect(earlyRunOf(['apply', 'p.yaml'])).toEqual({ command: 'apply', playbook: 'p.yaml', target: 'exchange' });
    expect(earlyRunOf(['--no-color', 'apply', '--yes', '--concurrency', '3', 'p.yaml', '--log-file=run.jsonl'])).toEqual({ command: 'apply', playbook: 'p.yaml', target: 'exchange' });
    expect(earlyRunOf(['apply', 'p.yaml', '--target', 'sim:t.json'])).toEqual({ command: 'apply', playbook: 'p.yaml', target: 'sim:t.json' });
    expect(earlyRunOf(['apply', '--target=exchange', '-y', '--', 'p.yaml'])).toEqual({ command: 'apply', playbook: 'p.yaml', target: 'exchange' });
    expect(earlyRunOf(['plan', 'p.yaml', '--out', 'plan.json', '--format', 'json'])).toEqual({ command: 'plan', playbook: 'p.yaml', target: 'exchange' });
    expect(earlyRunOf(['verify', '--workload-identity', '00000000-0000-0000-0000-000000000000', 'p.yaml'])).toEqual({ command: 'verify', playbook: 'p.yaml', target: 'exchange' });
  });

  it('nothing else: other commands, help, an option it does not know or the command does not take, a missing playbook', () => {
    for (const argv of [['validate', 'p.yaml'], ['rollback', 'runs/x'], ['apply', 'p.yaml', '--help'], ['--version'], ['apply', 'p.yaml', '--frobnicate'], ['verify', 'p.yaml', '--yes'], ['plan', 'p.yaml', '--plan', 'x.json'], ['apply'], ['apply', 'p.yaml', '--target'], ['apply', 'a.yaml', 'b.yaml']]) {
      expect(earlyRunOf(argv), argv.join(' ')).toBeNull();
    }
  });

  it('withholds every variable the playbook text names (a superset of its secrets)', () => {
    expect(envNamesIn('auth: { method: access-token, token: "${env:DOTNET_EXO_TOKEN}" }\nchange: ${env:TICKET}\n# ${env:OLD}')).toEqual(['DOTNET_EXO_TOKEN', 'TICKET', 'OLD']);
  });
});

describe.skipIf(noPwsh || process.platform !== 'linux')('the early host', () => {
  function setup() {
    const dir = tempDir('early');
    const state = writeState(dir, fixtureTenant());
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, EXO_PLAYBOOK_PWSH: pwshPath!, EXO_PLAYBOOK_MODULE_PATH: stubModulePath, EXO_PLAYBOOK_STUB_STATE: state };
    return { dir, state, env };
  }

  it('never gets a variable the playbook names, even one PowerShell would otherwise be given (DOTNET_*)', async () => {
    const { dir, env } = setup();
    writeFileSync(join(dir, 'p.yaml'), 'tenant:\n  auth: { method: access-token, token: "${env:DOTNET_EXO_TOKEN}" }\n');
    const secret = 'fake-dotnet-token-9f8e7d';
    const early = await startEarly(['apply', 'p.yaml'], { ...env, DOTNET_EXO_TOKEN: secret, DOTNET_OTHER: 'kept' }, dir);
    expect(early).not.toBeNull();
    await until(() => powershellWith(dir).length > 0, 'the early host');
    const [host] = powershellWith(dir);
    expect(host, 'the early host runs').toBeDefined();
    expect(host!.environ).not.toContain(secret);
    expect(host!.environ.split('\0')).toContain('DOTNET_OTHER=kept');
    await early!.discard();
    expect(await untilNone(() => powershellWith(dir))).toEqual([]);
  });

  it('is handed to the run that would start the same host, and is that process', async () => {
    const { dir, env: base } = setup();
    const env = { ...base, EXO_TOKEN: 'eyJ0eXAiOiJKV1QifQ.early.c2ln' };
    writeFileSync(join(dir, 'p.yaml'), 'tenant:\n  auth: { method: access-token, token: "${env:EXO_TOKEN}" }\n');
    expect(await startEarly(['apply', 'p.yaml'], env, dir)).not.toBeNull();
    const recipe: HostRecipe = { pwshPath: pwshPath!, modulePaths: [stubModulePath], baseEnv: env, withheldEnv: ['EXO_TOKEN'] };
    const claimed = claimEarlyHost(recipe, {});
    expect(claimed).toBeDefined();
    const session = await claimed!;
    try {
      expect(powershellWith(dir).map((p) => p.pid)).toEqual([session.pid]);
      // Claimed once: a second session of the run (the write pool) starts its own.
      expect(claimEarlyHost(recipe, {})).toBeUndefined();
    } finally {
      await session.close();
    }
    expect(await untilNone(() => powershellWith(dir))).toEqual([]);
  });

  it('is killed, not handed over, when the run would start it with another environment', async () => {
    const { dir, env } = setup();
    writeFileSync(join(dir, 'p.yaml'), 'tenant: {}\n');
    await startEarly(['apply', 'p.yaml'], env, dir);
    await until(() => powershellWith(dir).length === 1, 'the early host');
    const other: HostRecipe = { pwshPath: pwshPath!, modulePaths: [stubModulePath], baseEnv: { ...env, LANG: 'de_DE.UTF-8' }, withheldEnv: [] };
    expect(claimEarlyHost(other, {})).toBeUndefined();
    expect(await untilNone(() => powershellWith(dir))).toEqual([]);
  });

  it('sim: targets, unreadable playbooks and playbooks naming an unset variable start nothing', async () => {
    const { dir, env } = setup();
    expect(await startEarly(['apply', 'missing.yaml'], env, dir)).toBeNull();
    writeFileSync(join(dir, 'p.yaml'), 'tenant: {}\n');
    expect(await startEarly(['apply', 'p.yaml', '--target', 'sim:t.json'], env, dir)).toBeNull();
    writeFileSync(join(dir, 'unset.yaml'), 'tenant:\n  auth: { method: access-token, token: "${env:EXO_TOKEN_NOT_SET}" }\n');
    expect(await startEarly(['apply', 'unset.yaml'], env, dir)).toBeNull();
    expect(powershellWith(dir)).toEqual([]);
  });
});
