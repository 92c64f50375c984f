/**
 * scripts/ensure-pwsh.mjs, run from a copy in a scratch project: a recorded install is a no-op that
 * starts nothing; with no pwsh and no dotnet it fails under CI=true and only warns elsewhere.
 */
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { tempDir } from './pwsh-for-tests.js';

const repo = resolve(import.meta.dirname, '..', '..', '..');

/** A project with only the script, node_modules, and a PATH holding nothing but bash. */
function scratchProject(): { root: string; env: Record<string, string> } {
  const root = tempDir('ensure');
  mkdirSync(join(root, 'scripts'));
  copyFileSync(join(repo, 'scripts', 'ensure-pwsh.mjs'), join(root, 'scripts', 'ensure-pwsh.mjs'));
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  const bin = join(root, 'bin');
  mkdirSync(bin);
  symlinkSync('/bin/bash', join(bin, 'bash'));
  return { root, env: { PATH: bin, HOME: root } };
}

function run(root: string, env: Record<string, string>) {
  return execa(process.execPath, [join(root, 'scripts', 'ensure-pwsh.mjs')], { env, extendEnv: false, reject: false, timeout: 60_000 });
}

describe.skipIf(process.platform === 'win32')('ensure-pwsh', () => {
  it('is a fast no-op when .tools/pwsh holds a recorded install, without starting it', async () => {
    const { root, env } = scratchProject();
    const tools = join(root, '.tools', 'pwsh');
    mkdirSync(tools, { recursive: true });
    // A pwsh that fails loudly if anything runs it.
    writeFileSync(join(tools, 'pwsh'), '#!/bin/bash\necho "must not be started" >&2\nexit 99\n');
    chmodSync(join(tools, 'pwsh'), 0o755);
    writeFileSync(join(tools, 'VERSION'), 'PowerShell 7.6.1 (dotnet tool)\n');
    const started = Date.now();
    const result = await run(root, env);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`ensure-pwsh: ${join(tools, 'pwsh')} (.tools/pwsh): PowerShell 7.6.1 (dotnet tool)`);
    expect(result.stderr).not.toContain('must not be started');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('fails under CI=true when there is neither pwsh nor dotnet, and only warns outside CI', async () => {
    const { root, env } = scratchProject();
    const inCi = await run(root, { ...env, CI: 'true' });
    expect(inCi.exitCode).toBe(1);
    expect(inCi.stderr).toContain('no pwsh found and no `dotnet` to install one with');
    expect(inCi.stderr).toContain('EXO_PLAYBOOK_PWSH');
    const local = await run(root, env);
    expect(local.exitCode).toBe(0);
    expect(local.stderr).toContain('tests that need pwsh will be skipped');
  });
});
