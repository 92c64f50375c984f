/**
 * The grant guard (a PlanCheck, beside the SMTP AUTH lockout guard): `exclusive` removes
 * "Application SMTP.SendAsApp" role assignments, and an app that still sends as that mailbox with
 * OAuth breaks the moment its grant goes. It fails closed, as the lockout guard does:
 * - no usage step in the playbook: a blocking `no-usage-evidence` risk (acceptNoUsageEvidence or
 *   --accept-no-usage-evidence accept it);
 * - a removed grant's mailbox seen submitting with OAuth (or an unknown protocol) in the usage data:
 *   a blocking `will-break` risk, accepted by acceptBreakage naming the mailbox;
 * - an organization-wide grant removed while any OAuth submission is seen: blocking, per sender.
 */
import type { PlanCheck, Risk } from '../../types.js';
import type { UsageObserved } from '../usage/index.js';
import { USES } from './plan.js';

export const grantGuard: PlanCheck = (plans, { playbook, observations }) => {
  const removals = plans
    .filter((p) => p.uses === USES)
    .flatMap((p) => p.changes)
    .filter((c) => c.property === 'ManagementRoleAssignment' && c.after === null);
  if (removals.length === 0) return [];
  const usage = [...observations.values()].filter((o): o is UsageObserved => typeof o === 'object' && o !== null && (o as { kind?: unknown }).kind === 'smtp-auth-usage');
  const reason = playbook.acceptNoUsageEvidence?.reason;
  if (usage.length === 0) {
    return [
      {
        kind: 'no-usage-evidence',
        subject: 'usage',
        message: `no usage evidence: exclusive removes ${removals.length} SMTP.SendAsApp grant(s), but the playbook has no smtp-auth/usage step to say who still sends with OAuth. ` + (reason ? `Accepted by the playbook's acceptNoUsageEvidence: ${reason}` : 'Add a usage step, or accept it with acceptNoUsageEvidence'),
        accepted: reason !== undefined,
        blocking: true,
      },
    ];
  }
  const accepted = new Set(playbook.acceptBreakage.map((a) => a.toLowerCase()));
  // Sender address (lower case) → the mailbox the usage step resolved it to, and its OAuth messages.
  const oauthSenders = new Map<string, { mailbox: string; messages: number | null }>();
  for (const u of usage) {
    const mailboxOf = new Map(u.senders.map((s) => [s.entry.toLowerCase(), s.mailbox?.toLowerCase() ?? s.entry.toLowerCase()]));
    for (const row of u.rows) {
      if (row.protocol === 'Basic') continue;
      const key = row.sender.toLowerCase();
      const seen = oauthSenders.get(key) ?? { mailbox: mailboxOf.get(key) ?? key, messages: 0 };
      seen.messages = seen.messages === null || row.messages === null ? null : seen.messages + row.messages;
      oauthSenders.set(key, seen);
    }
  }
  const risks: Risk[] = [];
  for (const removal of removals) {
    const target = removal.target.toLowerCase();
    const organizationWide = target === 'organization';
    for (const [sender, seen] of oauthSenders) {
      if (!organizationWide && seen.mailbox !== target && sender !== target) continue;
      risks.push({
        kind: 'will-break',
        subject: sender,
        message: `loses its SMTP.SendAsApp grant (${organizationWide ? 'an organization-wide assignment is removed' : `the role assignment on ${removal.target} is removed`}) while the usage data shows it submitting with OAuth. Name it for its app, or accept it with acceptBreakage`,
        messages: seen.messages,
        accepted: accepted.has(sender) || accepted.has(seen.mailbox),
        addresses: [seen.mailbox],
        blocking: true,
      });
    }
  }
  return risks;
};
