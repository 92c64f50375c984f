/**
 * `explain` without a target: what each step would run against any tenant. Reads are recorded from
 * the action's own observe (against an empty tenant), plus the reads an empty tenant cannot trigger
 * (the authentication policies of listed mailboxes that exist); writes are the calls the action plans, shown with the
 * playbook's values, each under a comment that says when it is made; rollback's reads are recorded
 * from the engine's own read-back of each write. Lines that depend on the tenant (which mailboxes
 * carry a stray $false) are comments, never made-up literals. The list of every
 * cmdlet a run may make is what a least-privilege management role needs (docs/OPERATIONS.md).
 */
import type { ActionDefinition } from '../actions/types.js';
import { hasEvidenceSource, searchRequest, type UsageWith } from '../actions/smtp-auth/usage/index.js';
import { signInLogsPath } from '../actions/smtp-auth/usage/sign-in-logs.js';
import { SimulatedGraphClient } from '../graph/simulated.js';
import { submitSearchChange } from '../actions/smtp-auth/usage/historical-search.js';
import { USERS_WITH_POLICY_FILTER } from '../actions/smtp-auth/authentication-policies.js';
import { smtpAuthEffect } from '../actions/powershell-smtp-auth.js';
import { psLiteral } from '../actions/smtp-auth/effective.js';
import { createRunContext } from '../engine/context.js';
import { readBack } from '../engine/readback.js';
import { isWriteCmdlet, type CmdletParameters } from '../exchange/session.js';
import type { Playbook, Step } from '../playbook/schema.js';
import type { CmdletCall } from './calls.js';
import { RecordingSession } from './recording-session.js';
import { oauthSendersWrites } from './oauth-senders.js';

/**
 * One printed line: a call, or a comment when there is no literal to print (`cmdlet`: the comment
 * describes calls of that cmdlet whose values depend on the tenant).
 */
export type ExplainLine = { call: CmdletCall; comment?: string } | { comment: string; cmdlet?: string };

export interface StepExplanation {
  stepId: string;
  uses: string;
  /** What the step reads (always run by plan, apply and verify). */
  reads: ExplainLine[];
  /** What the step may write (only apply; only what differs). */
  writes: ExplainLine[];
  /** What `rollback` reads to undo the step's writes (before and after restoring). */
  rollbackReads?: ExplainLine[];
}

const PROPERTY = 'SmtpClientAuthenticationDisabled';

function plannedWrites(step: Step, now: Date): ExplainLine[] {
  switch (step.uses) {
    case 'transport-config':
      return [
        { comment: `when the organization's ${PROPERTY} is not already ${step.with.smtpClientAuthenticationDisabled ? '$true' : '$false'}:` },
        { call: { cmdlet: 'Set-TransportConfig', parameters: { [PROPERTY]: step.with.smtpClientAuthenticationDisabled } } },
      ];
    case 'smtp-auth/allowlist': {
      const lines: ExplainLine[] = [
        { comment: 'for each listed mailbox not already $false (Identity is then the mailbox\'s Guid, as the bulk read returned it):' },
        ...step.with.mailboxes.map((mailbox) => ({ call: { cmdlet: 'Set-CASMailbox', parameters: { Identity: mailbox, [PROPERTY]: false } } })),
      ];
      if (step.with.exclusive) lines.push({ cmdlet: 'Set-CASMailbox', comment: `exclusive: every other mailbox with an explicit $false: Set-CASMailbox -Identity <mailbox> -${PROPERTY} $null -Confirm:$false` });
      if (step.with.explicitDisabled === 'inherit') lines.push({ cmdlet: 'Set-CASMailbox', comment: `explicitDisabled inherit: every other mailbox with an explicit $true: Set-CASMailbox -Identity <mailbox> -${PROPERTY} $null -Confirm:$false` });
      return lines;
    }
    case 'smtp-auth/usage': {
      if (hasEvidenceSource(step.with)) return usageSourceLines(step.with);
      const request = searchRequest(step.with);
      const lines: ExplainLine[] = [
        { comment: `when no matching search was submitted in the last ${request.reuseHours} hour(s) (dates are the run's own):` },
        { call: submitSearchChange(step.id, request, now.toISOString()).call },
      ];
      if (step.with.wait) lines.push({ cmdlet: 'Get-HistoricalSearch', comment: 'then, until the job is Done or Cancelled: Get-HistoricalSearch -JobId <JobId>' });
      return lines;
    }
    case 'smtp-auth/oauth-senders':
      return oauthSendersWrites(step.id, step.with);
    case 'powershell': {
      const cmdlet = step.with.cmdlet;
      if (!isWriteCmdlet(cmdlet)) return [];
      const parameters = step.with.parameters as CmdletParameters;
      const effect = smtpAuthEffect(cmdlet, parameters);
      if (effect.kind === 'organization') {
        return [{ call: { cmdlet: 'Set-TransportConfig', parameters: { [PROPERTY]: effect.after } }, comment: `when the organization's switch is not already ${psLiteral(effect.after)} (a typed change under the lockout guard; rollback restores it):` }];
      }
      if (effect.kind === 'mailbox') {
        return [
          {
            cmdlet: 'Set-CASMailbox',
            comment: `when ${effect.identity}'s switch is not already ${psLiteral(effect.after)} (a typed change under the lockout guard; rollback restores it): Set-CASMailbox -Identity <its Guid> -${PROPERTY} ${psLiteral(effect.after)}`,
          },
        ];
      }
      const accepted = step.with.acceptUnderivedEffect?.reason;
      const comment =
        effect.kind === 'none'
          ? 'runs verbatim (allowWrite: true)'
          : accepted !== undefined
            ? `runs verbatim (allowWrite: true); its effect on SMTP AUTH is not derived (${effect.why}), accepted by acceptUnderivedEffect: ${accepted}`
            : `refused by apply (exit 4): its effect on SMTP AUTH is not derived (${effect.why}); ${effect.fix}, or accept it with acceptUnderivedEffect: { reason: ... }`;
      return [{ call: { cmdlet, parameters }, comment }];
    }
    default:
      return [];
  }
}

