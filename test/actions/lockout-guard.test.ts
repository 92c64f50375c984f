import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ACTIONS, PLAN_CHECKS } from '../../src/actions/registry.js';
import type { ResolvedPlaybookView, StepPlan } from '../../src/actions/types.js';
import { context, mailbox, playbookView, tenant } from './builders.js';

/** Observes and plans a playbook's steps the way the engine does, then runs the whole-plan checks. */
async function planPlaybook(steps: ResolvedPlaybookView['steps'], state = defaultTenant(), extra: Partial<ResolvedPlaybookView> = {}) {
  // The CSVs a test writes live in its temp folder: a root besides the fixtures (playbook fileRoots).
  const ctx = context(state, { baseDir: join(import.meta.dirname, 'fixtures'), fileRoots: [join(import.meta.dirname, 'fixtures'), dir] });
  const playbook = playbookView(steps, extra);
  const observations = new Map<string, unknown>();
  for (const step of steps) {
    const action = ACTIONS[step.uses]!;
    const withValue = action.withSchema.parse(step.with);
    observations.set(step.id, await action.observe(withValue, ctx, step.id));
  }
  const plans: StepPlan[] = steps.map((step) => {
    const action = ACTIONS[step.uses]!;
    return action.plan({ stepId: step.id, with: action.withSchema.parse(step.with), observed: observations.get(step.id), playbook, observations });
  });
  return PLAN_CHECKS.flatMap((check) => check(plans, { playbook, observations }));
}

