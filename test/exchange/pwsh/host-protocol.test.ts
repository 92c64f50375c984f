/**
 * host.ps1 spoken to directly, without PwshSession: every protocol line carries the token from the
 * hello line, one `end` per request, a line that is not a request does not stop the host, and quit
 * ends it with exit code 0.
 */
import { delimiter } from 'node:path';
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
      [2, 'object'],
      [2, 'end'],
    ]);
    expect(protocol[2]).toMatchObject({ data: { Identity: 'Transport Settings' } });
    expect(result.stderr).toContain('ignored a line that is not a request');
  });
});
