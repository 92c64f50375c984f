/**
 * `exo-playbook probe` at the edge: secrets only through a variable or a file, one clear message for
 * each mistake (exit 1), and against a simulated tenant the exit code follows --expect.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { run } from '../../src/cli/program.js';
import { PROBE_OUTCOMES } from '../../src/smtp/classify.js';
import { mailbox, tenant } from '../support/tenant.js';
import { EXCHANGE_REPLIES, makeTestCertificate, startFakeExchangeSmtp, type Scenario, type TestCertificate } from '../fixtures/smtp/fake-exchange-smtp.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function probe(args: string[], env: NodeJS.ProcessEnv = {}, smtp?: NonNullable<ReturnType<typeof tenant>['smtp']>) {
  dir ??= mkdtempSync(join(tmpdir(), 'exo-probe-cli-'));
  writeFileSync(join(dir, 'tenant.json'), JSON.stringify(tenant([mailbox('canary', false), mailbox('other', null)], { transportConfig: { SmtpClientAuthenticationDisabled: true }, ...(smtp ? { smtp } : {}) })));
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

describe('exo-playbook probe against a loopback server that answers as Exchange Online', () => {
  const PW = 'Cli-Canary-Password-5e1f0c9a7b3d';
  let certificate: TestCertificate;
  beforeAll(() => {
    certificate = makeTestCertificate();
  });
  afterAll(() => certificate.remove());

  async function against(scenario: Scenario, args: string[]) {
    const server = await startFakeExchangeSmtp(scenario, certificate);
    try {
      const result = await probe(['canary@contoso.com', '--password-env', 'PW', '--target', 'exchange', '--host', '127.0.0.1', '--port', String(server.port), '--ca-file', certificate.certFile, '--timeout', '10', ...args], { PW });
      return { ...result, server };
    } finally {
      await server.close();
    }
  }

  const replies: [keyof typeof EXCHANGE_REPLIES, string, number][] = [
    ['accepted', 'accepted', 0],
    ['tenantDisabled', 'tenant-disabled', 2],
    ['mailboxDisabled', 'mailbox-disabled', 2],
    ['basicDisabled', 'basic-auth-blocked', 2],
    ['securityDefaults', 'security-defaults', 2],
    ['conditionalAccess', 'conditional-access', 2],
    ['badCredentials', 'bad-credentials', 2],
    ['retired', 'basic-retired', 2],
    ['unrecognizedMechanism', 'mechanism-refused', 2],
  ];
  for (const [reply, outcome, code] of replies) {
    it(`${reply}: found ${outcome} with the server's line, exit ${code} with --expect accepted`, async () => {
      const result = await against({ authReply: EXCHANGE_REPLIES[reply] }, ['--expect', 'accepted']);
      expect(result.code, result.stderr).toBe(code);
      expect(result.stdout).toMatch(new RegExp(`^  found: +${outcome}: `, 'm'));
      expect(result.stdout).toContain(`  evidence:   ${EXCHANGE_REPLIES[reply]}`);
      expect(result.stdout).toContain(code === 0 ? '(as expected)' : '-> DRIFT');
    });
  }

  it('--auth basic-plain on a server offering AUTH LOGIN XOAUTH2: told so, nothing sent, exit 1 (also with --expect)', async () => {
    const result = await against({ authReply: EXCHANGE_REPLIES.accepted }, ['--auth', 'basic-plain', '--expect', 'accepted']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: probe --auth basic-plain: 127.0.0.1:');
    expect(result.stderr).toContain('does not offer AUTH PLAIN after STARTTLS (it advertises AUTH LOGIN XOAUTH2), so the probe did not try it');
    expect(result.stderr).toContain('hint: probe with auth: basic (AUTH LOGIN) or auth: oauth (AUTH XOAUTH2)');
    expect(result.stdout).not.toContain('DRIFT');
    expect(result.server.attempts).toEqual([]);
    expect(result.server.commands.filter((c) => c.startsWith('AUTH'))).toEqual([]);
  });

  it('an unreachable host is exit 1 "could not reach", never a finding, also with --expect', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    for (const expectArgs of [[], ['--expect', 'accepted'], ['--expect', 'mailbox-disabled']]) {
      const result = await probe(['canary@contoso.com', '--password-env', 'PW', '--target', 'exchange', '--host', '127.0.0.1', '--port', String(port), ...expectArgs], { PW });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`error: probe: could not reach 127.0.0.1:${port}: the connection failed`);
      expect(result.stderr).toContain('nothing about SMTP AUTH was learned');
      expect(result.stdout).not.toMatch(/found:|DRIFT/);
    }
  });

  it('a TLS failure (untrusted certificate) is exit 1 "could not reach", not drift', async () => {
    const server = await startFakeExchangeSmtp({ authReply: EXCHANGE_REPLIES.accepted }, certificate);
    try {
      const result = await probe(['canary@contoso.com', '--password-env', 'PW', '--target', 'exchange', '--host', '127.0.0.1', '--port', String(server.port), '--expect', 'accepted'], { PW });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/could not reach 127\.0\.0\.1:\d+: the TLS handshake failed/);
      expect(server.attempts).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('--auth basic-plain against a simulated Exchange Online (AUTH LOGIN XOAUTH2): refused, exit 1', async () => {
    const result = await probe(['canary@contoso.com', '--auth', 'basic-plain', '--password-env', 'PW', '--expect', 'accepted', '--target', 'sim:tenant.json'], { PW });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('smtp.office365.com:587 does not offer AUTH PLAIN after STARTTLS (it advertises AUTH LOGIN XOAUTH2)');
  });

  it('a simulated network fault is exit 1 too, with --expect', async () => {
    const result = await probe(['canary@contoso.com', '--password-env', 'PW', '--expect', 'accepted', '--target', 'sim:tenant.json'], { PW }, { fault: 'timeout' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('could not reach smtp.office365.com:587: the server did not answer in time (TIMEOUT: Timeout (simulated))');
  });
});

describe('exo-playbook probe --help', () => {
  it('lists every outcome --expect takes', async () => {
    const help = await probe(['--help']);
    const text = help.stdout.replace(/\s+/g, ' ');
    for (const outcome of PROBE_OUTCOMES.filter((o) => o !== 'unknown')) expect(text).toContain(outcome);
    expect(text).not.toContain('not-authenticated');
  });
});
