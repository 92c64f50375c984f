/**
 * Installing like a user would: `npm pack`, then `npm install -g` of the tarball into a temporary
 * prefix (from a copy of the npm cache `npm ci` filled, test/support/npm-cache.ts; the registry only for what it lacks), and the installed `exo-playbook` found on
 * PATH runs --version, validate and plan against a simulated tenant, with no dev dependency present.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededNpmCache } from '../support/npm-cache.js';
import { assertBuilt, ROOT } from './engine-support.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let dir: string;
let tarball: string;
let prefix: string;
let installLog: string;

/** Only PATH with the prefix's bin first, like a shell after the install; no test or CI variables. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: [join(prefix, 'bin'), process.env.PATH].join(delimiter), HOME: dir, TMPDIR: tmpdir(), NO_COLOR: '1' };
  return env;
}

function exo(args: string[], cwd: string) {
  // Found through PATH, exactly as a user types it.
  return spawnSync('exo-playbook', args, { cwd, env: userEnv(), encoding: 'utf8', timeout: 240_000 });
}

beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'exo-install-'));
  prefix = join(dir, 'prefix');
  // dist/ is already built (the e2e precondition); --ignore-scripts avoids rebuilding it under the
  // other tests' feet. `prepare` is what builds it for a real `npm pack`.
  const packed = execFileSync(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
  const [info] = JSON.parse(packed) as { filename: string; files: { path: string }[] }[];
  tarball = join(dir, info!.filename);
  // --prefer-offline: what `npm ci` put in the cache first (a fresh CI machine may lack registry metadata that a lockfile install never fetched). Scripts allowed: prepare must not break (npm does
  // not run it for a tarball, and the log below shows it did not).
  const install = spawnSync(
    npm,
    ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', '--dangerously-allow-all-scripts', tarball],
    { cwd: dir, encoding: 'utf8', timeout: 300_000, env: { ...process.env, npm_config_cache: seededNpmCache(join(dir, 'npm-cache')), npm_config_update_notifier: 'false' } },
  );
  installLog = `${install.stdout}\n${install.stderr}`;
  if (install.status !== 0) throw new Error(`npm install -g failed (${install.status}):\n${installLog}`);
}, 360_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('from a checkout', () => {
  it('`npx exo-playbook` runs the checkout\'s own command (no install, no download)', () => {
    // npm's own start is slow (~10 s of CPU to read the project's tree, 30 s+ on a loaded machine):
    // the ceiling is generous. Its cache is the run's (npm_config_cache), never the user's ~/.npm.
    const r = spawnSync(npm, ['exec', '--no', '--offline', '--', 'exo-playbook', '--version'], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    expect(r.error?.message, 'npm exec ended within 240 s').toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});

describe('npm pack + npm install -g', () => {
  it('packs dist/, the bin, host.ps1, the playbooks and the output schemas, and no sources or tests', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(files).toContain('package/dist/cli/main.js');
    expect(files).toContain('package/dist/bundle/exo-playbook.mjs'); // what the bin runs (scripts/bundle.mjs)
    expect(files).toContain('package/bin/exo-playbook.js');
    expect(files).toContain('package/src/exchange/pwsh/host.ps1');
    expect(files).toContain('package/playbooks/smtp-auth-disable.yaml');
    expect(files.filter((f) => f.startsWith('package/schemas/') && f.endsWith('.schema.json')).length).toBeGreaterThanOrEqual(4);
    expect(files.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('package/test/'))).toEqual([]);
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as { private?: boolean };
    expect(manifest.private).toBeUndefined();
  });

  it('puts exo-playbook on PATH without dev dependencies, and never ran the build on install', () => {
    const installed = join(prefix, process.platform === 'win32' ? '' : 'lib', 'node_modules', 'exo-playbook');
    expect(existsSync(join(installed, 'src', 'exchange', 'pwsh', 'host.ps1'))).toBe(true);
    const modules = readdirSync(join(installed, 'node_modules'));
    for (const dev of Object.keys(pkg.devDependencies)) expect(modules, dev).not.toContain(dev.split('/')[0]);
    expect(modules).toContain('commander');
    expect(installLog).not.toContain('tsc -p');
    const version = exo(['--version'], dir);
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  it('validates and plans the shipped playbooks against a simulated tenant, from PATH', () => {
    const work = mkdtempSync(join(dir, 'work-'));
    const installed = join(prefix, 'lib', 'node_modules', 'exo-playbook', 'playbooks');
    const init = exo(['sim', 'init', 'tenant.json', '--mailboxes', '60', '--seed', 'install-test'], work);
    expect(init.status, init.stderr).toBe(0);
    const validate = exo(['validate', join(installed, 'smtp-auth-disable.yaml'), join(installed, 'smtp-auth-drift-check.yaml')], work);
    expect(validate.status, validate.stderr).toBe(0);
    expect(validate.stdout).toContain('ok  ');
    const plan = exo(['plan', join(installed, 'smtp-auth-drift-check.yaml'), '--target', 'sim:tenant.json'], work);
    expect(plan.status, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('Plan: smtp-auth-drift-check');
    expect(plan.stdout).toContain('Summary: 0 changes');
  });
});
