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
    ['security defaults', (s) => (s.smtp = { securityDefaults: true }), 'canary@contoso.com', 'basic-auth-blocked', /basic authentication is disabled/],
    ['Conditional Access blocks legacy auth', (s) => (s.smtp = { conditionalAccessBlocksLegacyAuth: true }), 'canary@contoso.com', 'basic-auth-blocked', /basic authentication is disabled/],
    ["Microsoft's Basic default off", (s) => (s.smtp = { basicAuthDefaultOff: true }), 'canary@contoso.com', 'basic-auth-blocked', /basic authentication is disabled/],
    ['Basic retired', (s) => (s.smtp = { basicAuthRetired: true }), 'canary@contoso.com', 'basic-retired', /^550 5\.7\.30 Basic authentication is not supported for Client Submission\.$/],
    ['unknown mailbox', () => {}, 'nobody@contoso.com', 'bad-credentials', /^535 5\.7\.3 Authentication unsuccessful/],
    ['wrong password', (s) => (s.smtp = { canaryPasswordSha256: { 'canary@contoso.com': createHash('sha256').update('something else').digest('hex') } }), 'canary@contoso.com', 'bad-credentials', /^535 5\.7\.3 /],
    ['timeout fault', (s) => (s.smtp = { fault: 'timeout' }), 'canary@contoso.com', 'timeout', /^TIMEOUT: /],
    ['connection refused fault', (s) => (s.smtp = { fault: 'connection-refused' }), 'canary@contoso.com', 'connection-refused', /^ECONNREFUSED: /],
    ['TLS failure fault', (s) => (s.smtp = { fault: 'tls-failure' }), 'canary@contoso.com', 'tls-failure', /^TLS: /],
  ];
  for (const [name, change, who, outcome, evidence] of cases) {
    it(`${name}: ${outcome}`, async () => {
      const state = base();
      change(state);
      const { classified, answer } = await probe(state, who);
      expect(classified.outcome).toBe(outcome);
      expect(classified.evidence).toMatch(evidence);
      expect(answer.transcript.join('\n')).not.toContain(PASSWORD);
    });
  }

  it('the right password hash is accepted', async () => {
    const state = base();
    state.smtp = { canaryPasswordSha256: { 'canary@contoso.com': createHash('sha256').update(PASSWORD).digest('hex') } };
    expect((await probe(state)).classified.outcome).toBe('accepted');
  });

  it('a Conditional Access exclusion lets the canary through', async () => {
    const state = base();
    state.smtp = { conditionalAccessBlocksLegacyAuth: true, conditionalAccessExclusions: ['canary@contoso.com'] };
    expect((await probe(state)).classified.outcome).toBe('accepted');
  });

  it('OAuth is not touched by the Basic blocks, but by the switches', async () => {
    const state = base();
    state.smtp = { securityDefaults: true, basicAuthDefaultOff: true, basicAuthRetired: true };
    expect((await probe(state, 'blocked@contoso.com', 'XOAUTH2', 'token')).classified.outcome).toBe('accepted');
    state.transportConfig.SmtpClientAuthenticationDisabled = true;
    expect((await probe(state, 'other@contoso.com', 'XOAUTH2', 'token')).classified.outcome).toBe('tenant-disabled');
  });
});
