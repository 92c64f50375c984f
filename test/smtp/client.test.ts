/**
 * The real prober (nodemailer's SMTPConnection) against a loopback server that answers as Exchange
 * Online does, with STARTTLS and a certificate made for this run: each answer is classified, the
 * server's exact line is the evidence, and the client never sends MAIL FROM.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodemailerProber } from '../../src/smtp/client.js';
import { classifyAnswer, type ProbeOutcome, type ProbeVerdict } from '../../src/smtp/classify.js';
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

const outcomeOf = (verdict: ProbeVerdict) => (verdict.kind === 'answer' ? verdict.outcome : verdict.kind);

describe('probe against a loopback Exchange-like server over STARTTLS', () => {
  const cases: [string, string, ProbeOutcome][] = [
    ['accepted', EXCHANGE_REPLIES.accepted, 'accepted'],
    ['tenant switch off', EXCHANGE_REPLIES.tenantDisabled, 'tenant-disabled'],
    ['mailbox switch off', EXCHANGE_REPLIES.mailboxDisabled, 'mailbox-disabled'],
    ['Basic disabled (policy or tenant-level block)', EXCHANGE_REPLIES.basicDisabled, 'basic-auth-blocked'],
    ['security defaults', EXCHANGE_REPLIES.securityDefaults, 'security-defaults'],
    ['Conditional Access', EXCHANGE_REPLIES.conditionalAccess, 'conditional-access'],
    ['bad credentials', EXCHANGE_REPLIES.badCredentials, 'bad-credentials'],
    ['Basic retired', EXCHANGE_REPLIES.retired, 'basic-retired'],
    ['mechanism refused', EXCHANGE_REPLIES.unrecognizedMechanism, 'mechanism-refused'],
    ['an answer nobody documented', '535 5.7.139 Authentication unsuccessful, something new.', 'unknown'],
  ];
  for (const [name, reply, outcome] of cases) {
    it(`${name}: ${outcome}, with the exact line as evidence`, async () => {
      const { answer, classified, server } = await probeWith({ authReply: reply });
      expect(classified).toMatchObject({ kind: 'answer', outcome, evidence: reply });
      // The conversation a device has: EHLO, STARTTLS, EHLO, AUTH, QUIT; never MAIL FROM.
      expect(server.commands.map((c) => c.split(' ')[0])).toEqual(['EHLO', 'STARTTLS', 'EHLO', 'AUTH', 'QUIT']);
      expect(server.commands.some((c) => /^MAIL\b/i.test(c))).toBe(false);
      expect(server.attempts).toEqual([{ mechanism: 'LOGIN', user: 'canary@contoso.com', secret: PASSWORD }]);
      expect(answer.transcript.join('\n')).not.toContain(PASSWORD);
      expect(answer.transcript.join('\n')).not.toContain(Buffer.from(PASSWORD).toString('base64'));
      expect(answer.transcript).toContain('C: AUTH LOGIN <redacted>');
    });
  }

  it('PLAIN against a server that advertises AUTH LOGIN XOAUTH2 (as smtp.office365.com): not tried, nothing sent, the offer is the evidence', async () => {
    const { classified, server, answer } = await probeWith({ authReply: EXCHANGE_REPLIES.accepted }, { mechanism: 'PLAIN' });
    expect(classified).toEqual({ kind: 'not-offered', mechanism: 'PLAIN', offered: ['LOGIN', 'XOAUTH2'], evidence: '250 AUTH LOGIN XOAUTH2' });
    expect(server.attempts).toEqual([]);
    expect(server.commands.map((c) => c.split(' ')[0])).toEqual(['EHLO', 'STARTTLS', 'EHLO', 'QUIT']);
    expect(answer.transcript).toContain('-- AUTH PLAIN is not advertised (AUTH LOGIN XOAUTH2): not tried');
  });

  it('a server that advertises no AUTH at all: nothing is tried', async () => {
    const { classified, server } = await probeWith({ authReply: EXCHANGE_REPLIES.accepted, advertise: [] });
    expect(classified).toMatchObject({ kind: 'not-offered', mechanism: 'LOGIN', offered: [] });
    expect(server.attempts).toEqual([]);
  });

  it('a server that lists PLAIN but refuses it answers 504 5.7.4: mechanism-refused, with the line', async () => {
    const { classified, server } = await probeWith({ authReply: EXCHANGE_REPLIES.accepted, advertise: ['LOGIN', 'PLAIN', 'XOAUTH2'] }, { mechanism: 'PLAIN' });
    expect(classified).toMatchObject({ kind: 'answer', outcome: 'mechanism-refused', evidence: '504 5.7.4 Unrecognized authentication type' });
    expect(server.attempts).toEqual([{ mechanism: 'PLAIN', user: 'canary@contoso.com', secret: PASSWORD }]);
  });

  it.each<[ProbeMechanism]>([['PLAIN'], ['XOAUTH2']])('%s, when offered, sends the secret the server expects and keeps it out of the transcript', async (mechanism) => {
    const scenario = { authReply: EXCHANGE_REPLIES.accepted, advertise: ['LOGIN', 'PLAIN', 'XOAUTH2'], replies: { PLAIN: EXCHANGE_REPLIES.accepted } };
    const { classified, server, answer } = await probeWith(scenario, { mechanism });
    expect(outcomeOf(classified)).toBe('accepted');
    expect(server.attempts).toEqual([{ mechanism, user: 'canary@contoso.com', secret: PASSWORD }]);
    expect(answer.transcript).toContain(`C: AUTH ${mechanism} <redacted>`);
    expect(answer.transcript.join('\n')).not.toMatch(new RegExp(`${PASSWORD}|${Buffer.from(PASSWORD).toString('base64').slice(0, 12)}`));
  });

  it('an untrusted certificate: unreachable (TLS), and no credentials are sent', async () => {
    const { classified, server } = await probeWith({ authReply: EXCHANGE_REPLIES.accepted }, { caFile: undefined });
    expect(classified).toMatchObject({ kind: 'unreachable', reason: 'tls' });
    expect(classified.evidence).toMatch(/^TLS: .*certificate/i);
    expect(server.attempts).toEqual([]);
  });

  it('STARTTLS refused: unreachable (TLS), and no credentials are sent in the clear', async () => {
    const { classified, server } = await probeWith({ authReply: EXCHANGE_REPLIES.accepted, refuseStartTls: '454 4.7.0 TLS not available due to temporary reason' });
    expect(classified).toMatchObject({ kind: 'unreachable', reason: 'tls' });
    expect(server.attempts).toEqual([]);
    expect(server.commands.some((c) => c.startsWith('AUTH'))).toBe(false);
  });

  it('a server that never greets: unreachable (timeout)', async () => {
    const { classified } = await probeWith({ authReply: EXCHANGE_REPLIES.accepted, silent: true }, { timeoutMs: 300 });
    expect(classified).toMatchObject({ kind: 'unreachable', reason: 'timeout' });
  });

  it('a server that stops answering after the AUTH challenge: unreachable (timeout), not an unknown 334', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // Long enough for the TLS handshake on a loaded machine; only the held AUTH reply may time out.
    const { classified, answer } = await probeWith({ authReply: EXCHANGE_REPLIES.accepted, beforeAuthReply: () => held }, { timeoutMs: 2000 });
    release();
    expect(classified).toMatchObject({ kind: 'unreachable', reason: 'timeout' });
    expect(answer.stage).toBe('auth');
  });

  it('a closed port: unreachable (connect)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const answer = await prober.probe(request(port));
    expect(classifyAnswer(answer)).toMatchObject({ kind: 'unreachable', reason: 'connect', evidence: expect.stringMatching(/^CONNECT: .*ECONNREFUSED/) });
  });
});

describe('classifying what is no answer', () => {
  const base = { serverLine: null, notOffered: null } as const;
  it.each([
    ['DNS', 'dns'],
    ['CONNECT', 'connect'],
    ['TIMEOUT', 'timeout'],
    ['TLS', 'tls'],
  ] as const)('%s before AUTH is unreachable (%s)', (code, reason) => {
    expect(classifyAnswer({ ...base, stage: 'connect', failure: { code, message: 'x' } })).toMatchObject({ kind: 'unreachable', reason, evidence: `${code}: x` });
  });

  it('a 235 before AUTH (a greeting that starts so) is no acceptance', () => {
    expect(classifyAnswer({ ...base, stage: 'greeting', serverLine: '235 hello', failure: { code: 'ECONNRESET', message: 'closed' } }).kind).toBe('unreachable');
  });
});
