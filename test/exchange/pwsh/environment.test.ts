/**
 * The environment PowerShell gets (src/exchange/pwsh/environment.ts): the allowlisted variables of
 * the CLI's environment, the caller's explicit ones, never a withheld one, never anything else.
 */
import { describe, expect, it } from 'vitest';
import { pwshEnvironment } from '../../../src/exchange/pwsh/environment.js';

const CLI_ENV = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/ops',
  TMPDIR: '/tmp/ops',
  LANG: 'de_DE.UTF-8',
  LC_TIME: 'en_GB.UTF-8',
  DOTNET_ROOT: '/usr/share/dotnet',
  HTTPS_PROXY: 'http://proxy.contoso.com:3128',
  PSModulePath: '/opt/modules',
  EXO_PLAYBOOK_STUB_STATE: '/tmp/state.json',
  EXO_STUB_STATE_DIR: '/tmp/fleet/tenants',
  AZURE_CLIENT_SECRET: 'secret-1',
  EXO_CERT_PASSWORD: 'secret-2',
  EXO_WEBHOOK: 'https://contoso.webhook.office.com/secret-3',
  MY_TOKEN_XYZ: 'secret-4',
  GITHUB_TOKEN: 'secret-5',
  EXO_PLAYBOOK_PWSH: '/opt/pwsh/pwsh',
};

describe('pwshEnvironment', () => {
  it('passes only the allowlist, puts module paths first, and turns telemetry and colour off', () => {
    const env = pwshEnvironment({ base: CLI_ENV, modulePaths: ['/stub/modules'] });
    expect(env).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/ops',
      TMPDIR: '/tmp/ops',
      LANG: 'de_DE.UTF-8',
      LC_TIME: 'en_GB.UTF-8',
      DOTNET_ROOT: '/usr/share/dotnet',
      HTTPS_PROXY: 'http://proxy.contoso.com:3128',
      PSModulePath: '/stub/modules:/opt/modules',
      EXO_PLAYBOOK_STUB_STATE: '/tmp/state.json',
      EXO_STUB_STATE_DIR: '/tmp/fleet/tenants',
      DOTNET_TieredPGO: '0',
      DOTNET_gcConcurrent: '0',
      NO_COLOR: '1',
      POWERSHELL_TELEMETRY_OPTOUT: '1',
      POWERSHELL_UPDATECHECK: 'Off',
    });
    expect(JSON.stringify(env)).not.toMatch(/secret-\d/);
  });

  it("turns .NET's dynamic PGO off (DOTNET_TieredPGO=0) unless the CLI's environment chooses", () => {
    expect(pwshEnvironment({ base: CLI_ENV }).DOTNET_TieredPGO).toBe('0');
    expect(pwshEnvironment({ base: { ...CLI_ENV, DOTNET_TieredPGO: '1' } }).DOTNET_TieredPGO).toBe('1');
  });

  it('turns background garbage collection off (DOTNET_gcConcurrent=0) unless the CLI\'s environment chooses', () => {
    expect(pwshEnvironment({ base: CLI_ENV }).DOTNET_gcConcurrent).toBe('0');
    expect(pwshEnvironment({ base: { ...CLI_ENV, DOTNET_gcConcurrent: '1' } }).DOTNET_gcConcurrent).toBe('1');
  });

  it('never passes a withheld variable, even an allowlisted or explicit one', () => {
    const env = pwshEnvironment({ base: { ...CLI_ENV, DOTNET_TOKEN: 'secret-6' }, extra: { EXO_TOKEN: 'secret-7', EXTRA: 'x' }, withheld: ['DOTNET_TOKEN', 'EXO_TOKEN'] });
    expect(env.EXTRA).toBe('x');
    expect(JSON.stringify(env)).not.toMatch(/secret-\d/);
  });
});
