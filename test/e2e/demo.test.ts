/**
 * `npm run demo` works from a built checkout and ends compliant (it fails itself on any unexpected exit code).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from './smtp-auth-support.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('runs plan (2), refused apply (4), accepted apply (0) and verify (0), and prints the journal and report', async () => {
    const demoDir = mkdtempSync(join(tmpdir(), 'exo-demo-'));
    dir = demoDir;
    const result = await new Promise<{ code: number; out: string }>((done) => {
      execFile(
        process.execPath,
        [join(ROOT, 'node_modules', 'zx', 'build', 'cli.js'), join(ROOT, 'scripts', 'demo.mjs')],
        { cwd: ROOT, env: { ...process.env, EXO_PLAYBOOK_DEMO_DIR: demoDir, EXO_PLAYBOOK_LOCK_DIR: join(demoDir, 'locks'), NO_COLOR: '1', FORCE_COLOR: '0' }, timeout: 240_000 },
        (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: stdout + stderr }),
      );
    });
    expect(result.code, result.out).toBe(0);
    expect(result.out).toContain('→ exit 2 (changes pending');
    expect(result.out).toContain('→ exit 4 (refused by the lockout guard');
    expect(result.out).toContain('→ exit 0 (compliant');
    // Probes: the allowlisted device accepted, then refused once Microsoft's Basic default is on.
    expect(result.out).toContain('→ exit 0 (the allowlisted device still gets in');
    expect(result.out).toContain('→ exit 2 (drift: the allowlisted device is refused');
    expect(result.out).toContain('535 5.7.139 Authentication unsuccessful, basic authentication is disabled.');
    // One sender from Basic to OAuth proven (smtp-auth-oauth-migration.yaml on the simulated tenant).
    expect(result.out).toMatch(/Basic only\s+OAuth provisioned/);
    expect(result.out).toMatch(/PASS oauth-proven \S+: OAuth proven: Scanner app signed in as it with XOAUTH2 \(235 2\.7\.0 Authentication successful\)/);
    expect(result.out).toContain('→ exit 0 (written, then proven');
    // The fleet: 25 simulated tenants, approval once, the guard's refusals named per tenant.
    expect(result.out).toContain('A fleet of 25 simulated tenants');
    expect(result.out).toContain('→ exit 2 (fleet plan: changes pending in every tenant');
    expect(result.out).toContain('→ exit 4 (fleet apply of exactly the reviewed plans');
    expect(result.out).toMatch(/-[a-z]+\.onmicrosoft\.com\s+refused\s+4\s+refused \(breakage\)/);
    expect(result.out).toContain('→ exit 2 (fleet verify: the applied tenants compliant');
    const journal = /journal: (\S+)/.exec(result.out)?.[1];
    expect(journal).toBeDefined();
    expect(existsSync(join(ROOT, journal!))).toBe(true);
  });
});
