/** `exo-playbook sim init|show` through the built CLI (run `npm run build` first). */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const bin = path.resolve(import.meta.dirname, '../../bin/exo-playbook.js');
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sim-cli-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('exo-playbook sim init', () => {
  it('writes a tenant and prints a one-paragraph summary', async () => {
    const result = await cli('sim', 'init', 'tenant.json', '--mailboxes', '200', '--seed', 'demo', '--org-smtp-auth', 'enabled');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Wrote tenant\.json\. contoso\.onmicrosoft\.com: SMTP AUTH is ON for the organization/);
    expect(result.stdout).toMatch(/200 mailboxes \(/);
    expect(result.stdout).toMatch(/\d+ with an explicit \$false/);
    expect(result.stdout).toMatch(/\d+ SMTP AUTH senders/);
    expect(result.stdout).toContain('--target sim:tenant.json');
    const state = JSON.parse(await readFile(path.join(dir, 'tenant.json'), 'utf8'));
    expect(state.schemaVersion).toBe(1);
    expect(state.mailboxes).toHaveLength(200);
    expect(state.transportConfig.SmtpClientAuthenticationDisabled).toBe(false);
  });

  it('refuses to overwrite an existing file without --force (exit 1, file untouched), and replaces it with --force', async () => {
    const file = path.join(dir, 'tenant.json');
    await writeFile(file, 'precious');
    const refused = await cli('sim', 'init', 'tenant.json');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('tenant.json already exists; pass --force to replace it');
    expect(await readFile(file, 'utf8')).toBe('precious');
    // --force replaces only a state file: anything else stays (issue 10: it once replaced a playbook).
    const notState = await cli('sim', 'init', 'tenant.json', '--force');
    expect(notState.code).toBe(1);
    expect(notState.stderr).toContain('tenant.json is not a simulated tenant state file; sim init --force replaces only a simulated tenant state file');
    expect(await readFile(file, 'utf8')).toBe('precious');
    expect((await cli('sim', 'init', path.join(dir, 'fresh.json'), '--mailboxes', '10')).code).toBe(0);
    await writeFile(file, await readFile(path.join(dir, 'fresh.json')));
    const forced = await cli('sim', 'init', 'tenant.json', '--force', '--mailboxes', '10', '--org-smtp-auth', 'disabled');
    expect(forced.code).toBe(0);
    expect(JSON.parse(await readFile(file, 'utf8')).transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
  });

  it('makes byte-identical files from the same seed and clock', async () => {
    await cli('sim', 'init', 'a.json', '--seed', '42', '--clock', '2026-11-20T09:00:00Z', '--mailboxes', '300');
    await cli('sim', 'init', 'b.json', '--seed', '42', '--clock', '2026-11-20T09:00:00Z', '--mailboxes', '300');
    expect(await readFile(path.join(dir, 'a.json'), 'utf8')).toBe(await readFile(path.join(dir, 'b.json'), 'utf8'));
  });

  it('rejects a size out of range with exit 1', async () => {
    const result = await cli('sim', 'init', 'tenant.json', '--mailboxes', '5');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('use a whole number from 10 to 100000');
  });
});

describe('exo-playbook sim show', () => {
  it('summarizes a state file, as text or JSON', async () => {
    await cli('sim', 'init', 'tenant.json', '--mailboxes', '100', '--organization', 'fabrikam.onmicrosoft.com', '--org-smtp-auth', 'disabled');
    const text = await cli('sim', 'show', 'tenant.json');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^fabrikam\.onmicrosoft\.com: SMTP AUTH is OFF for the organization/);
    expect(text.stdout).not.toContain('Fault knobs');
    const state = JSON.parse(await readFile(path.join(dir, 'tenant.json'), 'utf8'));
    state.faults = { throttleEveryN: 3 };
    state.clock = '2026-11-20T09:00:00.000Z';
    await writeFile(path.join(dir, 'tenant.json'), JSON.stringify(state));
    const knobs = await cli('sim', 'show', 'tenant.json');
    expect(knobs.stdout).toContain('Simulated clock: 2026-11-20T09:00:00.000Z. Fault knobs: throttleEveryN=3.');
    const json = await cli('sim', 'show', 'tenant.json', '--format', 'json');
    expect(JSON.parse(json.stdout)).toMatchObject({ organization: 'fabrikam.onmicrosoft.com', orgSmtpAuthDisabled: true, mailboxes: 100, faults: { throttleEveryN: 3 } });
  });

  it('fails with exit 1 and says how to make a missing file', async () => {
    const result = await cli('sim', 'show', 'missing.json');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('exo-playbook sim init');
  });
});
