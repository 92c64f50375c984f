/**
 * verify with probe steps: 0 when every probe finds what it expects, 2 with the server's line when an
 * allowlisted canary is refused; against a simulated tenant (built CLI) and against a loopback SMTP
 * server with STARTTLS (in-process CLI, the real nodemailer prober).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setEngineDepsForTests } from '../../src/cli/engine-support.js';
import { run } from '../../src/cli/program.js';
import type { CliIO } from '../../src/cli/io.js';
import { defaultDeps } from '../../src/engine/deps.js';
import type { TenantState } from '../../src/exchange/simulator/state.js';
import { NodemailerProber } from '../../src/smtp/client.js';
import { probeSecretSource } from '../../src/smtp/credentials.js';
import { EXCHANGE_REPLIES, makeTestCertificate, startFakeExchangeSmtp, type FakeServer, type TestCertificate } from '../fixtures/smtp/fake-exchange-smtp.js';
import { cli } from './smtp-auth-support.js';
import { CANARY_PASSWORD, OTHER_PASSWORD, probeWorkspace, type ProbeWorkspace } from './smtp-probe-support.js';

let ws: ProbeWorkspace | undefined;
afterEach(() => ws?.cleanup());
const env = { CANARY_PASSWORD };

describe('verify with probes against a simulated tenant', () => {
  it('0 when the allowlisted canary is accepted and the other refused for the tenant', async () => {
    ws = probeWorkspace();
    const result = await cli(['verify', ws.playbook, '--target', `sim:${ws.state}`], env);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('235 2.7.0 Authentication successful');
    expect(result.stdout).toContain('SmtpClientAuthentication is disabled for the Tenant');
  });

  it("2 with the evidence and the default-change explanation when Microsoft's Basic default reached the tenant", async () => {
    ws = probeWorkspace();
    const state = JSON.parse(readFileSync(ws.state, 'utf8')) as TenantState;
    state.smtp = { basicAuthDefaultOff: true };
    writeFileSync(ws.state, JSON.stringify(state));
    const result = await cli(['verify', ws.playbook, '--target', `sim:${ws.state}`], env);
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stdout).toMatch(/expected accepted, found basic-auth-blocked/);
    expect(result.stdout).toContain('535 5.7.139 Authentication unsuccessful, basic authentication is disabled.');
    expect(result.stdout).toMatch(/a likely cause is Microsoft's default change .*This is an inference, not a fact: Microsoft has published no reply text for that state \(the only published one, 550 5\.7\.30, is for the final removal\)\./);
    // The date seen is the tenant's (simulated clock).
    expect(result.stdout).toContain('refused on 2026-11-23');
  });

  it('2 when an authentication policy blocks the canary, without blaming Microsoft', async () => {
    ws = probeWorkspace();
    const state = JSON.parse(readFileSync(ws.state, 'utf8')) as TenantState;
    state.authenticationPolicies = [{ Name: 'No Basic', AllowBasicAuthSmtp: false }];
    state.mailboxes[0]!.AuthenticationPolicy = 'No Basic';
    writeFileSync(ws.state, JSON.stringify(state));
    const result = await cli(['verify', ws.playbook, '--target', `sim:${ws.state}`], env);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('basic authentication is disabled');
    expect(result.stdout).not.toContain("Microsoft's default change");
  });
});

describe('verify with probes against a loopback SMTP server (STARTTLS, test certificate)', () => {
  let certificate: TestCertificate;
  let server: FakeServer | undefined;
  let canaryReply: string = EXCHANGE_REPLIES.accepted;
  beforeAll(() => {
    certificate = makeTestCertificate();
  });
  afterAll(() => certificate.remove());
  afterEach(async () => {
    setEngineDepsForTests(undefined);
    await server?.close();
  });

  async function verifyInProcess(options: { serverGone?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    server = await startFakeExchangeSmtp(
      { authReply: (attempt) => (attempt.user.startsWith('canary@') && attempt.secret === CANARY_PASSWORD ? canaryReply : attempt.secret === OTHER_PASSWORD ? EXCHANGE_REPLIES.tenantDisabled : EXCHANGE_REPLIES.badCredentials) },
      certificate,
    );
    ws = probeWorkspace(undefined, { port: server.port, caFile: certificate.certFile });
    if (options.serverGone) await server.close();
    const base = await defaultDeps();
    // The Exchange side is the simulated tenant; the SMTP side is the real client on the loopback.
    setEngineDepsForTests({ ...base, openProber: async (_t, tenant, options) => new NodemailerProber(probeSecretSource({ ...options, tenant })) });
    const out = new PassThrough();
    let stdout = '';
    out.on('data', (c: Buffer) => (stdout += c.toString()));
    const err = new PassThrough();
    let stderr = '';
    err.on('data', (c: Buffer) => (stderr += c.toString()));
    const io: CliIO = { stdout: out, stderr: err, stdin: new PassThrough(), color: false, interactive: false, env: { ...process.env, ...env }, cwd: ws.dir };
    const code = await run(['verify', ws.playbook, '--target', `sim:${ws.state}`], io);
    return { code, stdout, stderr };
  }

  it('1 with "could not reach" when no server answers: never drift', async () => {
    const result = await verifyInProcess({ serverGone: true });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout + result.stderr).toMatch(/could not reach 127\.0\.0\.1:\d+: the connection failed/);
    expect(result.stdout).not.toMatch(/expected accepted, found/);
  });

  it('2 with the server line when the allowlisted canary is refused for the mailbox', async () => {
    canaryReply = EXCHANGE_REPLIES.mailboxDisabled;
    const result = await verifyInProcess();
    expect(result.code, result.stdout).toBe(2);
    expect(result.stdout).toContain('expected accepted, found mailbox-disabled');
    expect(result.stdout).toContain(EXCHANGE_REPLIES.mailboxDisabled);
    expect(server!.commands.some((c) => /^MAIL\b/i.test(c))).toBe(false);
  });

  it('0 when the answers match', async () => {
    canaryReply = EXCHANGE_REPLIES.accepted;
    const result = await verifyInProcess();
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain('235 2.7.0 Authentication successful');
    expect(result.stdout).toContain(EXCHANGE_REPLIES.tenantDisabled);
  });
});