/**
 * Reads an empty tenant cannot trigger: for each listed mailbox that exists, the authentication
 * policy that applies to it (src/actions/smtp-auth/authentication-policies.ts), read once per run.
 */
function tenantDependentReads(step: Step): ExplainLine[] {
  const lines: ExplainLine[] = [];
  // Senders the usage sources name, and allowlist entries the bulk read did not index, are looked up
  // one by one (src/actions/smtp-auth/resolve-mailboxes.ts).
  if (step.uses === 'smtp-auth/usage' || step.uses === 'smtp-auth/allowlist' || step.uses === 'smtp-auth/verify') {
    lines.push({
      cmdlet: 'Get-EXOMailbox',
      comment:
        step.uses === 'smtp-auth/usage'
          ? 'for each sender the usage sources name: Get-EXOMailbox -Identity <sender> -Properties UserPrincipalName,Alias'
          : 'for each listed entry the bulk read did not find: Get-EXOMailbox -Identity <entry>',
    });
  }
  if (step.uses === 'smtp-auth/oauth-senders') {
    // src/actions/smtp-auth/oauth-senders/observe.ts, after the organization switch and the bulk read.
    lines.push(
      { comment: 'service principals, SMTP.SendAsApp grants and the scopes they use (once per run):' },
      { call: { cmdlet: 'Get-ServicePrincipal', parameters: {} } },
      { call: { cmdlet: 'Get-ManagementRoleAssignment', parameters: { Role: 'Application SMTP.SendAsApp' } } },
      { call: { cmdlet: 'Get-ManagementScope', parameters: {} } },
    );
    if (step.with.applications.some((a) => a.credential) && !step.with.proof?.tenantId) {
      lines.push({ comment: 'the proof, for the tenant its tokens come from (no proof.tenantId):' }, { call: { cmdlet: 'Get-OrganizationConfig', parameters: {} } });
    }
    if (step.with.applications.some((a) => a.grant === 'mailbox-permission')) {
      lines.push({ cmdlet: 'Get-MailboxPermission', comment: 'mailbox-permission route, for each listed mailbox once its app has a service principal: Get-MailboxPermission -Identity <mailbox Guid> -User <object id>' });
    }
    return lines;
  }
  const policies =
    step.uses === 'smtp-auth/allowlist' || (step.uses === 'smtp-auth/verify' && step.with.checkAuthenticationPolicies && (step.with.mailboxes?.length ?? 0) > 0);
  if (!policies) return lines;
  return [
    ...lines,
    { comment: 'when a listed mailbox exists: the authentication policies that may block its Basic SMTP AUTH (once per run):' },
    { call: { cmdlet: 'Get-OrganizationConfig', parameters: {} } },
    { call: { cmdlet: 'Get-AuthenticationPolicy', parameters: {} } },
    { call: { cmdlet: 'Get-User', parameters: { Filter: USERS_WITH_POLICY_FILTER, ResultSize: 'Unlimited' } } },
  ];
}

/** What rollback reads for the step's writes: the engine's own read-back, recorded. */
async function rollbackReads(writes: ExplainLine[]): Promise<ExplainLine[]> {
  const session = new RecordingSession();
  const lines: ExplainLine[] = [];
  for (const line of writes) {
    if ('call' in line) {
      await readBack(session, line.call);
      continue;
    }
    // An inverse printed beside its write is rollback's write, not one more write to read back.
    if (line.cmdlet === undefined || !isWriteCmdlet(line.cmdlet) || line.comment.startsWith('undone by rollback')) continue;
    // A write whose mailbox depends on the tenant: record the read-back with a placeholder, print it as a comment.
    const from = session.calls.length;
    await readBack(session, { cmdlet: line.cmdlet, parameters: { Identity: '<mailbox>', [PROPERTY]: null } });
    for (const call of session.since(from)) {
      const shown = Object.entries(call.parameters).map(([name, value]) => `-${name} ${typeof value === 'string' ? value : JSON.stringify(value)}`);
      lines.push({ cmdlet: call.cmdlet, comment: `for each such mailbox: ${[call.cmdlet, ...shown].join(' ')}` });
    }
    session.calls.splice(from);
  }
  const seen = new Set<string>();
  const calls: ExplainLine[] = [];
  for (const call of session.calls) {
    const key = JSON.stringify(call);
    if (!seen.has(key)) calls.push({ call });
    seen.add(key);
  }
  return [...calls, ...lines];
}

