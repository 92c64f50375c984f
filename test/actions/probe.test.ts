/**
 * smtp-auth/probe as a step: its `with` block (secrets only as references, kept unresolved), what
 * plan and verify make of an observation, the default-change explanation only when the tenant's own
 * settings allow Basic, and the probe's volatile parts left out of the plan fingerprint.
 */
import { describe, expect, it } from 'vitest';
import { defaultChangeExplanation, planProbe, probeAction, verifyProbe, type ProbeObservation, type ProbeWith } from '../../src/actions/smtp-auth/probe.js';
import { InputError, SessionError } from '../../src/errors.js';
import { fingerprintObservations } from '../../src/engine/fingerprint.js';
import { loadPlaybookFromText, PlaybookInvalid } from '../../src/playbook/load.js';
import { classifyAnswer } from '../../src/smtp/classify.js';
import type { ProbeRequest, SmtpProber } from '../../src/smtp/types.js';
import { context, mailbox, tenant } from './builders.js';

const playbook = (withBlock: string[]) =>
  ['apiVersion: exo-playbook/v1', 'name: p', 'tenant:', '  organization: contoso.onmicrosoft.com', '  auth: { method: azure-cli }', 'steps:', '  - id: probe', '    uses: smtp-auth/probe', '    with:', ...withBlock.map((l) => `      ${l}`), ''].join('\n');

async function problems(text: string, env: NodeJS.ProcessEnv = { PW: 'x' }) {
  const error = await loadPlaybookFromText(text, '/tmp/p.yaml', { env }).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(PlaybookInvalid);
  return (error as PlaybookInvalid).problems.map((p) => `${p.location.line}:${p.location.col} ${p.message} (${p.path})`);
}

describe('smtp-auth/probe with:', () => {
  it('keeps the password reference unresolved, so the secret never enters the playbook, its hash or plans', async () => {
    const loaded = await loadPlaybookFromText(playbook(['mailbox: canary@contoso.com', 'password: "${env:PW}"', 'expect: accepted']), '/tmp/p.yaml', { env: { PW: 'the-secret-value' } });
    const step = loaded.playbook.steps[0]!;
    expect(step.with).toMatchObject({ mailbox: 'canary@contoso.com', password: '${env:PW}', auth: 'basic', host: 'smtp.office365.com', port: 587 });
    expect(JSON.stringify(loaded.playbook)).not.toContain('the-secret-value');
  });

  it('refuses an inline password, at its line', async () => {
    expect(await problems(playbook(['mailbox: canary@contoso.com', 'password: hunter2-inline', 'expect: accepted']))).toEqual([
      expect.stringMatching(/^11:\d+ secrets are never written inline; use \$\{env:NAME\} \(steps\.0\.with\.password\)$/),
    ]);
  });

  it('a Basic probe needs a password; an OAuth probe takes a token, not a password', async () => {
    expect((await problems(playbook(['mailbox: canary@contoso.com', 'expect: accepted']))).join('\n')).toMatch(/a Basic probe needs password/);
    expect((await problems(playbook(['mailbox: canary@contoso.com', 'auth: oauth', 'password: "${env:PW}"', 'expect: accepted']))).join('\n')).toMatch(/takes token:, not password:/);
  });

  it('unknown is never an expectation', async () => {
    expect((await problems(playbook(['mailbox: canary@contoso.com', 'password: "${env:PW}"', 'expect: unknown']))).join('\n')).toMatch(/steps\.0\.with\.expect/);
  });
});

function observation(overrides: Partial<ProbeObservation> = {}, evidence = '235 2.7.0 Authentication successful'): ProbeObservation {
  return {
    kind: 'smtp-probe',
    mailbox: 'canary@contoso.com',
    mechanism: 'LOGIN',
    endpoint: 'smtp.office365.com:587',
    outcome: 'accepted',
    meaning: 'accepted',
    settings: null,
    volatile: { evidence, probedAt: '2027-01-05T08:00:00.000Z', transcript: ['C: AUTH LOGIN <redacted>'] },
    ...overrides,
  };
}

