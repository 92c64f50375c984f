/**
 * The simulated tenant answers probes from its state: the switches, the canary's authentication
 * policy, security defaults, Conditional Access, Microsoft's Basic default, retirement, and faults,
 * in the texts Exchange Online uses, so every outcome shows without a network.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyAnswer, type ProbeOutcome } from '../../src/smtp/classify.js';
import { SimulatedProber } from '../../src/smtp/simulated.js';
import type { ProbeMechanism } from '../../src/smtp/types.js';
import type { TenantState } from '../../src/exchange/simulator/state.js';
import { mailbox, tenant } from '../support/tenant.js';

const PASSWORD = 'Sim-Canary-Password-0123456789';
let dir: string | undefined;
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

function base(): TenantState {
  return tenant([mailbox('canary', false), mailbox('other', null), mailbox('blocked', false, { AuthenticationPolicy: 'Block Basic SMTP' })], {
    authenticationPolicies: [{ Name: 'Block Basic SMTP', AllowBasicAuthSmtp: false }],
  });
}

async function probe(state: TenantState, who = 'canary@contoso.onmicrosoft.com', mechanism: ProbeMechanism = 'LOGIN', secret = PASSWORD) {
  dir = mkdtempSync(join(tmpdir(), 'exo-sim-probe-'));
  const file = join(dir, 'tenant.json');
  writeFileSync(file, JSON.stringify(state));
  const prober = new SimulatedProber(file, async () => secret);
  const answer = await prober.probe({ host: 'smtp.office365.com', port: 587, mailbox: who, mechanism, secret: { kind: 'reference', reference: '${env:X}' }, timeoutMs: 1000, clientName: 't' });
  return { answer, classified: classifyAnswer(answer) };
}

describe('simulated probe answers', () => {
  const cases: [string, (s: TenantState) => void, string, ProbeOutcome, RegExp][] = [
    ['allowlisted canary, nothing blocks Basic', () => {}, 'canary@contoso.onmicrosoft.com', 'accepted', /^235 2\.7\.0/],
    ['organization off, mailbox follows it', (s) => (s.transportConfig.SmtpClientAuthenticationDisabled = true), 'other@contoso.com', 'tenant-disabled', /disabled for the Tenant\. Visit https:\/\/aka\.ms\/smtp_auth_disabled/],
    ['mailbox switch off', (s) => (s.mailboxes[0]!.SmtpClientAuthenticationDisabled = true), 'canary@contoso.com', 'mailbox-disabled', /disabled for the Mailbox\./],
    ['authentication policy blocks Basic', () => {}, 'blocked@contoso.com', 'basic-auth-blocked', /^535 5\.7\.139 Authentication unsuccessful, basic authentication is disabled\./],
    ['security defaults', (s) => (s.smtp = { securityDefaults: true }), 'canary@contoso.com', 'security-defaults', /^535 5\.7\.139 Authentication unsuccessful, user is locked by your organization's security defaults policy\. Contact your administrator\./],
    ['Conditional Access blocks legacy auth', (s) => (s.smtp = { conditionalAccessBlocksLegacyAuth: true }), 'canary@contoso.com', 'conditional-access', /^535 5\.7\.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully\. Contact your administrator\./],
    ["the tenant-level Basic block (Microsoft's default, assumed)", (s) => (s.smtp = { basicAuthDefaultOff: true }), 'canary@contoso.com', 'basic-auth-blocked', /basic authentication is disabled/],
    ['Basic retired', (s) => (s.smtp = { basicAuthRetired: true }), 'canary@contoso.com', 'basic-retired', /^550 5\.7\.30 Basic authentication is not supported for Client Submission\.$/],
    ['unknown mailbox', () => {}, 'nobody@contoso.com', 'bad-credentials', /^535 5\.7\.3 Authentication unsuccessful/],
    ['wrong password', (s) => (s.smtp = { canaryPasswordSha256: { 'canary@contoso.com': createHash('sha256').update('something else').digest('hex') } }), 'canary@contoso.com', 'bad-credentials', /^535 5\.7\.3 /],
  ];
  for (const [name, change, who, outcome, evidence] of cases) {
    it(`${name}: ${outcome}`, async () => {
      const state = base();
      change(state);
      const { classified, answer } = await probe(state, who);
      expect(classified).toMatchObject({ kind: 'answer', outcome });
      expect(classified.evidence).toMatch(evidence);
      expect(answer.transcript.join('\n')).not.toContain(PASSWORD);
    });
  }

  it.each([
    ['timeout', 'timeout', /^TIMEOUT: /],
    ['connection-refused', 'connect', /^ECONNREFUSED: /],
    ['tls-failure', 'tls', /^TLS: /],
  ] as const)('the %s fault reaches no server: unreachable (%s), no outcome', async (fault, reason, evidence) => {
    const state = base();
    state.smtp = { fault };
    const { classified } = await probe(state);
    expect(classified).toMatchObject({ kind: 'unreachable', reason });
    expect(classified.evidence).toMatch(evidence);
  });

  it('AUTH PLAIN is not offered (LOGIN XOAUTH2, as smtp.office365.com) unless the state says so', async () => {
    const state = base();
    expect((await probe(state, 'canary@contoso.com', 'PLAIN')).classified).toMatchObject({ kind: 'not-offered', mechanism: 'PLAIN', offered: ['LOGIN', 'XOAUTH2'] });
    state.smtp = { authMechanisms: ['LOGIN', 'PLAIN'] };
    expect((await probe(state, 'canary@contoso.com', 'PLAIN')).classified).toMatchObject({ kind: 'answer', outcome: 'accepted' });
  });

  it('the right password hash is accepted', async () => {
    const state = base();
    state.smtp = { canaryPasswordSha256: { 'canary@contoso.com': createHash('sha256').update(PASSWORD).digest('hex') } };
    expect((await probe(state)).classified).toMatchObject({ outcome: 'accepted' });
  });

  it('a Conditional Access exclusion lets the canary through', async () => {
    const state = base();
    state.smtp = { conditionalAccessBlocksLegacyAuth: true, conditionalAccessExclusions: ['canary@contoso.com'] };
    expect((await probe(state)).classified).toMatchObject({ outcome: 'accepted' });
  });

  it('OAuth is not touched by the Basic blocks, but by the switches', async () => {
    const state = base();
    state.smtp = { securityDefaults: true, basicAuthDefaultOff: true, basicAuthRetired: true };
    expect((await probe(state, 'blocked@contoso.com', 'XOAUTH2', 'token')).classified).toMatchObject({ outcome: 'accepted' });
    state.transportConfig.SmtpClientAuthenticationDisabled = true;
    expect((await probe(state, 'other@contoso.com', 'XOAUTH2', 'token')).classified).toMatchObject({ outcome: 'tenant-disabled' });
  });
});
