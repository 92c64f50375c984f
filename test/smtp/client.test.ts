/**
 * The real prober (nodemailer's SMTPConnection) against a loopback server that answers as Exchange
 * Online does, with STARTTLS and a certificate made for this run: each answer is classified, the
 * server's exact line is the evidence, and the client never sends MAIL FROM.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodemailerProber } from '../../src/smtp/client.js';
import { classifyAnswer } from '../../src/smtp/classify.js';
import type { ProbeMechanism, ProbeRequest } from '../../src/smtp/types.js';
import { EXCHANGE_REPLIES, makeTestCertificate, startFakeExchangeSmtp, type Scenario, type TestCertificate } from '../fixtures/smtp/fake-exchange-smtp.js';

const PASSWORD = 'Canary-Pw-7f3a9c2e-long-and-random';
let certificate: TestCertificate;
beforeAll(() => {
  certificate = makeTestCertificate();
});
afterAll(() => certificate.remove());

function request(port: number, overrides: Partial<ProbeRequest> = {}): ProbeRequest {
  return {
    host: '127.0.0.1',
    port,
    mailbox: 'canary@contoso.com',
    mechanism: 'LOGIN',
    secret: { kind: 'reference', reference: '${env:CANARY_PASSWORD}' },
    caFile: certificate.certFile,
    // A ceiling for a loaded machine (the fake server answers at once); the timeout tests set 300 ms with a silent server.
    timeoutMs: 60_000,
    clientName: 'exo-playbook-probe',
    ...overrides,
  };
}

const prober = new NodemailerProber(async () => PASSWORD);

async function probeWith(scenario: Scenario, overrides: Partial<ProbeRequest> = {}) {
  const server = await startFakeExchangeSmtp(scenario, certificate);
  try {
    const answer = await prober.probe(request(server.port, overrides));
    return { answer, classified: classifyAnswer(answer), server };
  } finally {
    await server.close();
  }
}

describe('probe against a loopback Exchange-like server over STARTTLS', () => {
  const cases: [string, string, ReturnType<typeof classifyAnswer>['outcome']][] = [
    ['accepted', EXCHANGE_REPLIES.accepted, 'accepted'],
    ['tenant switch off', EXCHANGE_REPLIES.tenantDisabled, 'tenant-disabled'],
    ['mailbox switch off', EXCHANGE_REPLIES.mailboxDisabled, 'mailbox-disabled'],
    ['Basic blocked', EXCHANGE_REPLIES.basicDisabled, 'basic-auth-blocked'],
    ['bad credentials', EXCHANGE_REPLIES.badCredentials, 'bad-credentials'],
    ['Basic retired', EXCHANGE_REPLIES.retired, 'basic-retired'],
    ['not authenticated', EXCHANGE_REPLIES.notAuthenticated, 'not-authenticated'],
    ['an answer nobody documented', '535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully.', 'unknown'],
  ];
  for (const [name, reply, outcome] of cases) {
    it(`${name}: ${outcome}, with the exact line as evidence`, async () => {
      const { answer, classified, server } = await probeWith({ authReply: reply });
      expect(classified.outcome).toBe(outcome);
      expect(classified.evidence).toBe(reply);
      // The conversation a device has: EHLO, STARTTLS, EHLO, AUTH, QUIT; never MAIL FROM.
      expect(server.commands.map((c) => c.split(' ')[0])).toEqual(['EHLO', 'STARTTLS', 'EHLO', 'AUTH', 'QUIT']);
      expect(server.commands.some((c) => /^MAIL\b/i.test(c))).toBe(false);
      expect(server.attempts).toEqual([{ mechanism: 'LOGIN', user: 'canary@contoso.com', secret: PASSWORD }]);
      expect(answer.transcript.join('\n')).not.toContain(PASSWORD);
      expect(answer.transcript.join('\n')).not.toContain(Buffer.from(PASSWORD).toString('base64'));
      expect(answer.transcript).toContain('C: AUTH LOGIN <redacted>');
    });
  }

  it.each<[ProbeMechanism]>([['PLAIN'], ['XOAUTH2']])('%s sends the secret the server expects and keeps it out of the transcript', async (mechanism) => {
    const { classified, server, answer } = await probeWith({ authReply: EXCHANGE_REPLIES.accepted }, { mechanism });
    expect(classified.outcome).toBe('accepted');
    expect(server.attempts).toEqual([{ mechanism, user: 'canary@contoso.com', secret: PASSWORD }]);
    expect(answer.transcript).toContain(`C: AUTH ${mechanism} <redacted>`);
    expect(answer.transcript.join('\n')).not.toMatch(new RegExp(`${PASSWORD}|${Buffer.from(PASSWORD).toString('base64').slice(0, 12)}`));
  });

  it('an untrusted certificate is a TLS failure, and no credentials are sent', async () => {
    const { classified, server } = await probeWith({ authReply: EXCHANGE_REPLIES.accepted }, { caFile: undefined });
    expect(classified.outcome).toBe('tls-failure');
    expect(classified.evidence).toMatch(/^TLS: .*certificate/i);
    expect(server.attempts).toEqual([]);
  });

  it('STARTTLS refused is a TLS failure, and no credentials are sent in the clear', async () => {
    const { classified, server } = await probeWith({ authReply: EXCHANGE_REPLIES.accepted, refuseStartTls: '454 4.7.0 TLS not available due to temporary reason' });
    expect(classified.outcome).toBe('tls-failure');
    expect(server.attempts).toEqual([]);
    expect(server.commands.some((c) => c.startsWith('AUTH'))).toBe(false);
  });

  it('a server that never greets is a timeout', async () => {
    const { classified } = await probeWith({ authReply: EXCHANGE_REPLIES.accepted, silent: true }, { timeoutMs: 300 });
    expect(classified.outcome).toBe('timeout');
  });

  it('a server that stops answering after the AUTH challenge is a timeout, not an unknown 334', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { classified, answer } = await probeWith({ authReply: EXCHANGE_REPLIES.accepted, beforeAuthReply: () => held }, { timeoutMs: 300 });
    release();
    expect(classified.outcome).toBe('timeout');
    expect(answer.stage).toBe('auth');
  });

  it('a closed port is connection refused', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const answer = await prober.probe(request(port));
    expect(classifyAnswer(answer).outcome).toBe('connection-refused');
  });
});
