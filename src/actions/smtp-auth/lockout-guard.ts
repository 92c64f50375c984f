/**
 * The lockout guard (a PlanCheck over the whole plan). It fails closed:
 * - A plan that takes SMTP AUTH away from any mailbox (the organization goes off, or a mailbox's
 *   effective switch goes from on to off) needs usage evidence: at least one source this run READ
 *   completely whose period ends within the step's maxAgeDays (default 7) of the run; older evidence
 *   is refused unless accepted by name (evidence-guard.ts). Without it a blocking `no-usage-evidence`
 *   risk names what is missing; the playbook's acceptNoUsageEvidence (with a reason) or
 *   --accept-no-usage-evidence accepts it.
 * - SMTP AUTH must not go off before a historical search this run submits has finished: a search
 *   with `wait: false` in such a plan is a blocking `unfinished-search` risk nothing accepts.
 * - A sender seen in usage data whose SMTP AUTH is effectively ON before the plan and OFF after it
 *   "will break" (blocking unless acceptBreakage names any address of its mailbox). A sender already
 *   off before the plan gets a non-blocking warning; a sender that names no mailbox (a typo, a
 *   deleted account, another tenant) is reported, never blocking.
 */
import type { Change, PlanCheck, ResolvedPlaybookView, Risk, StepPlan } from '../types.js';
import { effectiveSmtpAuthDisabled } from './effective.js';
import type { UsageObserved } from './usage/index.js';
import { evidenceRisks, noSenderNotes } from './evidence-guard.js';
import { addCounts, byMessages, mergeUsageRows, type UsageRow } from './usage/usage-table.js';
import type { TriState } from '../../exchange/simulator/state.js';

const PROPERTY = 'SmtpClientAuthenticationDisabled';

function isUsage(value: unknown): value is UsageObserved {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'smtp-auth-usage';
}

function switchChanges(plans: readonly StepPlan[]): Change[] {
  return plans.flatMap((p) => p.changes).filter((c) => c.property === PROPERTY);
}

/** What the plan leaves: the organization's value and each changed mailbox's value. */
function valuesAfter(plans: readonly StepPlan[]): { organization: boolean | undefined; mailboxes: Map<string, TriState> } {
  let organization: boolean | undefined;
  const mailboxes = new Map<string, TriState>();
  for (const change of switchChanges(plans)) {
    if (change.call.cmdlet === 'Set-TransportConfig') organization = change.after === true;
    else if (change.call.cmdlet === 'Set-CASMailbox') mailboxes.set(change.target.toLowerCase(), change.after as TriState);
  }
  return { organization, mailboxes };
}

/** The organization's switch as observed (any step that read it); undefined when none did. */
function organizationObserved(plans: readonly StepPlan[], observations: ReadonlyMap<string, unknown>): boolean | undefined {
  const org = switchChanges(plans).find((c) => c.call.cmdlet === 'Set-TransportConfig');
  if (org) return org.before === true;
  for (const observed of observations.values()) {
    if (typeof observed !== 'object' || observed === null) continue;
    const o = observed as { organizationDisabled?: unknown; smtpClientAuthenticationDisabled?: unknown };
    if (typeof o.organizationDisabled === 'boolean') return o.organizationDisabled;
    if (typeof o.smtpClientAuthenticationDisabled === 'boolean') return o.smtpClientAuthenticationDisabled;
  }
  return undefined;
}

/** Whether the plan takes SMTP AUTH away from any mailbox. An organization it cannot see counts as off. */
function takesSmtpAuthAway(plans: readonly StepPlan[], observations: ReadonlyMap<string, unknown>): boolean {
  const before = organizationObserved(plans, observations);
  const after = valuesAfter(plans).organization ?? before;
  if (before !== true && after === true) return true;
  return switchChanges(plans)
    .filter((c) => c.call.cmdlet === 'Set-CASMailbox')
    .some((c) => !effectiveSmtpAuthDisabled(c.before as TriState, before ?? false) && effectiveSmtpAuthDisabled(c.after as TriState, after ?? true));
}

/**
 * A search the run submits would still run when SMTP AUTH goes off if apply does not wait for it
 * (wait: false), if a failed or timed-out search does not stop the later steps (continueOnError), or
 * if its step comes after a step that takes SMTP AUTH away.
 */
function unfinishedSearchRisks(plans: readonly StepPlan[], playbook: ResolvedPlaybookView): Risk[] {
  const firstTakeAway = plans.findIndex((p) => p.changes.some((c) => c.property === PROPERTY));
  const risks: Risk[] = [];
  for (const [index, plan] of plans.entries()) {
    for (const c of plan.changes.filter((change) => change.call.cmdlet === 'Start-HistoricalSearch')) {
      const step = playbook.steps.find((s) => s.id === c.stepId);
      const why =
        c.applyOptions?.wait === false
          ? `step '${c.stepId}' has wait: false`
          : step?.continueOnError === true
            ? `step '${c.stepId}' has continueOnError: true, so the later steps run even when the search fails or times out`
            : firstTakeAway >= 0 && index > firstTakeAway
              ? `step '${c.stepId}' comes after step '${plans[firstTakeAway]!.stepId}'`
              : undefined;
      if (!why) continue;
      risks.push({
        kind: 'unfinished-search',
        subject: c.target,
        message: `SMTP AUTH would go off before the historical search this run submits has finished (${why}). Wait for the search before the switch, or run the audit alone first`,
        blocking: true,
      });
    }
  }
  return risks;
}

