/**
 * The confirmation question, in the words a reviewer needs before answering: what the run does to the
 * tenant (not how many calls it makes), and which tenant that is (a simulated file or the real one).
 * Pure over the plan document: the counts come from the changes and the data the steps saved.
 */
import type { Change } from '../actions/types.js';
import type { PlanDocument } from './types.js';

const SMTP_AUTH = 'SmtpClientAuthenticationDisabled';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "Turn SMTP AUTH off for the organization (394 mailboxes follow it), keep it for 2 allowlisted mailboxes, reset 2 stray overrides" */
export function describeImpact(plan: PlanDocument): string {
  const changes = plan.steps.flatMap((s) => s.changes);
  const org = changes.find((c) => c.target === 'Organization' && c.property === SMTP_AUTH);
  const mailboxChanges = changes.filter((c) => c !== org && c.property === SMTP_AUTH);
  const allowlistData = plan.steps.find((s) => s.uses === 'smtp-auth/allowlist')?.data as { allowlisted?: unknown[]; followingOrganization?: number } | undefined;
  const parts: string[] = [];

  // Mailboxes whose switch is $null after the plan follow the organization's value.
  let following: number | undefined;
  if (typeof allowlistData?.followingOrganization === 'number') {
    following = allowlistData.followingOrganization;
    for (const c of mailboxChanges) {
      if (c.before === null && c.after !== null) following -= 1;
      if (c.before !== null && c.after === null) following += 1;
    }
  }
  const followText = following === undefined ? 'every mailbox without its own setting follows it' : `${plural(following, 'mailbox', 'mailboxes')} follow${following === 1 ? 's' : ''} it`;
  if (org) parts.push(`Turn SMTP AUTH ${org.after === true ? 'off' : 'on'} for the organization (${followText})`);

  const keep = mailboxChanges.filter((c) => c.after === false);
  const allowlisted = Array.isArray(allowlistData?.allowlisted) ? allowlistData.allowlisted.length : keep.length;
  if (keep.length || (org && allowlisted)) parts.push(`keep it for ${plural(allowlisted, 'allowlisted mailbox', 'allowlisted mailboxes')}`);
  const strays = mailboxChanges.filter((c) => c.before === false && c.after === null);
  if (strays.length) parts.push(`reset ${plural(strays.length, 'stray override')}`);
  const resetTrue = mailboxChanges.filter((c) => c.before === true && c.after === null);
  if (resetTrue.length) parts.push(`reset ${plural(resetTrue.length, 'explicit $true')} to follow the organization`);
  const off = mailboxChanges.filter((c) => c.after === true);
  if (off.length) parts.push(`turn SMTP AUTH off for ${plural(off.length, 'mailbox', 'mailboxes')}`);
  // A powershell write the runner cannot derive runs only when its step accepted it: say so, with the reason.
  const underived = plan.steps.flatMap((s) => s.risks.filter((r) => r.kind === 'underived-effect' && r.accepted).map(() => s));
  const unguarded = underived.flatMap((s) => s.changes.filter((c) => c.property === '(run)'));
  if (unguarded.length) parts.push(`run ${plural(unguarded.length, 'powershell write')} whose effect on SMTP AUTH is not derived (accepted by acceptUnderivedEffect)`);
  // smtp-auth/oauth-senders: service principals and grants (a scope is part of its grant).
  const principals = changes.filter((c) => c.property === 'ServicePrincipal' && c.before === null);
  if (principals.length) parts.push(`create ${plural(principals.length, 'Exchange service principal')}`);
  const grants = changes.filter((c) => c.property === 'ManagementRoleAssignment' || c.property === 'MailboxPermission');
  const granted = grants.filter((c) => c.before === null).length;
  if (granted) parts.push(`let apps send as ${plural(granted, 'mailbox', 'mailboxes')} with OAuth`);
  const revoked = grants.length - granted;
  if (revoked) parts.push(`remove ${plural(revoked, 'SMTP.SendAsApp grant')}`);
  const scopes = changes.filter((c) => c.property === 'ManagementScope');
  const described = new Set<Change>([...(org ? [org] : []), ...keep, ...strays, ...resetTrue, ...off, ...unguarded, ...principals, ...grants, ...scopes]);
  const other = changes.filter((c) => !described.has(c));
  if (other.length) parts.push(`${parts.length ? 'and ' : ''}${plural(other.length, 'other change')}`);
  const text = parts.join(', ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "REAL tenant contoso.onmicrosoft.com" or "SIMULATED tenant /path/tenant.json (contoso.onmicrosoft.com)" */
export function describeTarget(plan: Pick<PlanDocument, 'tenant'>): string {
  const { organization, target } = plan.tenant;
  return target.startsWith('sim:') ? `SIMULATED tenant ${target.slice(4)} (${organization})` : `REAL tenant ${organization}`;
}

/** The whole question, e.g. "Turn SMTP AUTH off ... Target: REAL tenant contoso.onmicrosoft.com. Apply these 5 changes? [y/N] " */
export function confirmationQuestion(plan: PlanDocument): string {
  const n = plan.summary.changes;
  if (plan.kind === 'rollback') {
    return `Roll back ${plural(n, 'change')} (restore the values before the run). Target: ${describeTarget(plan)}. Roll back? [y/N] `;
  }
  return `${describeImpact(plan)}.${evidenceNotes(plan)} Target: ${describeTarget(plan)}. Apply ${n === 1 ? 'this change' : `these ${n} changes`}? [y/N] `;
}

/** " Usage evidence: no SMTP AUTH senders in 2026-11-16..2026-11-23 according to ..." for each empty fresh source. */
function evidenceNotes(plan: PlanDocument): string {
  return plan.risks
    .filter((r) => r.kind === 'no-senders')
    .map((r) => ` Usage evidence: ${r.message}.`)
    .join('');
}