const withBlock = (expect: ProbeWith['expect']): ProbeWith => ({ mailbox: 'canary@contoso.com', auth: 'basic', password: '${env:PW}', expect, host: 'smtp.office365.com', port: 587, timeoutSeconds: 30 });
const input = (w: ProbeWith, observed: ProbeObservation) => ({ stepId: 'probe', with: w, observed, playbook: { name: 'p', acceptBreakage: [], steps: [] }, observations: new Map() });

describe('plan and verify of a probe', () => {
  it('a match passes and is already as desired; a mismatch fails with the evidence line', () => {
    expect(verifyProbe(input(withBlock('accepted'), observation()))).toEqual([expect.objectContaining({ status: 'pass', check: 'probe' })]);
    expect(planProbe(input(withBlock('accepted'), observation())).inDesiredState).toHaveLength(1);
    const refused = observation({ outcome: 'mailbox-disabled' }, '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.');
    const [finding] = verifyProbe(input(withBlock('accepted'), refused));
    expect(finding).toMatchObject({ status: 'fail', subject: 'canary@contoso.com' });
    expect(finding!.message).toContain('expected accepted, found mailbox-disabled');
    expect(finding!.message).toContain('disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled');
  });

  it('an unknown answer always fails, quoted verbatim', () => {
    const unknown = observation({ outcome: 'unknown' }, '451 4.7.500 Server busy. Please try again later.');
    const [finding] = verifyProbe(input(withBlock(['accepted', 'bad-credentials']), unknown));
    expect(finding!.status).toBe('fail');
    expect(finding!.message).toContain('an answer this tool does not know');
    expect(finding!.message).toContain('451 4.7.500 Server busy. Please try again later.');
  });

  it("blames Microsoft's default only when the switches are on for the canary and no policy blocks Basic", () => {
    const blocked = (settings: ProbeObservation['settings'], mechanism: ProbeObservation['mechanism'] = 'LOGIN') =>
      observation({ outcome: 'basic-auth-blocked', settings, mechanism }, '535 5.7.139 Authentication unsuccessful, basic authentication is disabled.');
    const allowed = { organizationDisabled: true, mailboxValue: false, blockingPolicy: null };
    const explained = defaultChangeExplanation(blocked(allowed))!;
    expect(explained).toMatch(/refused on 2027-01-05 with "basic authentication is disabled" \(server: 535 5\.7\.139 .*\).*a likely cause is Microsoft's default change .*this probe ran on 2027-01-05\)/);
    // A likelihood with its evidence, never stated as fact.
    expect(explained).toContain('This is an inference, not a fact: Microsoft has published no reply text for that state (the only published one, 550 5.7.30, is for the final removal).');
    expect(explained).not.toMatch(/has (most likely )?reached/);
    const early = { ...blocked(allowed), volatile: { ...blocked(allowed).volatile, probedAt: '2026-11-20T08:00:00.000Z' } };
    expect(defaultChangeExplanation(early)).toContain('before that month, which makes it less likely');
    expect(defaultChangeExplanation(blocked({ ...allowed, blockingPolicy: 'No Basic' }))).toBeNull();
    expect(defaultChangeExplanation(blocked({ ...allowed, mailboxValue: null }))).toBeNull();
    expect(defaultChangeExplanation(blocked(null))).toBeNull();
    const findings = verifyProbe(input(withBlock('accepted'), blocked(allowed)));
    expect(findings.map((f) => `${f.check}:${f.status}`)).toEqual(['probe:fail', 'basic-default-change:warn']);
  });

  it("the evidence's timestamp, the time and the transcript do not make a saved plan stale", () => {
    const a = observation({}, '535 5.7.3 Authentication unsuccessful [X 2026-11-29T15:44:48Z 08DC]');
    const b = { ...observation({}, '535 5.7.3 Authentication unsuccessful [Y 2026-11-29T15:50:01Z 08DD]'), volatile: { ...a.volatile, evidence: 'other', probedAt: '2026-11-29T16:00:00Z' } };
    expect(fingerprintObservations(new Map([['probe', a]])).fingerprint).toBe(fingerprintObservations(new Map([['probe', b]])).fingerprint);
    expect(fingerprintObservations(new Map([['probe', a]])).fingerprint).not.toBe(fingerprintObservations(new Map([['probe', { ...a, outcome: 'accepted' as const, mechanism: 'PLAIN' as const }]])).fingerprint);
  });
});

describe('observe', () => {
  it('reads the canary settings from the tenant when Basic is refused as disabled', async () => {
    const state = tenant([mailbox('canary', false)], { transportConfig: { SmtpClientAuthenticationDisabled: true } });
    const requests: ProbeRequest[] = [];
    const smtp: SmtpProber = {
      kind: 'smtp',
      probe: async (request) => {
        requests.push(request);
        return { stage: 'auth', serverLine: '535 5.7.139 Authentication unsuccessful, basic authentication is disabled.', failure: null, notOffered: null, transcript: [], at: '2027-01-05T08:00:00.000Z' };
      },
    };
    const ctx = context(state, { smtp, baseDir: '/pb' });
    const observed = await probeAction.observe({ ...withBlock('accepted'), caFile: 'ca.pem' }, ctx, 'probe');
    expect(requests[0]).toMatchObject({ mailbox: 'canary@contoso.com', mechanism: 'LOGIN', caFile: '/pb/ca.pem', secret: { kind: 'reference', reference: '${env:PW}' } });
    expect(classifyAnswer(await smtp.probe(requests[0]!))).toMatchObject({ outcome: observed.outcome });
    expect(observed.outcome).toBe('basic-auth-blocked');
    expect(observed.settings).toEqual({ organizationDisabled: true, mailboxValue: false, blockingPolicy: null });
    // Probing sends no write cmdlet.
    expect(ctx.calls.map((c) => c.cmdlet).filter((c) => !c.startsWith('Get-'))).toEqual([]);
  });

  it('no server reached is an error of the step (exit 1), never an observation verify could call drift', async () => {
    const state = tenant([mailbox('canary', false)]);
    const smtp: SmtpProber = {
      kind: 'smtp',
      probe: async () => ({ stage: 'connect', serverLine: null, failure: { code: 'DNS', message: 'getaddrinfo ENOTFOUND smtp.office365.com' }, notOffered: null, transcript: [], at: '2027-01-05T08:00:00.000Z' }),
    };
    const failed = await probeAction.observe(withBlock('accepted'), context(state, { smtp, baseDir: '/pb' }), 'probe').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(SessionError);
    expect((failed as Error).message).toContain('could not reach smtp.office365.com:587: the host name did not resolve (DNS: getaddrinfo ENOTFOUND smtp.office365.com)');
  });

  it('a mechanism the server does not offer is a user error naming what it offers', async () => {
    const state = tenant([mailbox('canary', false)]);
    const smtp: SmtpProber = {
      kind: 'smtp',
      probe: async () => ({ stage: 'ehlo', serverLine: '250-AUTH LOGIN XOAUTH2', failure: null, notOffered: { mechanism: 'PLAIN', offered: ['LOGIN', 'XOAUTH2'] }, transcript: [], at: '2027-01-05T08:00:00.000Z' }),
    };
    const failed = await probeAction.observe({ ...withBlock('accepted'), auth: 'basic-plain' }, context(state, { smtp, baseDir: '/pb' }), 'probe').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(InputError);
    expect((failed as InputError).message).toContain('does not offer AUTH PLAIN after STARTTLS (it advertises AUTH LOGIN XOAUTH2)');
    expect((failed as InputError).hint).toContain('auth: basic (AUTH LOGIN)');
  });
});