const dir = mkdtempSync(join(tmpdir(), 'exo-guard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HEADER = 'Sender address,Domain,TLS 1.0 %,TLS 1.1 %,TLS 1.2 %,Messages sent,Authentication protocol';

function defaultTenant() {
  // scanner: $null (follows org, on); alice: $null; noreply-erp: explicit $true (already off).
  return tenant([mailbox('scanner'), mailbox('alice'), mailbox('noreply-erp', true), mailbox('bob')]);
}

const usage = { id: 'usage', uses: 'smtp-auth/usage', with: { report: 'smtp-auth-clients-report.csv' } };
const org = { id: 'org', uses: 'transport-config', with: { smtpClientAuthenticationDisabled: true } };
const allow = (mailboxes: string[]) => ({ id: 'allow', uses: 'smtp-auth/allowlist', with: { mailboxes, exclusive: true } });

describe('lockout guard', () => {
  it('lists senders the plan turns off as blocking will-break risks with their message counts', async () => {
    const risks = await planPlaybook([usage, org, allow(['scanner@contoso.com'])]);
    const breaking = risks.filter((r) => r.kind === 'will-break');
    expect(breaking.map((r) => [r.subject, r.messages, r.blocking, r.accepted])).toEqual([['alice@contoso.com', 24, true, false]]);
    // The clients report has no dates: the last-seen date is unknown, and said so.
    expect(breaking[0]!.message).toBe('loses SMTP AUTH (Basic, last seen unknown): the organization goes off and the mailbox follows it ($null). Allowlist it, or accept it with acceptBreakage');
    // noreply-erp was already off: a warning, not a block.
    expect(risks.find((r) => r.subject === 'noreply-erp@contoso.com')).toMatchObject({ kind: 'warning', blocking: false });
    // The CSV was read: it is evidence, so nothing is missing.
    expect(risks.filter((r) => r.kind === 'no-usage-evidence')).toEqual([]);
  });

  it('reports a sender that names no mailbox (typo, deleted account) without blocking', async () => {
    const risks = await planPlaybook([usage, org, allow(['scanner@contoso.com'])]);
    const ghost = risks.filter((r) => r.subject === 'ghost-printer@fabrikam.com');
    expect(ghost).toEqual([expect.objectContaining({ kind: 'warning', blocking: false })]);
    expect(ghost[0]!.message).toContain('names no mailbox of this tenant');
  });

  it("marks senders the playbook's acceptBreakage lists as accepted", async () => {
    const risks = await planPlaybook([usage, org, allow(['scanner@contoso.com'])], defaultTenant(), {
      acceptBreakage: ['ALICE@contoso.com'],
    });
    expect(risks.filter((r) => r.kind === 'will-break').map((r) => [r.subject, r.accepted])).toEqual([['alice@contoso.com', true]]);
  });

  it('accepts a sender by any address of its mailbox: usage names the UPN, acceptBreakage the primary', async () => {
    writeFileSync(join(dir, 'upn.csv'), `${HEADER}\r\nalice@contoso.onmicrosoft.com,contoso.onmicrosoft.com,0,0,100,24,Basic Authentication\r\n`);
    const byUpn = { id: 'usage', uses: 'smtp-auth/usage', with: { report: join(dir, 'upn.csv') } };
    const risks = await planPlaybook([byUpn, org, allow(['scanner@contoso.com'])], defaultTenant(), { acceptBreakage: ['alice@contoso.com'] });
    expect(risks.filter((r) => r.kind === 'will-break').map((r) => [r.subject, r.accepted])).toEqual([['alice@contoso.onmicrosoft.com', true]]);
  });

  it('accepts a sender by any address of its mailbox: usage names the primary, acceptBreakage the UPN or the alias', async () => {
    for (const entry of ['alice@contoso.onmicrosoft.com', 'alice']) {
      const risks = await planPlaybook([usage, org, allow(['scanner@contoso.com'])], defaultTenant(), { acceptBreakage: [entry] });
      expect(risks.filter((r) => r.kind === 'will-break').map((r) => [r.subject, r.accepted]), entry).toEqual([['alice@contoso.com', true]]);
    }
  });

  it('is silent when every active sender stays on', async () => {
    const risks = await planPlaybook([usage, org, allow(['scanner@contoso.com', 'alice@contoso.com', 'noreply-erp@contoso.com'])], tenant([
      mailbox('scanner'),
      mailbox('alice'),
      mailbox('noreply-erp'),
    ]));
    expect(risks.filter((r) => r.blocking && !r.accepted)).toEqual([]);
  });

  it('fails closed when SMTP AUTH is turned off with no usage step at all', async () => {
    const risks = await planPlaybook([org]);
    expect(risks).toEqual([expect.objectContaining({ kind: 'no-usage-evidence', blocking: true, accepted: false })]);
    expect(risks[0]!.message).toContain('the playbook has no smtp-auth/usage step');
  });

  it("acceptNoUsageEvidence (with its reason) accepts the missing evidence", async () => {
    const risks = await planPlaybook([org], defaultTenant(), { acceptNoUsageEvidence: { reason: 'CHG0042 approved by the CAB' } });
    expect(risks).toEqual([expect.objectContaining({ kind: 'no-usage-evidence', blocking: true, accepted: true })]);
    expect(risks[0]!.message).toContain('CHG0042 approved by the CAB');
  });

  it('a stray $false reset while the organization is already off takes SMTP AUTH away: evidence is needed', async () => {
    const offTenant = tenant([mailbox('scanner'), mailbox('stray', false)], { transportConfig: { SmtpClientAuthenticationDisabled: true } });
    const risks = await planPlaybook([allow(['scanner@contoso.com'])], offTenant);
    expect(risks.map((r) => r.kind)).toEqual(['no-usage-evidence']);
  });

  it('refuses a search that would still run when SMTP AUTH goes off: after the turn-off step, or with continueOnError', async () => {
    const search = { id: 'usage', uses: 'smtp-auth/usage', with: { days: 7 } };
    const accept = { acceptNoUsageEvidence: { reason: 'no usage data exists for this test tenant' } };
    const after = await planPlaybook([org, search], defaultTenant(), accept);
    expect(after.find((r) => r.kind === 'unfinished-search')?.message).toContain("comes after step 'org'");
    expect(after.filter((r) => r.kind === 'unfinished-search')).toEqual([expect.objectContaining({ blocking: true })]);
    const goOn = await planPlaybook([{ ...search, continueOnError: true }, org], defaultTenant(), accept);
    expect(goOn.filter((r) => r.kind === 'unfinished-search')).toEqual([expect.objectContaining({ blocking: true })]);
    const waited = await planPlaybook([search, org], defaultTenant(), accept);
    expect(waited.filter((r) => r.kind === 'unfinished-search')).toEqual([]);
  });

  it('needs no evidence for a plan that takes SMTP AUTH from nobody', async () => {
    const risks = await planPlaybook([{ id: 'org', uses: 'transport-config', with: { smtpClientAuthenticationDisabled: false } }]);
    expect(risks).toEqual([]);
  });
});

describe('lockout guard: how old the evidence is (tenant clock 2026-11-23T10:00Z)', () => {
  const report = (name: string, rows: string[] = ['alice@contoso.com,contoso.com,0,0,100,24,Basic Authentication']) => {
    writeFileSync(join(dir, name), [HEADER, ...rows, ''].join('\r\n'));
    return join(dir, name);
  };
  const step = (extra: Record<string, unknown>) => ({ id: 'usage', uses: 'smtp-auth/usage', with: extra });

  it('refuses a report exported two years ago: blocking, with its age, its period and how to refresh or accept it', async () => {
    const risks = await planPlaybook([step({ report: report('old.csv'), exportedAt: '2024-11-23', periodDays: 30 }), org, allow(['scanner@contoso.com'])]);
    const stale = risks.filter((r) => r.kind === 'stale-evidence');
    expect(stale).toEqual([expect.objectContaining({ subject: 'report', blocking: true, accepted: false })]);
    expect(stale[0]!.message).toContain('is 730 day(s) old: it covers 2024-10-24..2024-11-23, from the playbook: exportedAt: 2024-11-23, periodDays: 30');
    expect(stale[0]!.message).toContain('more than maxAgeDays (7)');
    expect(stale[0]!.message).toContain('set exportedAt:');
    expect(stale[0]!.message).toContain('acceptStaleEvidence: [{ source: report, reason: "..." }]');
    // Stale evidence is no evidence: the no-usage-evidence risk says why.
    expect(risks.find((r) => r.kind === 'no-usage-evidence')?.message).toContain('730 day(s) old (maxAgeDays 7)');
  });

  it('accepts the same report when the step names it in acceptStaleEvidence, with the reason shown', async () => {
    const reason = 'CHG0042: no device changed since the October export';
    const risks = await planPlaybook([step({ report: report('old.csv'), exportedAt: '2024-11-23', acceptStaleEvidence: [{ source: 'report', reason }] }), org, allow(['scanner@contoso.com'])]);
    expect(risks.filter((r) => r.kind === 'stale-evidence')).toEqual([expect.objectContaining({ accepted: true, blocking: true })]);
    expect(risks.find((r) => r.kind === 'stale-evidence')!.message).toContain(`Accepted by acceptStaleEvidence: ${reason}`);
    expect(risks.filter((r) => r.kind === 'no-usage-evidence')).toEqual([]);
  });

  it('maxAgeDays per step widens the window; naming another source accepts nothing', async () => {
    const wide = await planPlaybook([step({ report: report('old.csv'), exportedAt: '2026-11-01', maxAgeDays: 30 }), org, allow(['scanner@contoso.com'])]);
    expect(wide.filter((r) => r.kind === 'stale-evidence')).toEqual([]);
    const other = await planPlaybook([
      step({ report: report('old.csv'), exportedAt: '2026-11-01', acceptStaleEvidence: [{ source: 'signInLogs', reason: 'sign-in logs were checked by hand' }] }),
      org,
      allow(['scanner@contoso.com']),
    ]);
    expect(other.filter((r) => r.kind === 'stale-evidence')).toEqual([expect.objectContaining({ subject: 'report', accepted: false })]);
  });

  it("without exportedAt the file's modification time dates the report, and the risk says so", async () => {
    const file = report('mtime.csv');
    utimesSync(file, new Date('2026-10-01T00:00:00Z'), new Date('2026-10-01T00:00:00Z'));
    const risks = await planPlaybook([step({ report: file }), org, allow(['scanner@contoso.com'])]);
    const stale = risks.find((r) => r.kind === 'stale-evidence')!;
    expect(stale.message).toContain("is 53 day(s) old: it covers 2026-09-24..2026-10-01, from the file's modification time, the report carries no dates: set exportedAt:");
  });

  it('a fresh report with the real header and no rows is evidence of no senders, said so', async () => {
    const risks = await planPlaybook([step({ report: report('empty.csv', []), exportedAt: '2026-11-23T09:00:00Z' }), org, allow(['scanner@contoso.com'])]);
    expect(risks.filter((r) => r.kind === 'no-usage-evidence' || r.kind === 'stale-evidence' || r.kind === 'will-break')).toEqual([]);
    expect(risks.find((r) => r.kind === 'no-senders')).toMatchObject({ blocking: false, subject: 'report' });
    expect(risks.find((r) => r.kind === 'no-senders')!.message).toContain('no SMTP AUTH senders in 2026-11-16..2026-11-23');
  });

  it('an old report with no rows proves nothing: refused, and not shown as "no senders"', async () => {
    const risks = await planPlaybook([step({ report: report('empty-old.csv', []), exportedAt: '2026-10-01' }), org, allow(['scanner@contoso.com'])]);
    expect(risks.filter((r) => r.kind === 'no-senders')).toEqual([]);
    expect(risks.map((r) => r.kind)).toEqual(expect.arrayContaining(['stale-evidence', 'no-usage-evidence']));
  });
});


describe('maxAgeDays is exact, not whole days', () => {
  it('a report that ended 7 days and 12 hours before the run is older than maxAgeDays 7', async () => {
    const file = join(dir, 'seven-and-a-half.csv');
    writeFileSync(file, `${HEADER}\r\nalice@contoso.com,contoso.com,0,0,100,24,Basic Authentication\r\n`);
    // Tenant clock 2026-11-23T10:00Z; exported 2026-11-15T22:00Z.
    const risks = await planPlaybook([{ id: 'usage', uses: 'smtp-auth/usage', with: { report: file, exportedAt: '2026-11-15T22:00:00Z' } }, org, allow(['scanner@contoso.com'])]);
    expect(risks.find((r) => r.kind === 'stale-evidence')?.message).toContain('is more than 7 day(s) old');
    const fresh = await planPlaybook([{ id: 'usage', uses: 'smtp-auth/usage', with: { report: file, exportedAt: '2026-11-16T11:00:00Z' } }, org, allow(['scanner@contoso.com'])]);
    expect(fresh.filter((r) => r.kind === 'stale-evidence')).toEqual([]);
  });
});
