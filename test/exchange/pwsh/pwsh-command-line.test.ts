/**
 * The pwsh command line the bridge relies on, for the pwsh findPwsh() picked (PowerShell 7.6.x, the
 * pinned version): -Version, -File with arguments and `exit N`, -Command, UTF-8 without BOM both
 * ways, and Import-Module by name through PSModulePath.
 */
import { writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { requiredPwshSeries } from '../../../src/exchange/find-pwsh.js';
import { noPwsh, pwshPath, stubModulePath, tempDir } from './pwsh-for-tests.js';

const flags = ['-NoLogo', '-NoProfile', '-NonInteractive'];

describe.skipIf(noPwsh)('the pwsh command line', () => {
  it('is PowerShell of the pinned minor version (package.json config.pwshVersion)', async () => {
    const result = await execa(pwshPath!, ['-Version']);
    expect(result.stdout.startsWith(`PowerShell ${requiredPwshSeries()}.`), result.stdout).toBe(true);
  });

  it('runs -File with arguments, streams output, and exits with the script\'s code', async () => {
    const script = join(tempDir('host'), 'script.ps1');
    writeFileSync(script, 'param($a, $b)\n"a=$a"\n"b=$b"\n[Console]::Error.WriteLine("to stderr")\nexit 7\n');
    const result = await execa(pwshPath!, [...flags, '-File', script, 'one', 'two words'], { reject: false });
    expect(result.exitCode).toBe(7);
    expect(result.stdout.split('\n')).toEqual(['a=one', 'b=two words']);
    expect(result.stderr).toContain('to stderr');
  });

  it('runs -Command and fails with exit 1 on a terminating error', async () => {
    expect((await execa(pwshPath!, [...flags, '-Command', '1 + 1'])).stdout).toBe('2');
    const failed = await execa(pwshPath!, [...flags, '-Command', 'throw "boom"'], { reject: false });
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toContain('boom');
  });

  it('reads and writes UTF-8 without a BOM', async () => {
    const script = join(tempDir('host'), 'echo.ps1');
    writeFileSync(script, '[Console]::InputEncoding = [Text.UTF8Encoding]::new($false)\n[Console]::OutputEncoding = [Text.UTF8Encoding]::new($false)\n[Console]::Out.WriteLine([Console]::In.ReadLine())\n');
    const text = 'Zoë ✓ \u05e9\u05dc\u05d5\u05dd \u{1f600}';
    const result = await execa(pwshPath!, [...flags, '-File', script], { input: `${text}\n`, encoding: 'buffer' });
    const bytes = Buffer.from(result.stdout);
    expect(bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
    expect(bytes.toString('utf8').trim()).toBe(text);
  });

  it('imports a module by name from PSModulePath', async () => {
    const result = await execa(pwshPath!, [...flags, '-Command', 'Import-Module ExchangeOnlineManagement; (Get-Module ExchangeOnlineManagement).Version.ToString()'], {
      env: { PSModulePath: [stubModulePath, process.env.PSModulePath ?? ''].filter(Boolean).join(delimiter) },
    });
    expect(result.stdout.trim()).toBe('3.9.0');
  });
});
