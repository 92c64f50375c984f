/** `exo-playbook validate`, spawned as a user would run it (run `npm run build` first). */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isFleetPlaybook } from '../support/fleet-playbooks.js';

const bin = path.resolve('bin/exo-playbook.js');
// Fleet playbooks (`${tenant.…}`) are validated by `fleet validate` with an inventory (test/e2e/fleet.test.ts).
const shipped = readdirSync('playbooks').filter((f) => f.endsWith('.yaml') && !isFleetPlaybook(f)).map((f) => `playbooks/${f}`).sort();
const bad = readdirSync('test/fixtures/bad-playbooks').filter((f) => f.endsWith('.yaml')).map((f) => `test/fixtures/bad-playbooks/${f}`).sort();

function placeholderEnv(files: string[]): Record<string, string> {
  const names = files.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!));
  return Object.fromEntries(names.map((name) => [name, `placeholder-${name.toLowerCase()}`]));
}

function validate(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [bin, 'validate', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', TMPDIR: tmpdir(), ...env },
    timeout: 240_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  if (!existsSync('dist/bundle/exo-playbook.mjs')) execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
});

/** Where a shipped playbook names a usage file under `key` (line:col of the value); null when it does not. */
function fileAt(file: string, key: string): { line: number; col: number } | null {
  const lines = readFileSync(file, 'utf8').split('\n');
  const line = lines.findIndex((l) => new RegExp(`^\\s*(with: \\{ )?${key}: `).test(l));
  return line < 0 ? null : { line: line + 1, col: lines[line]!.indexOf(`${key}:`) + `${key}: `.length + 1 };
}

/**
 * The shipped playbooks that read usage files warn that they are not there (they are exported on the
 * machine that runs): the clients report, and the request report where a playbook names one.
 */
const CSV_WARNING = ['playbooks/smtp-auth-disable.yaml', 'playbooks/smtp-auth-usage.yaml']
  .map((file) => {
    const at = fileAt(file, 'report')!;
    const request = fileAt(file, 'requestReport');
    const requestFile = request ? readFileSync(file, 'utf8').split('\n')[request.line - 1]!.slice(request.col - 1).trim() : '';
    return (
      `${file}:${at.line}:${at.col}: warning: cannot read the usage report smtp-auth-clients-report.csv: no such file (needed by plan and apply) (steps.0.with.report)\n` +
      "  hint: report: is a path relative to the playbook's folder; export Reports > Mail flow > SMTP AUTH clients report as CSV there\n" +
      (request
        ? `${file}:${request.line}:${request.col}: warning: cannot read the request report ${requestFile}: no such file (needed by plan and apply) (steps.0.with.requestReport)\n` +
          "  hint: requestReport: is a path relative to the playbook's folder\n"
        : '')
    );
  })
  .join('');

