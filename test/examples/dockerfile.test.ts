/**
 * The container recipe (examples/container/Dockerfile), checked for what the issue asks of it: Node 20,
 * PowerShell 7.6 (the pinned version) with ExchangeOnlineManagement, exo-playbook from the packed
 * tarball, a non-root user, the state and runs folders as volumes, no secret in the image. A real
 * build needs a Docker daemon and the network (the base image, PowerShell's release, the PowerShell
 * Gallery): it runs only when EXO_PLAYBOOK_DOCKER_BUILD=1 and `docker info` works; otherwise these
 * checks read the file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../e2e/engine-support.js';

const FILE = join(ROOT, 'examples', 'container', 'Dockerfile');
const text = readFileSync(FILE, 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; config: { pwshVersion: string }; engines: { node: string } };

/** Instructions, continuation lines joined, comments dropped: [keyword, arguments]. */
const instructions = text
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => [l.split(/\s+/)[0]!.toUpperCase(), l.slice(l.indexOf(' ') + 1)] as const);
const all = (keyword: string) => instructions.filter(([k]) => k === keyword).map(([, a]) => a);

describe('examples/container/Dockerfile', () => {
  it('starts from Node 20 (the package\'s engines) on a pinned Debian release, never :latest', () => {
    const from = all('FROM');
    expect(from).toHaveLength(1);
    expect(from[0]).toMatch(/^node:20-bookworm(-slim)?$/);
    expect(pkg.engines.node).toMatch(/^>=20\./);
    expect(text).not.toMatch(/:latest\b/);
  });

  it('installs the pinned PowerShell 7.6 and ExchangeOnlineManagement for all users', () => {
    expect(all('ARG')).toContain(`PWSH_VERSION=${pkg.config.pwshVersion}`);
    expect(pkg.config.pwshVersion).toMatch(/^7\.6\.\d+$/);
    const run = all('RUN').join('\n');
    expect(run).toContain('https://github.com/PowerShell/PowerShell/releases/download/v${PWSH_VERSION}/powershell-${PWSH_VERSION}-linux-x64.tar.gz');
    expect(run).toMatch(/Install-Module ExchangeOnlineManagement -MinimumVersion \S+ -Scope AllUsers/);
    expect(run).toMatch(/libicu\d+/);
  });

  it('installs exo-playbook from the tarball npm pack makes', () => {
    expect(all('COPY')).toContain('exo-playbook-*.tgz /tmp/');
    expect(all('RUN').join('\n')).toMatch(/npm install -g [^\n]*\/tmp\/exo-playbook-\*\.tgz/);
    expect(text).not.toMatch(/npm install -g [^\n]*exo-playbook@/);
  });

  it('runs as a non-root user, with the state and runs folders as volumes and the runs folder as the default --runs-dir', () => {
    const user = all('USER');
    expect(user).toHaveLength(1);
    expect(user[0]).not.toMatch(/^(root|0)(:|$)/);
    // USER comes after the last RUN: nothing the image runs later is root.
    const last = (k: string) => instructions.map(([x]) => x).lastIndexOf(k);
    expect(last('USER')).toBeGreaterThan(last('RUN'));
    const volumes = all('VOLUME').flatMap((v) => JSON.parse(v) as string[]);
    expect(volumes).toEqual(['/var/lib/exo-playbook', '/var/lib/exo-playbook/runs']);
    expect(all('WORKDIR')).toEqual(['/var/lib/exo-playbook']);
    expect(all('ENTRYPOINT')).toEqual(['["exo-playbook"]']);
  });

  it('bakes no secret in: no credential variable, no key or env file copied', () => {
    for (const env of all('ENV')) expect(env).not.toMatch(/PASSWORD|SECRET|TOKEN|CERT_PEM|APP_ID|WEBHOOK/i);
    for (const copy of all('COPY')) expect(copy).not.toMatch(/\.pem|\.pfx|env\b/);
  });

  const build = process.env.EXO_PLAYBOOK_DOCKER_BUILD === '1' && spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0;
  it.runIf(build)('builds, and the image runs exo-playbook --version as a non-root user', () => {
    const tarball = readdirSync(ROOT).find((f) => /^exo-playbook-.*\.tgz$/.test(f));
    if (!tarball) execFileSync('npm', ['pack', '--ignore-scripts'], { cwd: ROOT });
    execFileSync('docker', ['build', '-f', FILE, '-t', 'exo-playbook:test', ROOT], { stdio: 'inherit' });
    expect(execFileSync('docker', ['run', '--rm', 'exo-playbook:test', '--version'], { encoding: 'utf8' }).trim()).toBe(pkg.version);
    expect(execFileSync('docker', ['run', '--rm', '--entrypoint', 'id', 'exo-playbook:test', '-u'], { encoding: 'utf8' }).trim()).not.toBe('0');
  });
});
