/**
 * The lockout guard (a PlanCheck over the whole plan): a sender seen in usage data whose SMTP AUTH
 * is effectively ON before the plan and OFF after it "will break". Effective = the mailbox's value
 * after the plan if not $null, else the organization's value after the plan. Such a risk blocks apply
 * (exit 4) unless the playbook's acceptBreakage lists the sender (the engine adds --accept-breakage).
 * A sender already off before the plan is not broken by it: it gets a non-blocking warning instead.
 */
import type { PlanCheck, Risk, StepPlan } from '../types.js';
import { effectiveSmtpAuthDisabled } from './effective.js';
import type { UsageObserved } from './usage/index.js';
import { mergeUsageRows, type UsageRow } from './usage/usage-table.js';
import type { TriState } from '../../exchange/simulator/state.js';

const PROPERTY = 'SmtpClientAuthenticationDisabled';

function isUsage(value: unknown): value is UsageObserved {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'smtp-auth-usage';
}

/** What the plan leaves: the organization's value and each changed mailbox's value. */
function valuesAfter(plans: readonly StepPlan[]): { organization: boolean | undefined; mailboxes: Map<string, TriState> } {
  let organization: boolean | undefined;
  const mailboxes = new Map<string, TriState>();
  for (const change of plans.flatMap((p) => p.changes)) {
    if (change.property !== PROPERTY) continue;
    if (change.call.cmdlet === 'Set-TransportConfig') organization = change.after === true;
    else if (change.call.cmdlet === 'Set-CASMailbox') mailboxes.set(change.target.toLowerCase(), change.after as TriState);
  }
  return { organization, mailboxes };
}

export const lockoutGuard: PlanCheck = (plans, { playbook, observations }) => {
  const usage = [...observations.values()].filter(isUsage);
  const after = valuesAfter(plans);
  const turnsOff = after.organization === true || [...after.mailboxes.values()].includes(true);
  if (usage.length === 0) {
    return turnsOff
      ? [{ kind: 'warning', subject: 'usage', message: 'this plan turns SMTP AUTH off but the playbook has no smtp-auth/usage step: nobody can say who breaks', blocking: false }]
      : [];
  }
  const accepted = new Set(playbook.acceptBreakage.map((a) => a.toLowerCase()));
  const risks: Risk[] = [];
  for (const observed of usage) {
    if (observed.source === 'historical-search' && turnsOff) {
      risks.push({
        kind: 'warning',
        subject: 'usage',
        message: 'usage comes from a historical search whose report is mailed, not read here: the lockout guard has no senders to check (use report: with the admin center CSV)',
        blocking: false,
      });
    }
    const bySender = new Map(observed.senders.map((s) => [s.entry.toLowerCase(), s]));
    const organizationBefore = observed.organizationDisabled;
    const organizationAfter = after.organization ?? organizationBefore;
    for (const row of perSender(observed.rows)) {
      const resolved = bySender.get(row.sender.toLowerCase());
      const mailbox = resolved?.mailbox ?? null;
      const before: TriState = resolved?.value ?? null;
      const changed = mailbox !== null && after.mailboxes.has(mailbox.toLowerCase());
      const valueAfter: TriState = changed ? (after.mailboxes.get(mailbox!.toLowerCase()) as TriState) : before;
      const offBefore = effectiveSmtpAuthDisabled(before, organizationBefore);
      const offAfter = effectiveSmtpAuthDisabled(valueAfter, organizationAfter);
      if (!offAfter) continue;
      // The renderers print the subject and the message count beside the message: say only the why.
      const why =
        valueAfter === null
          ? mailbox === null
            ? 'no mailbox has this address, so the organization setting (off) applies'
            : `the organization goes off and ${mailbox === row.sender ? 'the mailbox' : mailbox} follows it ($null)`
          : `${mailbox === row.sender ? 'the mailbox' : mailbox} is set to $true`;
      const seen = [row.protocol === 'Unknown' ? '' : row.protocol, row.lastSeen ? `last seen ${row.lastSeen.slice(0, 10)}` : ''].filter(Boolean).join(', ');
      if (offBefore) {
        risks.push({
          kind: 'warning',
          subject: row.sender,
          message: `still seen in usage data${seen ? ` (${seen})` : ''} but SMTP AUTH is already off for it before this plan: its submissions fail, or the data is old`,
          blocking: false,
        });
        continue;
      }
      risks.push({
        kind: 'will-break',
        subject: row.sender,
        message: `loses SMTP AUTH${seen ? ` (${seen})` : ''}: ${why}. Allowlist it, or accept it with acceptBreakage`,
        messages: row.messages,
        accepted: accepted.has(row.sender.toLowerCase()) || (mailbox !== null && accepted.has(mailbox.toLowerCase())),
        blocking: true,
      });
    }
  }
  return risks;
};

/** One row per sender (protocols merged), so a sender is named once. */
function perSender(rows: readonly UsageRow[]): UsageRow[] {
  const merged = mergeUsageRows(rows);
  const bySender = new Map<string, UsageRow>();
  for (const row of merged) {
    const key = row.sender.toLowerCase();
    const seen = bySender.get(key);
    if (!seen) bySender.set(key, { ...row });
    else {
      seen.messages += row.messages;
      if (seen.protocol !== row.protocol) seen.protocol = seen.protocol === 'Basic' || row.protocol === 'Basic' ? 'Basic' : seen.protocol;
      if (row.lastSeen && (!seen.lastSeen || row.lastSeen > seen.lastSeen)) seen.lastSeen = row.lastSeen;
    }
  }
  return [...bySender.values()].sort((a, b) => b.messages - a.messages || a.sender.localeCompare(b.sender));
}
