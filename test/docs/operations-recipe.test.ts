/**
 * docs/OPERATIONS.md "Install on a bare machine" is a script, not prose: this test runs its Linux block
 * with bash. What needs root or the outside world (sudo, apt-get, wget, dpkg, useradd, pwsh's Install-Module,
 * systemctl) is replaced by recorders on PATH; `install` is the real one minus owner/group; npm really
 * installs the packed tarball (from the npm cache) into a temporary prefix; the absolute paths the
 * recipe creates are moved under a temporary root. The systemd units of "Scheduling the drift check"
 * are written where step 6 installs them from, and checked with systemd-analyze where it exists.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, ROOT } from '../e2e/engine-support.js';

const doc = readFileSync(join(ROOT, 'docs', 'OPERATIONS.md'), 'utf8');

/** The first fenced block after `marker`. */
function blockAfter(marker: string, fence: string): string {
  const at = doc.indexOf(marker);
  if (at < 0) throw new Error(`docs/OPERATIONS.md has no "${marker}"`);
  const open = doc.indexOf('```' + fence + '\n', at);
  const close = doc.indexOf('\n```', open + 3 + fence.length);
  return doc.slice(open + 4 + fence.length, close + 1);
}

const MOVED = ['/etc/exo-playbook', '/var/lib/exo-playbook', '/var/log/exo-playbook', '/etc/systemd/system', '/usr/local/bin'];

let dir: string;
let root: string;
let result: ReturnType<typeof spawnSync>;

function moved(text: string): string {
  return MOVED.reduce((t, path) => t.split(path).join(`${root}${path}`), text);
}

function recorded(): string[] {
  const log = join(dir, 'recorded.log');
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
}

beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'exo-recipe-'));
  root = join(dir, 'root');
  const shims = join(dir, 'shims');
  mkdirSync(shims);
  const shim = (name: string, body: string) => {
    writeFileSync(join(shims, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(shims, name), 0o755);
  };
  const record = `printf '%s\\n' "$(basename "$0") $*" >> "${join(dir, 'recorded.log')}"`;
  shim('sudo', `${record}\nexec "$@"`);
  for (const name of ['apt-get', 'useradd', 'pwsh', 'systemctl', 'wget', 'dpkg']) shim(name, record);
  // The real install(1), without -o/-g: the test does not run as the service account's owner.
  shim('install', `${record}\norig=$#\nskip=0\nfor a in "$@"; do\n  if [ $skip = 1 ]; then skip=0; continue; fi\n  case "$a" in -o|-g) skip=1; continue;; esac\n  set -- "$@" "$a"\ndone\nshift $orig\nexec /usr/bin/install "$@"`);
  // The units from the doc, where step 6 installs them from.
  const units = blockAfter('### systemd (service + timer)', 'ini');
  for (const part of units.split(/^(?=# \/etc\/systemd\/system\/)/m).filter((p) => p.trim())) {
    const name = /^# \/etc\/systemd\/system\/(\S+)/.exec(part)![1]!;
    writeFileSync(join(dir, name), moved(part));
  }
  const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
  const [info] = JSON.parse(packed) as { filename: string }[];
  const script = moved(blockAfter('<!-- recipe: linux-bare-machine -->', 'sh')).replace(/\.\/exo-playbook-[0-9.]+\.tgz/g, `./${info!.filename}`);
  writeFileSync(join(dir, 'recipe.sh'), script);
  for (const path of ['/etc', '/var/lib', '/var/log', '/usr/local/bin', '/etc/systemd/system']) mkdirSync(join(root, path), { recursive: true });
  result = spawnSync('bash', ['-euo', 'pipefail', 'recipe.sh'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 300_000,
    env: {
      ...process.env,
      PATH: `${shims}:${join(root, 'usr', 'local', 'bin')}:${process.env.PATH}`,
      // `npm install -g` into the moved /usr/local, from the cache `npm ci` filled where it can.
      npm_config_prefix: join(root, 'usr', 'local'),
      npm_config_prefer_offline: 'true',
      npm_config_update_notifier: 'false',
      NO_COLOR: '1',
    },
  });
}, 360_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('docs/OPERATIONS.md: install on a bare Linux machine', () => {
  it('runs from top to bottom (exit 0) and installs a working exo-playbook on PATH', () => {
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(result.stdout).toContain(`${pkg.version}\n`);
    expect(existsSync(join(root, 'usr', 'local', 'bin', 'exo-playbook'))).toBe(true);
    // step 5's validate of the copied playbook
    expect(result.stdout).toMatch(/ok\s+.*smtp-auth-drift-check\.yaml/);
  });

  it('creates the service account and its directories for configuration, state, runs and logs, closed to others', () => {
    expect(recorded()).toContainEqual(expect.stringMatching(/^useradd --system .*exo-playbook$/));
    for (const path of ['/etc/exo-playbook', '/var/lib/exo-playbook', '/var/lib/exo-playbook/runs', '/var/log/exo-playbook']) {
      const mode = statSync(join(root, path)).mode & 0o777;
      expect(mode.toString(8), path).toBe('750');
    }
    expect(existsSync(join(root, 'etc', 'exo-playbook', 'smtp-auth-drift-check.yaml'))).toBe(true);
  });

  it('installs PowerShell and ExchangeOnlineManagement for all users, then the systemd units and the timer', () => {
    const lines = recorded();
    // PowerShell from Microsoft's repository: the repository package first, then the package.
    const repo = lines.findIndex((l) => /^dpkg -i \/tmp\/packages-microsoft-prod\.deb$/.test(l));
    expect(lines.some((l) => /^wget .*https:\/\/packages\.microsoft\.com\/config\/\S+\/\S+\/packages-microsoft-prod\.deb$/.test(l))).toBe(true);
    expect(repo).toBeGreaterThan(-1);
    expect(lines.findIndex((l) => l === 'apt-get install -y powershell')).toBeGreaterThan(repo);
    expect(lines).toContainEqual(expect.stringMatching(/^pwsh .*Install-Module ExchangeOnlineManagement .*-Scope AllUsers/));
    expect(lines).toContain('systemctl enable --now exo-playbook-drift-check.timer');
    expect(existsSync(join(root, 'etc', 'systemd', 'system', 'exo-playbook-drift-check.service'))).toBe(true);
    expect(existsSync(join(root, 'etc', 'systemd', 'system', 'exo-playbook-drift-check.timer'))).toBe(true);
  });

  it('the installed service unit names the installed binary and passes systemd-analyze verify', () => {
    const unit = readFileSync(join(root, 'etc', 'systemd', 'system', 'exo-playbook-drift-check.service'), 'utf8');
    const exec = /^ExecStart=(\S+)/m.exec(unit)![1]!;
    expect(existsSync(exec), exec).toBe(true);
    const analyze = spawnSync('systemd-analyze', ['verify', '--man=no', join(root, 'etc', 'systemd', 'system', 'exo-playbook-drift-check.service')], { encoding: 'utf8' });
    if (analyze.error && process.env.CI !== 'true') return; // no systemd-analyze on this machine
    expect(analyze.error).toBeUndefined();
    // The service user does not exist here; everything else must be clean.
    const problems = analyze.stderr.split('\n').filter((l) => l.trim() && !/exo-playbook.*(user|group)|Failed to resolve (user|group)|No such process|Cannot add dependency|System has not been booted|Failed to connect to bus|timers.target|network-online|\.timer/i.test(l));
    expect(problems, analyze.stderr).toEqual([]);
  });
});