describe('exo-playbook validate', () => {
  it('prints "ok  <file>" for each shipped playbook and exits 0, without starting PowerShell', () => {
    // validate is a local check: were it to start PowerShell (seconds, and a sign-in), this "pwsh"
    // would leave its mark. (Not a timed assertion: those fail on a loaded machine.)
    const dir = mkdtempSync(path.join(tmpdir(), 'exo-validate-'));
    const marker = path.join(dir, 'pwsh-started');
    const fakePwsh = path.join(dir, 'pwsh');
    writeFileSync(fakePwsh, `#!/bin/sh\necho started > '${marker}'\nexit 1\n`, { mode: 0o755 });
    const result = validate(shipped, { ...placeholderEnv(shipped), EXO_PLAYBOOK_PWSH: fakePwsh, PATH: `${dir}${path.delimiter}${process.env.PATH ?? ''}` });
    const started = existsSync(marker);
    rmSync(dir, { recursive: true, force: true });
    expect(started).toBe(false);
    // The usage CSV is exported on the machine that runs: here its absence is only a located warning.
    expect(result.stderr).toBe(CSV_WARNING);
    expect(result.stdout.trim().split('\n')).toEqual(shipped.map((f) => `ok  ${f}`));
    expect(result.code).toBe(0);
  });

  it('exits 1 on the bad corpus with at least one located error per file and no stack trace', () => {
    const env = { EXO_APP_ID: 'app', EXO_CERT_PEM: 'cert.pem' };
    const result = validate(bad, env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    for (const file of bad) {
      const base = path.basename(file);
      // A file's problems may be located in an allowlist file it references; those name it in the path.
      const located = result.stderr.split('\n').filter((line) => /^\S+:\d+:\d+: /.test(line));
      expect(located.some((line) => line.startsWith(`${file}:`)) || base.includes('allowlist') || base.includes('across-files'), base).toBe(true);
    }
    expect(result.stderr).not.toMatch(/internal error|\n\s+at .*\(.*:\d+:\d+\)/);
    expect(result.stderr).toContain('test/fixtures/bad-playbooks/files/bad-address.txt:3:3: invalid mailbox address');
  });

  it('reports a bad file and still checks the good ones', () => {
    const result = validate(['test/fixtures/bad-playbooks/unknown-action.yaml', ...shipped], placeholderEnv(shipped));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('ok  playbooks/smtp-auth-disable.yaml');
    expect(result.stderr).toBe(
      'test/fixtures/bad-playbooks/unknown-action.yaml:9:11: unknown action `smtp-auth/usge`; did you mean `smtp-auth/usage`? (steps.0.uses)\n' +
        '  hint: one of: transport-config, smtp-auth/usage, smtp-auth/allowlist, smtp-auth/verify, smtp-auth/probe, smtp-auth/oauth-senders, powershell\n' +
        CSV_WARNING,
    );
  });

  it('--format json lists every file with its problems on stdout', () => {
    const result = validate(['--format', 'json', 'playbooks/smtp-auth-disable.yaml', 'test/fixtures/bad-playbooks/duplicate-step-id.yaml'], placeholderEnv(shipped));
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { files: { file: string; valid: boolean; problems: unknown[] }[] };
    expect(report.files).toEqual([
      {
        file: 'playbooks/smtp-auth-disable.yaml',
        valid: true,
        problems: [],
        warnings: [expect.objectContaining({ ...fileAt('playbooks/smtp-auth-disable.yaml', 'report'), path: 'steps.0.with.report', message: expect.stringContaining('no such file') })],
      },
      {
        file: 'test/fixtures/bad-playbooks/duplicate-step-id.yaml',
        valid: false,
        problems: [
          {
            file: 'test/fixtures/bad-playbooks/duplicate-step-id.yaml',
            line: 10,
            col: 9,
            message: 'duplicate step id `verify` (first at line 8:9)',
            path: 'steps.1.id',
            hint: 'step ids name journal entries and plan changes; make each one unique',
          },
        ],
        warnings: [],
      },
    ]);
  });

  it('with --require-env, a missing secret environment variable fails validation before anything connects', () => {
    const result = validate(['--require-env', 'test/fixtures/needs-sign-in-env/missing-secret-env.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('missing-secret-env.yaml:11:26: secret environment variable EXO_CERT_PASSWORD_NOT_SET is not set');
  });

  it('on a clean machine without sign-in variables, the shipped playbooks are valid and the unset variables are located warnings', () => {
    const result = validate(shipped);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual(shipped.map((f) => `ok  ${f}`));
    expect(result.stderr).toMatch(/smtp-auth-disable\.yaml:\d+:\d+: warning: environment variable EXO_APP_ID is not set \(needed to sign in with --target exchange\) \(tenant\.auth\.appId\)/);
    const json = JSON.parse(validate(['--format', 'json', ...shipped]).stdout) as { files: { valid: boolean; warnings: { path: string }[] }[] };
    expect(json.files.every((f) => f.valid && f.warnings.some((w) => w.path === 'tenant.auth.appId'))).toBe(true);
  });

  it('without --require-env, a missing secret variable is a located warning and the file is valid', () => {
    const result = validate(['test/fixtures/needs-sign-in-env/missing-secret-env.yaml'], { EXO_APP_ID: 'app', EXO_CERT_PEM: 'cert.pem' });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('missing-secret-env.yaml:11:26: warning: secret environment variable EXO_CERT_PASSWORD_NOT_SET is not set');
  });

  it('a missing variable outside tenant.auth is an error even without --require-env', () => {
    const result = validate(['test/fixtures/bad-playbooks/missing-env.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/missing-env\.yaml:10:\d+: environment variable EXO_NOTIFY_ADDRESS is not set/);
  });

  it('a missing file is a located error with exit 1', () => {
    const result = validate(['no/such/playbook.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('no/such/playbook.yaml:1:1: no such playbook file\n');
  });

  it('--help shows examples', () => {
    const result = spawnSync(process.execPath, [bin, 'validate', '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('exo-playbook validate playbooks/smtp-auth-usage.yaml playbooks/smtp-auth-drift-check.yaml --format json');
  });
});

describe.skipIf(process.platform === 'win32')('a reader that stops early (`exo-playbook … | head`)', () => {
  // `true` exits without reading: every write of the CLI to the pipe fails with EPIPE.
  function piped(args: string[]) {
    const dir = mkdtempSync(path.join(tmpdir(), 'exo-epipe-'));
    const stderr = path.join(dir, 'stderr.txt');
    const quoted = [process.execPath, bin, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const result = spawnSync('bash', ['-c', `${quoted} 2>'${stderr}' | true; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' }, timeout: 20_000 });
    const out = { code: Number(result.stdout.trim()), stderr: readFileSync(stderr, 'utf8') };
    rmSync(dir, { recursive: true, force: true });
    return out;
  }

  it('--help: exit 0, no stack trace', () => {
    expect(piped(['--help'])).toEqual({ code: 0, stderr: '' });
  });

  it('validate keeps its own exit code: 0 for the shipped playbooks (its report went nowhere), 1 for a bad one', () => {
    const good = piped(['validate', ...shipped, '--format', 'json']);
    expect(good.code).toBe(0);
    expect(good.stderr).not.toMatch(/EPIPE|node:events/);
    expect(piped(['validate', bad[0]!, '--format', 'json']).code).toBe(1);
  });
});