/** Every cmdlet the steps may run (reads, writes, rollback), sign-in aside: what a management role must allow. */
export function cmdletsOf(steps: readonly StepExplanation[]): string[] {
  const names = new Set<string>();
  for (const step of steps) {
    for (const line of [...step.reads, ...step.writes, ...(step.rollbackReads ?? [])]) {
      const name = 'call' in line ? line.call.cmdlet : line.cmdlet;
      if (name && !/^(Connect|Disconnect)-ExchangeOnline$/i.test(name)) names.add(name);
    }
  }
  return [...names].sort();
}

/** Per-identity reads happen only for some entries; say so once, before the first of them. */
function annotateLookups(calls: CmdletCall[]): ExplainLine[] {
  let said = false;
  return calls.map((call) => {
    if (said || !('Identity' in call.parameters)) return { call };
    said = true;
    return { call, comment: 'per-entry lookups, made only for entries the bulk read does not resolve (alias, UPN) or policy checks need:' };
  });
}

export async function explainGeneral(
  playbook: Playbook,
  actions: Record<string, ActionDefinition<unknown, unknown>>,
  options: { baseDir: string; now?: Date },
): Promise<StepExplanation[]> {
  const now = options.now ?? new Date();
  const session = new RecordingSession();
  // One context for the run, as the engine does: a read shared by two steps is made once, by the first.
  // Graph reads are listed from the playbook (usageSourceLines); here they answer empty so the
  // mailbox reads after them can still be listed.
  const noGraphData = new SimulatedGraphClient(async () => ({ schemaVersion: 1, organization: { Name: '', Server: '' }, transportConfig: { SmtpClientAuthenticationDisabled: false }, organizationConfig: { DefaultAuthenticationPolicy: null }, authenticationPolicies: [], mailboxes: [], historicalSearches: [], smtpAuthActivity: [], clock: null, historicalSearchPolls: 3, faults: {} }));
  const ctx = createRunContext({ session, instantSleep: true, baseDir: options.baseDir, now: () => now, openGraph: async () => noGraphData });
  const out: StepExplanation[] = [];
  // The same stop (the organization's switch unknown without a tenant) is said in full once, then named.
  const said = new Map<string, string>();
  for (const step of playbook.steps) {
    const from = session.calls.length;
    const reads: ExplainLine[] = [];
    try {
      await actions[step.uses]?.observe(step.with, ctx, step.id);
    } catch (error) {
      const message = (error as Error).message;
      const first = said.get(message);
      if (first === undefined) said.set(message, step.id);
      reads.push({
        comment:
          first === undefined
            ? `reads could not all be listed without a tenant (explain reads none; --target lists a real plan's calls): ${message}`
            : `reads could not all be listed without a tenant (as in step ${first})`,
      });
    }
    // A powershell step's reads (its Get-* call, or the switch its write changes) are always made.
    reads.unshift(...(step.uses === 'powershell' ? session.since(from).map((call) => ({ call })) : annotateLookups(session.since(from))));
    reads.push(...tenantDependentReads(step));
    const writes = plannedWrites(step, now);
    if (reads.length === 0 && writes.length === 0) reads.push({ comment: 'no reads of its own: it uses what earlier steps read (each read is made once per run)' });
    out.push({ stepId: step.id, uses: step.uses, reads, writes, rollbackReads: await rollbackReads(writes) });
  }
  return out;
}

/** The usage step's sources: files it reads and the Microsoft Graph requests it makes (no PowerShell). */
function usageSourceLines(withValue: UsageWith): ExplainLine[] {
  const lines: ExplainLine[] = [];
  if (withValue.report) lines.push({ comment: `reads the SMTP AUTH clients report ${withValue.report}` });
  if (withValue.requestReport) lines.push({ comment: `reads the request report ${withValue.requestReport}` });
  if (withValue.history) lines.push({ comment: `reads the saved evidence and senders of earlier runs in ${withValue.history}` });
  if (withValue.signInLogs) {
    const days = withValue.signInLogs === true ? 30 : withValue.signInLogs.days;
    lines.push({ comment: `Microsoft Graph: GET ${decodeURIComponent(signInLogsPath(new Date(0))).replace('1970-01-01T00:00:00Z', `<now - ${days} days>`)} (every @odata.nextLink page)` });
  }
  if (withValue.emailAppUsage) {
    const period = withValue.emailAppUsage === true ? 'D180' : withValue.emailAppUsage.period;
    lines.push({ comment: `Microsoft Graph: GET /v1.0/reports/getEmailAppUsageUserDetail(period='${period}') (then the report's download URL)` });
  }
  lines.push({ comment: 'submits no search' });
  return lines;
}
