/**
 * host.ps1 spoken to directly, without PwshSession: every protocol line carries the token from the
 * hello line, one `end` per request, a line that is not a request does not stop the host, and quit
 * ends it with exit code 0.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { hostScriptPath } from '../../../src/exchange/find-pwsh.js';
import { fixtureTenant, noPwsh, pwshPath, stubModulePath, tempDir, writeState } from './pwsh-for-tests.js';

describe.skipIf(noPwsh)('host.ps1 protocol', () => {
  it('answers with token-prefixed JSON lines and survives a line that is not a request', async () => {
    const token = 'f00dfeedf00dfeedf00dfeedf00dfeed';
    const stateFile = writeState(tempDir('proto'), fixtureTenant());
    const input = [
      { type: 'hello', token, module: 'ExchangeOnlineManagement' },
      'not json at all',
      { type: 'invoke', id: 1, cmdlet: 'Connect-ExchangeOnline', parameters: { AccessToken: 't' } },
      { type: 'invoke', id: 2, cmdlet: 'Get-TransportConfig', parameters: {} },
      { type: 'quit' },
    ]
      .map((line) => (typeof line === 'string' ? line : JSON.stringify(line)))
      .join('\n');
    const result = await execa(pwshPath!, ['-NoLogo', '-NoProfile', '-NonInteractive', '-File', hostScriptPath], {
      input: `${input}\n`,
      env: { EXO_PLAYBOOK_STUB_STATE: stateFile, PSModulePath: [stubModulePath, process.env.PSModulePath ?? ''].filter(Boolean).join(delimiter) },
      reject: false,
    });
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split('\n');
    const protocol = lines.filter((l) => l.startsWith(`${token} `)).map((l) => JSON.parse(l.slice(token.length + 1)) as Record<string, unknown>);
    const stray = lines.filter((l) => !l.startsWith(`${token} `));
    // The stub's banner (Connect without -ShowBanner:$false) is the only non-protocol line.
    expect(stray).toEqual(['This V3 EXO PowerShell module contains new REST API backed Exchange Online cmdlets (stub).']);
    expect(protocol.map((m) => [m.id ?? null, m.type])).toEqual([
      [null, 'ready'],
      [1, 'end'],
      [2, 'objects'],
      [2, 'end'],
    ]);
    expect(protocol[2]).toMatchObject({ data: [{ Identity: 'Transport Settings' }] });
    expect(result.stderr).toContain('ignored a line that is not a request');
  });

  it('batches objects per line, converts only the selected properties, and keeps warnings and errors in output order', async () => {
    const token = 'feedf00dfeedf00dfeedf00dfeedf00d';
    // A module of its own whose bulk read writes 300 objects, a warning, an error, then 5 objects.
    const modules = tempDir('batchmod');
    const moduleDir = join(modules, 'ExchangeOnlineManagement');
    mkdirSync(moduleDir);
    writeFileSync(
      join(moduleDir, 'ExchangeOnlineManagement.psm1'),
      [
        'function Get-EXOCASMailbox {',
        '  [CmdletBinding()] param([object]$ResultSize, [string[]]$Properties)',
        '  for ($i = 0; $i -lt 300; $i++) { [pscustomobject]@{ PrimarySmtpAddress = "u$i@contoso.com"; Secret = "s$i"; SmtpClientAuthenticationDisabled = $null } }',
        "  $PSCmdlet.WriteWarning('in the middle')",
        "  $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new([System.InvalidOperationException]::new('mid-stream'), 'Mid', 'InvalidOperation', $null))",
        '  for ($i = 300; $i -lt 305; $i++) { [pscustomobject]@{ PrimarySmtpAddress = "u$i@contoso.com"; Secret = "s$i"; SmtpClientAuthenticationDisabled = $true } }',
        '}',
      ].join('\n'),
    );
    const input = [
      { type: 'hello', token, module: 'ExchangeOnlineManagement' },
      {
        type: 'invoke',
        id: 7,
        cmdlet: 'Get-EXOCASMailbox',
        // ErrorAction Continue: the error stays non-terminating whatever preference the module sees.
        parameters: { ResultSize: 'Unlimited', ErrorAction: 'Continue' },
        select: ['PrimarySmtpAddress', 'SmtpClientAuthenticationDisabled'],
      },
      { type: 'quit' },
    ]
      .map((line) => JSON.stringify(line))
      .join('\n');
    const result = await execa(pwshPath!, ['-NoLogo', '-NoProfile', '-NonInteractive', '-File', hostScriptPath], {
      input: `${input}\n`,
      env: { PSModulePath: [modules, process.env.PSModulePath ?? ''].filter(Boolean).join(delimiter) },
      reject: false,
    });
    expect(result.exitCode).toBe(0);
    const protocol = result.stdout
      .split('\n')
      .filter((l) => l.startsWith(`${token} `))
      .map((l) => JSON.parse(l.slice(token.length + 1)) as { type: string; data?: Record<string, unknown>[]; message?: string });
    const kinds = protocol.slice(1).map((m) => (m.type === 'objects' ? `objects:${m.data!.length}` : m.type));
    // At most 256 per line; the 300 before the warning all arrive before it, the 5 after the error after it.
    expect(kinds.at(-1), JSON.stringify(protocol.slice(-3))).toBe('end');
    const warningAt = kinds.indexOf('warning');
    expect(kinds[warningAt + 1], JSON.stringify(kinds)).toBe('error');
    const count = (from: number, to: number): number =>
      protocol
        .slice(1)
        .slice(from, to)
        .reduce((n, m) => n + (m.data?.length ?? 0), 0);
    expect(count(0, warningAt)).toBe(300);
    expect(count(warningAt, kinds.length)).toBe(5);
    expect(kinds.slice(0, warningAt).every((k) => k.startsWith('objects:') && Number(k.slice(8)) <= 256)).toBe(true);
    expect(kinds.slice(0, warningAt).length).toBeLessThan(300);
    const objects = protocol.flatMap((m) => (m.type === 'objects' ? m.data! : []));
    expect(objects[0]).toEqual({ PrimarySmtpAddress: 'u0@contoso.com', SmtpClientAuthenticationDisabled: null });
    expect(objects[304]).toEqual({ PrimarySmtpAddress: 'u304@contoso.com', SmtpClientAuthenticationDisabled: true });
  });
});
