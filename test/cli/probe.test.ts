/**
 * `exo-playbook probe` at the edge: secrets only through a variable or a file, one clear message for
 * each mistake (exit 1), and against a simulated tenant the exit code follows --expect.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { run } from '../../src/cli/program.js';
import { mailbox, tenant } from '../support/tenant.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function probe(args: string[], env: NodeJS.ProcessEnv = {}) {
  dir ??= mkdtempSync(join(tmpdir(), 'exo-probe-cli-'));
  writeFileSync(join(dir, 'tenant.json'), JSON.stringify(tenant([mailbox('canary', false), mailbox('other', null)], { transportConfig: { SmtpClientAuthenticationDisabled: true } })));
  const collect = () => {
    const stream = new PassThrough();
    const text = { value: '' };
    stream.on('data', (c: Buffer) => (text.value += c.toString()));
    return { stream, text };
  };
  const out = collect();
  const err = collect();
  const io: CliIO = { stdout: out.stream, stderr: err.stream, stdin: new PassThrough(), color: false, interactive: false, env, cwd: dir };
  const code = await run(['probe', ...args], io);
  return { code, stdout: out.text.value, stderr: err.text.value };
}

describe('exo-playbook probe', () => {
  it('needs exactly one secret source, never the secret itself', async () => {
    const none = await probe(['canary@contoso.com', '--target', 'sim:tenant.json']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/needs exactly one of --password-env NAME or --password-file FILE/);
    const inline = await probe(['canary@contoso.com', '--password', 'hunter2', '--target', 'sim:tenant.json']);
    expect(inline.code).toBe(1);
    expect(inline.stderr).toMatch(/unknown option '--password'/);
    const oauth = await probe(['canary@contoso.com', '--auth', 'oauth', '--password-env', 'PW', '--target', 'sim:tenant.json']);
    expect(oauth.code).toBe(1);
    expect(oauth.stderr).toMatch(/--password-\* does not apply/);
  });

  it('an unset password variable is an error that names it, before anything connects', async () => {
    const result = await probe(['canary@contoso.com', '--password-env', 'NOT_SET_ANYWHERE', '--target', 'sim:tenant.json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('secret environment variable NOT_SET_ANYWHERE is not set');
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it('a bad --expect is a user error', async () => {
    const result = await probe(['canary@contoso.com', '--password-env', 'PW', '--expect', 'acepted', '--target', 'sim:tenant.json'], { PW: 'x' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--expect acepted: not an outcome');
  });

  it('0 when the answer is the expected one, 2 with the evidence when not; the transcript and result are in the run directory', async () => {
    const ok = await probe(['canary@contoso.com', '--password-env', 'PW', '--expect', 'accepted', '--target', 'sim:tenant.json'], { PW: 'pw-value-1234' });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('evidence:   235 2.7.0 Authentication successful');
    const drift = await probe(['other@contoso.com', '--password-env', 'PW', '--expect', 'accepted', '--target', 'sim:tenant.json', '--format', 'json'], { PW: 'pw-value-1234' });
    expect(drift.code).toBe(2);
    const result = JSON.parse(drift.stdout) as { outcome: string; evidence: string; matches: boolean; runDir: string };
    expect(result).toMatchObject({ outcome: 'tenant-disabled', matches: false });
    expect(result.evidence).toMatch(/^535 5\.7\.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant\./);
    expect(readdirSync(result.runDir).sort()).toEqual(['result.json', 'transcript.txt']);
    expect(readFileSync(join(result.runDir, 'transcript.txt'), 'utf8')).toContain('C: AUTH LOGIN <redacted>');
  });
});
