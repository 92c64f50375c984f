/**
 * The stub module and the simulator take the real cmdlets' parameters, and only those (issue 9 part 4):
 * every parameter a stub function declares (read through real pwsh) or a simulated cmdlet's table lists
 * must exist on the real cmdlet (test/fixtures/exo-cmdlet-signatures.json, sources beside it) with the
 * same .NET type. The stub may stand in System.Object for Exchange's own types, which it cannot load.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SIMULATED_CMDLETS } from '../../src/exchange/simulator/cmdlets/index.js';
import { ALLOWED_CMDLETS } from '../../src/exchange/session.js';
import { noPwsh, pwshPath } from './pwsh/pwsh-for-tests.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
type Signatures = Record<string, { name: string; type: string }[]>;
const REAL = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'exo-cmdlet-signatures.json'), 'utf8')) as Signatures;

/** Differences between what a backend declares and what the real cmdlet takes, one line each. */
function mismatches(cmdlet: string, declared: { name: string; type: string }[], standIns: boolean): string[] {
  const real = REAL[cmdlet];
  if (!real) return [`${cmdlet}: not in the signature file`];
  const problems: string[] = [];
  for (const parameter of declared) {
    const match = real.find((r) => r.name.toLowerCase() === parameter.name.toLowerCase());
    if (!match) problems.push(`${cmdlet} -${parameter.name}: the real cmdlet has no such parameter`);
    else if (match.type !== parameter.type && !(standIns && match.type.startsWith('Microsoft.Exchange.') && parameter.type === 'System.Object')) {
      problems.push(`${cmdlet} -${parameter.name}: ${parameter.type}, the real cmdlet takes ${match.type}`);
    }
  }
  return problems;
}

describe('cmdlet signatures', () => {
  it("host.ps1's own allowlist (what the host itself refuses beyond) is exactly the session's", () => {
    const host = readFileSync(join(ROOT, 'src', 'exchange', 'pwsh', 'host.ps1'), 'utf8');
    const list = /\$script:AllowedCmdlets = \[System\.Collections\.Generic\.HashSet\[string\]\]::new\(\s*\[string\[\]\]@\(([^)]*)\)/.exec(host);
    expect(list, 'the $script:AllowedCmdlets list in host.ps1').not.toBeNull();
    const names = [...list![1]!.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
    expect([...names].sort()).toEqual([...ALLOWED_CMDLETS].sort());
  });

  it('the signature file covers every cmdlet a session may run', () => {
    expect(ALLOWED_CMDLETS.filter((c) => !REAL[c])).toEqual([]);
    // Facts the issue names, so an edit to the file cannot quietly drop them.
    expect(REAL['Get-TransportConfig']!.some((p) => p.name === 'Identity')).toBe(false);
    expect(REAL['Start-HistoricalSearch']!.filter((p) => /^(Confirm|WhatIf)$/.test(p.name))).toEqual([]);
    expect(REAL['Stop-HistoricalSearch']).toEqual([{ name: 'JobId', type: 'System.Guid' }]);
    expect(REAL['Set-AuthenticationPolicy']!.find((p) => p.name === 'AllowBasicAuthSmtp')!.type).toBe('System.Management.Automation.SwitchParameter');
  });

  it('the simulator takes only real parameters, with the real types', () => {
    const problems = Object.entries(SIMULATED_CMDLETS).flatMap(([cmdlet, definition]) =>
      mismatches(cmdlet, definition.parameters.map((p) => ({ name: p.name, type: p.clr })), false),
    );
    expect(problems).toEqual([]);
  });

  it('notices a simulated parameter the real cmdlet lacks (the check can fail)', () => {
    expect(mismatches('Get-TransportConfig', [{ name: 'Identity', type: 'System.String' }], false)).toEqual(['Get-TransportConfig -Identity: the real cmdlet has no such parameter']);
    expect(mismatches('Stop-HistoricalSearch', [{ name: 'JobId', type: 'System.String' }], true)).toHaveLength(1);
  });

  it.skipIf(noPwsh)('the stub module takes only real parameters, with the real types (read through real pwsh)', () => {
    const script = [
      `Import-Module (Join-Path '${join(ROOT, 'test', 'fixtures', 'modules').replace(/'/g, "''")}' 'ExchangeOnlineManagement') -DisableNameChecking`,
      '$common = [System.Management.Automation.PSCmdlet]::CommonParameters',
      '$out = [ordered]@{}',
      'foreach ($command in Get-Command -Module ExchangeOnlineManagement) {',
      '  $out[$command.Name] = @($command.Parameters.Values | Where-Object { $common -notcontains $_.Name } | ForEach-Object { [ordered]@{ name = $_.Name; type = $_.ParameterType.FullName } })',
      '}',
      '$out | ConvertTo-Json -Depth 4 -Compress',
    ].join('\n');
    const json = execFileSync(pwshPath!, ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', script], { encoding: 'utf8' });
    const stub = JSON.parse(json) as Signatures;
    expect(Object.keys(stub).sort()).toEqual([...ALLOWED_CMDLETS].sort());
    const problems = Object.entries(stub).flatMap(([cmdlet, parameters]) => mismatches(cmdlet, parameters, true));
    expect(problems).toEqual([]);
  });
});
