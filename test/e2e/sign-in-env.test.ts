/**
 * Sign-in variables (tenant.auth) matter only when the run signs in to a real tenant: the shipped
 * drift-check runs against a simulated tenant on a machine with no credentials at all, while
 * `--target exchange` stops before starting anything, naming the variable and its place.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from './smtp-auth-support.js';

const dir = mkdtempSync(join(tmpdir(), 'exo-sign-in-env-'));
const bareEnv = { PATH: process.env.PATH ?? '', NO_COLOR: '1', EXO_PLAYBOOK_LOCK_DIR: join(dir, 'locks'), TMPDIR: tmpdir() };

function cli(args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, env: bareEnv, encoding: 'utf8', timeout: 240_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/bundle/exo-playbook.mjs'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  for (const file of ['smtp-auth-drift-check.yaml', 'allowlist.example.txt']) copyFileSync(join(ROOT, 'playbooks', file), join(dir, file));
  expect(cli(['sim', 'init', 'tenant.json', '--mailboxes', '50', '--seed', 'sign-in-env']).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sign-in variables', () => {
  it('a simulated tenant needs none: verify runs to a verdict (drift, exit 2), not an error', () => {
    const result = cli(['verify', 'smtp-auth-drift-check.yaml', '--target', 'sim:tenant.json']);
    expect(result.stderr).not.toContain('EXO_APP_ID');
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/DRIFT/);
  });

  it('a real tenant needs them: exit 1 before anything starts, naming the variable where the playbook uses it', () => {
    const result = cli(['verify', 'smtp-auth-drift-check.yaml', '--target', 'exchange']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^smtp-auth-drift-check\.yaml:10:\d+: environment variable EXO_APP_ID is not set \(tenant\.auth\.appId\)$/m);
  });
});
