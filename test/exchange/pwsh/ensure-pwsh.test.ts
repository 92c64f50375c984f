/**
 * scripts/ensure-pwsh.mjs, run from a copy in a scratch project: the pinned install is a no-op that
 * starts nothing; a PowerShell that is not 7.6.x is refused with a message that says what to do; with
 * no pwsh and no dotnet it fails under CI=true and only warns elsewhere; with dotnet it installs
 * exactly the pinned version of the `PowerShell` .NET tool into .tools/pwsh.
 */
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { pinnedPwshVersion } from '../../../src/exchange/find-pwsh.js';
import { tempDir } from './pwsh-for-tests.js';

const repo = resolve(import.meta.dirname, '..', '..', '..');
const PINNED = pinnedPwshVersion();

/** A project with only the script, package.json, node_modules, and a PATH holding nothing but bash. */
function scratchProject(): { root: string; bin: string; env: Record<string, string> } {
  const root = tempDir('ensure');
  mkdirSync(join(root, 'scripts'));
  copyFileSync(join(repo, 'scripts', 'ensure-pwsh.mjs'), join(root, 'scripts', 'ensure-pwsh.mjs'));
  copyFileSync(join(repo, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  const bin = join(root, 'bin');
  mkdirSync(bin);
  symlinkSync('/bin/bash', join(bin, 'bash'));
  return { root, bin, env: { PATH: bin, HOME: root, TMPDIR: tmpdir() } };
}

/** A fake pwsh that answers the version question with `version`, and fails loudly on anything else. */
function fakePwsh(file: string, version: string): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/bash\ncase "$*" in *PSVersion*) echo ${version}; exit 0;; esac\necho "unexpected: $*" >&2\nexit 99\n`);
  chmodSync(file, 0o755);
  return file;
}

function run(root: string, env: Record<string, string>) {
  return execa(process.execPath, [join(root, 'scripts', 'ensure-pwsh.mjs')], { env, extendEnv: false, reject: false, timeout: 120_000 });
}

describe.skipIf(process.platform === 'win32')('ensure-pwsh', () => {
  it('pins one exact version in package.json', () => {
    expect(PINNED).toBe('7.6.9');
    expect(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).config.pwshVersion).toBe(PINNED);
  });

  it('is a fast no-op when .tools/pwsh holds the pinned install, without starting it', async () => {
    const { root, env } = scratchProject();
    const tools = join(root, '.tools', 'pwsh');
    mkdirSync(tools, { recursive: true });
    // A pwsh that fails loudly if anything runs it.
    writeFileSync(join(tools, 'pwsh'), '#!/bin/bash\necho "must not be started" >&2\nexit 99\n');
    chmodSync(join(tools, 'pwsh'), 0o755);
    writeFileSync(join(tools, 'VERSION'), `PowerShell ${PINNED} (dotnet tool)\n`);
    const result = await run(root, env);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`ensure-pwsh: ${join(tools, 'pwsh')} (.tools/pwsh): PowerShell ${PINNED} (dotnet tool)`);
    expect(result.stderr).not.toContain('must not be started');
  });

  it.each(['7.5.4', '7.7.0', '7.4.6'])('refuses EXO_PLAYBOOK_PWSH when it is PowerShell %s, under CI and elsewhere', async (version) => {
    const { root, env } = scratchProject();
    const pwsh = fakePwsh(join(root, 'other', 'pwsh'), version);
    for (const ci of [{ CI: 'true' }, {}] as Record<string, string>[]) {
      const result = await run(root, { ...env, ...ci, EXO_PLAYBOOK_PWSH: pwsh });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`${pwsh} ($EXO_PLAYBOOK_PWSH) is PowerShell ${version}; exo-playbook is tested with PowerShell 7.6.x only (pinned: ${PINNED})`);
    }
  });

  it('accepts EXO_PLAYBOOK_PWSH when it is another 7.6 patch release', async () => {
    const { root, env } = scratchProject();
    const pwsh = fakePwsh(join(root, 'other', 'pwsh'), '7.6.3');
    const result = await run(root, { ...env, CI: 'true', EXO_PLAYBOOK_PWSH: pwsh });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(`ensure-pwsh: ${pwsh} ($EXO_PLAYBOOK_PWSH): PowerShell 7.6.3`);
  });

  it('refuses a pwsh on PATH that is not 7.6.x when there is no dotnet to install the pin', async () => {
    const { root, bin, env } = scratchProject();
    fakePwsh(join(bin, 'pwsh'), '7.5.4');
    const result = await run(root, { ...env, CI: 'true' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`is PowerShell 7.5.4, not 7.6.x, and there is no \`dotnet\` to install ${PINNED} with`);
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

  it('installs exactly the pinned PowerShell .NET tool into .tools/pwsh, replacing another version', async () => {
    const dotnet = await execa('bash', ['-c', 'command -v dotnet'], { reject: false });
    if (dotnet.exitCode !== 0) {
      if (process.env.CI === 'true') throw new Error('dotnet is required under CI=true to install PowerShell');
      return;
    }
    const { root, bin, env } = scratchProject();
    symlinkSync(dotnet.stdout.trim(), join(bin, 'dotnet'));
    // `dotnet tool install` runs system tools of its own: give it the system folders too.
    env.PATH = `${bin}:/usr/bin:/bin`;
    // A stale install of another version, recorded as such.
    const tools = join(root, '.tools', 'pwsh');
    fakePwsh(join(tools, 'pwsh'), '7.6.1');
    writeFileSync(join(tools, 'VERSION'), 'PowerShell 7.6.1 (dotnet tool)\n');
    const result = await run(root, { ...env, HOME: process.env.HOME ?? root, CI: 'true', DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`dotnet tool install PowerShell --version ${PINNED} --tool-path .tools/pwsh`);
    expect(readFileSync(join(tools, 'VERSION'), 'utf8')).toBe(`PowerShell ${PINNED} (dotnet tool)\n`);
    const version = await execa(join(tools, 'pwsh'), ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', '$PSVersionTable.PSVersion.ToString()'], {
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: process.env.HOME ?? root, TMPDIR: tmpdir() },
      extendEnv: false,
    });
    expect(version.stdout.trim()).toBe(PINNED);
  });
});
