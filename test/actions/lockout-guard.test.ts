import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTIONS, PLAN_CHECKS } from '../../src/actions/registry.js';
import type { ResolvedPlaybookView, StepPlan } from '../../src/actions/types.js';
import { context, mailbox, playbookView, tenant } from './builders.js';

/** Observes and plans a playbook's steps the way the engine does, then runs the whole-plan checks. */
async function planPlaybook(steps: ResolvedPlaybookView['steps'], state = defaultTenant(), extra: Partial<ResolvedPlaybookView> = {}) {
  const ctx = context(state, { baseDir: join(import.meta.dirname, 'fixtures') });
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
    expect(breaking.map((r) => [r.subject, r.messages, r.blocking, r.accepted])).toEqual([
      ['alice@contoso.com', 24, true, false],
      ['ghost-printer@fabrikam.com', 3, true, false],
    ]);
    expect(breaking[0]!.message).toBe('loses SMTP AUTH (Basic, last seen 2026-11-22): the organization goes off and the mailbox follows it ($null). Allowlist it, or accept it with acceptBreakage');
    expect(breaking[1]!.message).toContain('no mailbox has this address');
    // noreply-erp was already off: a warning, not a block.
    expect(risks.find((r) => r.subject === 'noreply-erp@contoso.com')).toMatchObject({ kind: 'warning', blocking: false });
  });

  it("marks senders the playbook's acceptBreakage lists as accepted", async () => {
    const risks = await planPlaybook([usage, org, allow(['scanner@contoso.com'])], defaultTenant(), {
      acceptBreakage: ['ALICE@contoso.com'],
    });
    expect(risks.filter((r) => r.kind === 'will-break').map((r) => [r.subject, r.accepted])).toEqual([
      ['alice@contoso.com', true],
      ['ghost-printer@fabrikam.com', false],
    ]);
  });

  it('is silent when every active sender stays on', async () => {
    const risks = await planPlaybook([usage, org, allow(['scanner@contoso.com', 'alice@contoso.com', 'noreply-erp@contoso.com'])], tenant([
      mailbox('scanner'),
      mailbox('alice'),
      mailbox('noreply-erp'),
    ]), { acceptBreakage: ['ghost-printer@fabrikam.com'] });
    expect(risks.filter((r) => r.kind === 'will-break' && !r.accepted)).toEqual([]);
  });

  it('warns when SMTP AUTH is turned off with no usage data at all', async () => {
    const risks = await planPlaybook([org]);
    expect(risks).toEqual([expect.objectContaining({ kind: 'warning', blocking: false, subject: 'usage' })]);
  });
});
