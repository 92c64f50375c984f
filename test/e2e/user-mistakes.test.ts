/**
 * User mistakes are user errors: exit 1, one clear message (file:line:col where there is one, and
 * the fix), no stack trace, no hang, no silent change. One test per case the issue lists (the usage
 * CSV cases live in file-reads.test.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificates } from '../support/certificates.js';
import { assertBuilt, CLI, EngineWorkspace, type Result, sim } from './engine-support.js';

let w: EngineWorkspace;
beforeAll(() => {
  assertBuilt();
  w = new EngineWorkspace();
});
afterAll(() => w.cleanup());

/** A user error: exit 1, a message matching `message`, never a stack trace or "internal error". */
function expectUserError(r: Result, message: RegExp): void {
  expect(r.code, r.stdout + r.stderr).toBe(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at .+:\d+:\d+\)?/);
}

function withPlaybook(name: string, text: string): string {
  writeFileSync(join(w.dir, name), text);
  return name;
}

const HEADER = `apiVersion: exo-playbook/v1
name: mistakes
tenant:
  organization: contoso.onmicrosoft.com
  auth: { method: azure-cli }
`;

describe('user mistakes end as user errors', () => {
  it('verify --log-file into /proc/nope: exit 1 at once (no hang), naming the flag and the fix', () => {
    const r = w.run(['verify', 'playbook.yaml', ...sim(w), '--log-file', '/proc/nope/log.jsonl']);
    expectUserError(r, /^error: cannot create the log file \(--log-file\) \/proc\/nope\/log\.jsonl: \/proc\/nope: no such file or folder/m);
    expect(r.stderr).toMatch(/hint: point --log-file at a regular file in a folder this account can write to/);
  });

  it('sim init --force never overwrites a file that is not a state file (a playbook stays as it was)', () => {
    const before = readFileSync(w.playbook, 'utf8');
    const r = w.run(['sim', 'init', 'playbook.yaml', '--force']);
    expectUserError(r, /^error: playbook\.yaml is not a simulated tenant state file; sim init --force replaces only a simulated tenant state file/m);
    expect(readFileSync(w.playbook, 'utf8')).toBe(before);
    // A state file is still replaced.
    const other = join(w.dir, 'other.json');
    expect(w.run(['sim', 'init', 'other.json', '--mailboxes', '10']).code).toBe(0);
    const replaced = w.run(['sim', 'init', 'other.json', '--mailboxes', '20', '--force']);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect((JSON.parse(readFileSync(other, 'utf8')) as { mailboxes: unknown[] }).mailboxes).toHaveLength(20);
  });

  it('plan --out into a missing folder: exit 1 before connecting, naming the folder', () => {
    w.clearCalls();
    const r = w.run(['plan', 'playbook.yaml', ...sim(w), '--out', 'no-such-folder/plan.json']);
    expectUserError(r, /^error: --out no-such-folder\/plan\.json: the folder .*no-such-folder does not exist/m);
    expect(w.calls()).toEqual([]);
  });

  it('a state file that is not JSON, or has a wrong type where the simulator reads, names the file and field', () => {
    writeFileSync(join(w.dir, 'broken.json'), '{"schemaVersion":1,');
    let r = w.run(['plan', 'playbook.yaml', '--target', 'sim:broken.json']);
    expectUserError(r, /broken\.json is not valid JSON/);
    expect(r.stderr).not.toContain('--force');
    writeFileSync(join(w.dir, 'typed.json'), JSON.stringify({ schemaVersion: 1, organization: 5, transportConfig: { SmtpClientAuthenticationDisabled: false }, mailboxes: [] }));
    r = w.run(['plan', 'playbook.yaml', '--target', 'sim:typed.json']);
    expectUserError(r, /typed\.json: organization\.Name must be the tenant name/);
    const state = w.readState();
    writeFileSync(join(w.dir, 'switch.json'), JSON.stringify({ ...state, mailboxes: [{ ...state.mailboxes[0], SmtpClientAuthenticationDisabled: 'yes' }] }));
    r = w.run(['plan', 'playbook.yaml', '--target', 'sim:switch.json']);
    expectUserError(r, /switch\.json: mailboxes\[0\]\.SmtpClientAuthenticationDisabled must be true, false or null/);
  });

  it('a garbage clock in a state file is refused, not silently taken for another time', () => {
    writeFileSync(join(w.dir, 'clock.json'), JSON.stringify({ ...w.readState(), clock: 'yesterday-ish' }));
    const r = w.run(['plan', 'playbook.yaml', '--target', 'sim:clock.json']);
    expectUserError(r, /clock\.json: clock must be null \(the real clock\) or an ISO-8601 UTC time/);
  });

  it('a lone surrogate in a value is refused at its line:col', () => {
    const file = withPlaybook('surrogate.yaml', `${HEADER}description: "broken \\uD800 escape"\nsteps:\n  - id: org\n    uses: transport-config\n    with: { smtpClientAuthenticationDisabled: true }\n`);
    const r = w.run(['plan', file, ...sim(w)]);
    expectUserError(r, /^surrogate\.yaml:6:14: the value contains a lone UTF-16 surrogate/m);
  });

  it.each([
    ['days: 99999999999999999999', 'with: { days: 99999999999999999999 }', 'uses: smtp-auth/usage', /^bigint\.yaml:9:\d+: the number 99999999999999999999 is beyond 9007199254740991 and would be rounded/m],
    ['a powershell parameter', 'with: { cmdlet: Get-Mailbox, parameters: { ResultSize: 123456789012345678 } }', 'uses: powershell', /^bigint\.yaml:9:\d+: the number 123456789012345678 is beyond/m],
    ['a long decimal', 'with: { days: 7.0000000000000000001 }', 'uses: smtp-auth/usage', /^bigint\.yaml:9:\d+: the number 7\.0000000000000000001 has more digits than can be kept exactly/m],
  ])('a large YAML number (%s) is refused at its line, not rounded', (_name, withLine, uses, message) => {
    const file = withPlaybook('bigint.yaml', `${HEADER}steps:\n  - id: s\n    ${uses}\n    ${withLine}\n`);
    expectUserError(w.run(['validate', file]), message);
  });

  it('diff --git HEAD with an invalid allowlist in the working tree is an error (exit 1), not "no changes"', () => {
    const repo = join(w.dir, 'repo');
    execFileSync('mkdir', ['-p', repo]);
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: repo, stdio: 'ignore' });
    git('init', '-q');
    writeFileSync(join(repo, 'p.yaml'), `${HEADER}steps:\n  - id: allow\n    uses: smtp-auth/allowlist\n    with: { mailboxes: ["\${file:allow.txt}"] }\n`);
    writeFileSync(join(repo, 'allow.txt'), 'a@contoso.com\n');
    git('add', '-A');
    git('commit', '-qm', 'init');
    writeFileSync(join(repo, 'allow.txt'), 'a@contoso.com\nnot an address\n');
    const run = spawnSync(process.execPath, [CLI, 'diff', '--git', 'HEAD'], { cwd: repo, env: w.env(), encoding: 'utf8', timeout: 240_000 });
    const r = { code: run.status, stdout: run.stdout, stderr: run.stderr };
    expectUserError(r, /allow\.txt:2:1: invalid mailbox address or alias "not an address": it contains a space/);
  });

  it('tenant.organization is the initial .onmicrosoft.com domain or the tenant id: a vanity domain is refused at its line', () => {
    const orgPlaybook = (organization: string) => `${HEADER.replace('contoso.onmicrosoft.com', organization)}steps:\n  - id: org\n    uses: transport-config\n    with: { smtpClientAuthenticationDisabled: true }\n`;
    expectUserError(w.run(['validate', withPlaybook('vanity.yaml', orgPlaybook('contoso.com'))]), /^vanity\.yaml:4:17: must be the tenant's primary \.onmicrosoft\.com domain/m);
    // A tenant id connects to the simulated tenant that has it, as -Organization does on the service.
    const tenantId = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';
    writeFileSync(join(w.dir, 'by-id.json'), JSON.stringify({ ...w.readState(), organization: { ...w.readState().organization, TenantId: tenantId } }));
    const r = w.run(['plan', withPlaybook('by-id.yaml', orgPlaybook(tenantId)), '--target', 'sim:by-id.json']);
    expect(r.code, r.stderr).toBe(2);
  });

  describe('validate --require-env checks the certificate file and the sign-in it needs', () => {
    const certificatePlaybook = (path: string, signIn = '') =>
      `apiVersion: exo-playbook/v1\nname: cert\ntenant:\n  organization: contoso.onmicrosoft.com\n  auth:\n    method: certificate\n    appId: app-1\n    certificatePath: ${path}\n${signIn}steps:\n  - id: org\n    uses: transport-config\n    with: { smtpClientAuthenticationDisabled: true }\n`;
    beforeAll(() => {
      makeCertificates(join(w.dir, 'certs'), 'pw-for-test');
    });

    it('a certificate file that does not exist is refused at its line', () => {
      const file = withPlaybook('cert-missing.yaml', certificatePlaybook('certs/missing.pem'));
      expect(w.run(['validate', file]).code).toBe(0);
      expectUserError(w.run(['validate', '--require-env', file]), /^cert-missing\.yaml:8:22: cannot read the certificate file certs\/missing\.pem: no such file/m);
    });

    it('a PEM is valid with the default sign-in (token) and refused with signIn: module, at that line', () => {
      expect(w.run(['validate', '--require-env', withPlaybook('cert-pem.yaml', certificatePlaybook('certs/exo.pem'))]).code).toBe(0);
      const r = w.run(['validate', withPlaybook('cert-module.yaml', certificatePlaybook('certs/exo.pem', '    signIn: module\n'))]);
      expectUserError(r, /^cert-module\.yaml:9:13: signIn: module cannot sign in with the PEM file certs\/exo\.pem: Connect-ExchangeOnline -CertificateFilePath needs a \.pfx/m);
      expect(r.stderr).toMatch(/hint: remove `signIn: module`/);
    });

    it('a .pfx is valid with the default sign-in (module) and refused with signIn: token', () => {
      expect(w.run(['validate', '--require-env', withPlaybook('cert-pfx.yaml', certificatePlaybook('certs/exo.pfx'))]).code).toBe(0);
      expectUserError(w.run(['validate', withPlaybook('cert-token.yaml', certificatePlaybook('certs/exo.pfx', '    signIn: token\n'))]), /^cert-token\.yaml:9:13: signIn: token cannot sign in with certs\/exo\.pfx/m);
    });

    it('a partner sign-in takes a PEM (its token comes from @azure/identity): a .pfx is refused at its line, a missing file with --require-env', () => {
      const partner = (path: string) => certificatePlaybook(path).replace('method: certificate', 'method: partner');
      expect(w.run(['validate', '--require-env', withPlaybook('partner-pem.yaml', partner('certs/exo.pem'))]).code).toBe(0);
      expectUserError(w.run(['validate', withPlaybook('partner-pfx.yaml', partner('certs/exo.pfx'))]), /^partner-pfx\.yaml:8:22: a partner sign-in cannot use certs\/exo\.pfx: it is not a PEM file/m);
      expectUserError(w.run(['validate', '--require-env', withPlaybook('partner-missing.yaml', partner('certs/missing.pem'))]), /^partner-missing\.yaml:8:22: cannot read the certificate file certs\/missing\.pem/m);
    });
  });
});
