/**
 * The simulated tenant's Graph: the same usage-source code as against the real service, answered
 * from the state file (paging, licence error, throttling knob, concealed names).
 */
import { describe, expect, it } from 'vitest';
import { emailAppUsageEvidence } from '../../src/actions/smtp-auth/usage/email-app-usage.js';
import { signInLogsEvidence } from '../../src/actions/smtp-auth/usage/sign-in-logs.js';
import { generateTenant } from '../../src/exchange/simulator/generate.js';
import type { SimSignIn, TenantState } from '../../src/exchange/simulator/state.js';
import { GraphError } from '../../src/graph/client.js';
import { DEFAULT_POLICY, type RequestPolicy } from '../../src/graph/requests.js';
import { SIM_PAGE_SIZE, SimulatedGraphClient } from '../../src/graph/simulated.js';
import { mailbox, tenant } from '../support/tenant.js';

const CLOCK = '2026-11-23T10:00:00.000Z';
const slept: number[] = [];
const policy: RequestPolicy = { ...DEFAULT_POLICY, sleep: async (ms) => void slept.push(ms) };
const client = (state: TenantState) => new SimulatedGraphClient(async () => state);

function signIns(n: number, upn = (i: number) => `user${i % 7}@contoso.com`): SimSignIn[] {
  return Array.from({ length: n }, (_, i) => ({
    id: String(i),
    createdDateTime: new Date(Date.parse(CLOCK) - (i + 1) * 3600_000).toISOString(),
    userPrincipalName: upn(i),
    clientAppUsed: 'Authenticated SMTP',
    ipAddress: `10.0.0.${i % 5}`,
    status: { errorCode: i % 10 === 0 ? 50126 : 0, failureReason: null },
  }));
}

describe('simulated Graph', () => {
  it('pages sign-ins by @odata.nextLink and keeps only the window asked for', async () => {
    const state = tenant([mailbox('a')], { clock: CLOCK, graph: { signIns: [...signIns(SIM_PAGE_SIZE * 2 + 5), ...signIns(1, () => 'old@contoso.com').map((s) => ({ ...s, createdDateTime: '2026-09-01T00:00:00.000Z' }))] } });
    const evidence = await signInLogsEvidence(client(state), 30, new Date(CLOCK), policy);
    expect(evidence.label).toContain(`${SIM_PAGE_SIZE * 2 + 5} sign-in(s), 3 page(s)`);
    expect(evidence.senders.map((s) => s.sender).sort()).toEqual(['user0@contoso.com', 'user1@contoso.com', 'user2@contoso.com', 'user3@contoso.com', 'user4@contoso.com', 'user5@contoso.com', 'user6@contoso.com']);
    expect(evidence.senders.reduce((n, s) => n + (s.failures ?? 0), 0)).toBe(11);
  });

  it('answers the licence error without Entra ID P1/P2', async () => {
    const state = tenant([], { clock: CLOCK, graph: { signIns: signIns(3), entraPremium: false } });
    const error = await signInLogsEvidence(client(state), 30, new Date(CLOCK), policy).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphError);
    expect((error as GraphError).message).toContain("Neither tenant is B2C or tenant doesn't have premium license");
    expect((error as GraphError).status).toBe(403);
  });

  it('a throttled request is retried after Retry-After', async () => {
    slept.length = 0;
    const state = tenant([], { clock: CLOCK, graph: { signIns: signIns(2), throttleRequest: 1 } });
    const evidence = await signInLogsEvidence(client(state), 30, new Date(CLOCK), policy);
    expect(slept).toEqual([1000]);
    expect(evidence.senders).toHaveLength(2);
  });

  it('serves the email app usage report; concealed names are detected, not matched', async () => {
    const state = generateTenant({ mailboxes: 50, seed: 'graph', clock: CLOCK, usageDetail: true });
    const open = await emailAppUsageEvidence(client(state), 'D180', policy);
    expect(open.complete).toBe(true);
    expect(open.senders.length).toBeGreaterThan(0);
    const smtpUsers = open.senders.length;
    state.graph!.concealedNames = true;
    const hidden = await emailAppUsageEvidence(client(state), 'D180', policy);
    expect(hidden.senders).toEqual([]);
    expect(hidden.complete).toBe(false);
    expect(hidden.warnings[0]).toContain(`${smtpUsers} SMTP App user(s) have concealed names`);
  });

  it('the generator adds sign-ins for Basic senders only, a sender only the sign-in logs know, and a failing device', () => {
    const state = generateTenant({ mailboxes: 200, seed: 'fixture', clock: CLOCK, usageDetail: true });
    const basic = new Set(state.smtpAuthActivity.filter((a) => a.protocol === 'Basic').map((a) => a.sender.toLowerCase()));
    const oauth = new Set(state.smtpAuthActivity.filter((a) => a.protocol === 'OAuth').map((a) => a.sender.toLowerCase()));
    const upns = new Set(state.graph!.signIns.map((s) => s.userPrincipalName.toLowerCase()));
    for (const upn of upns) expect(oauth.has(upn)).toBe(false);
    expect([...basic].every((s) => upns.has(s))).toBe(true);
    expect([...upns].filter((u) => !basic.has(u))).toHaveLength(2);
    expect(state.graph!.signIns.filter((s) => s.status.errorCode !== 0)).toHaveLength(3);
    // Without usageDetail the generator makes exactly what it always made (fixtures stay valid).
    expect(generateTenant({ mailboxes: 200, seed: 'fixture', clock: CLOCK }).graph).toBeUndefined();
  });
});