export const lockoutGuard: PlanCheck = (plans, { playbook, observations }) => {
  const usage = [...observations.entries()].filter((entry): entry is [string, UsageObserved] => isUsage(entry[1]));
  const risks: Risk[] = [];
  if (takesSmtpAuthAway(plans, observations)) {
    risks.push(...unfinishedSearchRisks(plans, playbook));
    risks.push(...evidenceRisks(usage, playbook));
    risks.push(...noSenderNotes(usage, playbook));
  }
  const after = valuesAfter(plans);
  const accepted = new Set(playbook.acceptBreakage.map((a) => a.toLowerCase()));
  for (const [, observed] of usage) {
    const bySender = new Map(observed.senders.map((s) => [s.entry.toLowerCase(), s]));
    const organizationBefore = observed.organizationDisabled;
    const organizationAfter = after.organization ?? organizationBefore;
    const seenBy = sourcesBySender(observed);
    for (const row of perSender(observed.rows)) {
      const resolved = bySender.get(row.sender.toLowerCase());
      const mailbox = resolved?.mailbox ?? null;
      // What no source gave is said to be unknown, never left out or shown as 0.
      const seen = [row.protocol === 'Unknown' ? 'protocol unknown' : row.protocol, row.lastSeen ? `last seen ${row.lastSeen.slice(0, 10)}` : 'last seen unknown'].join(', ');
      if (mailbox === null) {
        // SMTP AUTH signs in as a mailbox: a sender that names none cannot be cut off by this plan.
        risks.push({
          kind: 'warning',
          subject: row.sender,
          message: `seen in usage data${seen ? ` (${seen})` : ''} but names no mailbox of this tenant: a typo in the data, a deleted account, or another tenant's sender. Not checked`,
          blocking: false,
        });
        continue;
      }
      const before: TriState = resolved?.value ?? null;
      const changed = after.mailboxes.has(mailbox.toLowerCase());
      const valueAfter: TriState = changed ? (after.mailboxes.get(mailbox.toLowerCase()) as TriState) : before;
      const offBefore = effectiveSmtpAuthDisabled(before, organizationBefore);
      const offAfter = effectiveSmtpAuthDisabled(valueAfter, organizationAfter);
      if (!offAfter) continue;
      // The renderers print the subject and the message count beside the message: say only the why.
      const who = mailbox.toLowerCase() === row.sender.toLowerCase() ? 'the mailbox' : mailbox;
      const why = valueAfter === null ? `the organization goes off and ${who} follows it ($null)` : `${who} is set to $true`;
      if (offBefore) {
        risks.push({
          kind: 'warning',
          subject: row.sender,
          message: `still seen in usage data${seen ? ` (${seen})` : ''} but SMTP AUTH is already off for it before this plan: its submissions fail, or the data is old`,
          blocking: false,
        });
        continue;
      }
      const addresses = [...new Set([mailbox, ...(resolved?.addresses ?? [])].map((a) => a.toLowerCase()))].filter((a) => a !== row.sender.toLowerCase());
      risks.push({
        kind: 'will-break',
        subject: row.sender,
        message: `loses SMTP AUTH${seen ? ` (${seen})` : ''}: ${why}. Allowlist it, or accept it with acceptBreakage`,
        messages: row.messages,
        ...(seenBy.get(row.sender.toLowerCase()) ? { seenBy: seenBy.get(row.sender.toLowerCase()) } : {}),
        accepted: [row.sender.toLowerCase(), ...addresses].some((a) => accepted.has(a)),
        addresses,
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
      seen.messages = addCounts(seen.messages, row.messages);
      if (seen.protocol !== row.protocol) seen.protocol = seen.protocol === 'Basic' || row.protocol === 'Basic' ? 'Basic' : seen.protocol;
      if (row.lastSeen && (!seen.lastSeen || row.lastSeen > seen.lastSeen)) seen.lastSeen = row.lastSeen;
    }
  }
  return [...bySender.values()].sort(byMessages);
}

/** Which sources named each sender (the evidence's stable names), so a null count says where it came from. */
function sourcesBySender(observed: UsageObserved): Map<string, string[]> {
  const mailboxOf = new Map(observed.senders.map((s) => [s.entry.toLowerCase(), s.mailbox?.toLowerCase()]));
  const by = new Map<string, string[]>();
  for (const e of observed.evidence ?? []) {
    for (const sender of e.senders) {
      for (const key of new Set([sender, mailboxOf.get(sender) ?? sender])) {
        const sources = by.get(key) ?? [];
        if (!sources.includes(e.source)) by.set(key, [...sources, e.source]);
      }
    }
  }
  return by;
}
