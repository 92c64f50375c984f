/**
 * `explain` without a target: what each step would run against any tenant. Reads are recorded from
 * the action's own observe (against an empty tenant); writes are the calls the action plans, shown
 * with the playbook's values, each under a comment that says when it is made. Lines that depend on
 * the tenant (which mailboxes carry a stray $false) are comments, never made-up literals.
 */
import type { ActionDefinition } from '../actions/types.js';
import { hasEvidenceSource, searchRequest, type UsageWith } from '../actions/smtp-auth/usage/index.js';
import { signInLogsPath } from '../actions/smtp-auth/usage/sign-in-logs.js';
import { SimulatedGraphClient } from '../graph/simulated.js';
import { submitSearchChange } from '../actions/smtp-auth/usage/historical-search.js';
import { createRunContext } from '../engine/context.js';
import { isWriteCmdlet, type CmdletParameters } from '../exchange/session.js';
import type { Playbook, Step } from '../playbook/schema.js';
import type { CmdletCall } from './calls.js';
import { RecordingSession } from './recording-session.js';

/** One printed line: a call, or a comment when there is no literal to print. */
export type ExplainLine = { call: CmdletCall; comment?: string } | { comment: string };

export interface StepExplanation {
  stepId: string;
  uses: string;
  /** What the step reads (always run by plan, apply and verify). */
  reads: ExplainLine[];
  /** What the step may write (only apply; only what differs). */
  writes: ExplainLine[];
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
        { comment: 'for each listed mailbox not already $false (Identity is then the mailbox\'s primary SMTP address):' },
        ...step.with.mailboxes.map((mailbox) => ({ call: { cmdlet: 'Set-CASMailbox', parameters: { Identity: mailbox, [PROPERTY]: false } } })),
      ];
      if (step.with.exclusive) lines.push({ comment: `exclusive: every other mailbox with an explicit $false: Set-CASMailbox -Identity <mailbox> -${PROPERTY} $null -Confirm:$false` });
      if (step.with.explicitDisabled === 'inherit') lines.push({ comment: `explicitDisabled inherit: every other mailbox with an explicit $true: Set-CASMailbox -Identity <mailbox> -${PROPERTY} $null -Confirm:$false` });
      return lines;
    }
    case 'smtp-auth/usage': {
      if (hasEvidenceSource(step.with)) return usageSourceLines(step.with);
      const request = searchRequest(step.with);
      const lines: ExplainLine[] = [
        { comment: `when no matching search was submitted in the last ${request.reuseHours} hour(s) (dates are the run's own):` },
        { call: submitSearchChange(step.id, request, now.toISOString()).call },
      ];
      if (step.with.wait) lines.push({ comment: 'then, until the job is Done or Cancelled: Get-HistoricalSearch -JobId <JobId>' });
      return lines;
    }
    case 'powershell': {
      const cmdlet = step.with.cmdlet;
      if (!isWriteCmdlet(cmdlet)) return [];
      return [{ call: { cmdlet, parameters: step.with.parameters as CmdletParameters }, comment: 'runs verbatim (allowWrite: true)' }];
    }
    default:
      return [];
  }
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
  for (const step of playbook.steps) {
    const from = session.calls.length;
    const reads: ExplainLine[] = [];
    try {
      await actions[step.uses]?.observe(step.with, ctx, step.id);
    } catch (error) {
      reads.push({ comment: `reads could not all be listed without a tenant: ${(error as Error).message}` });
    }
    reads.unshift(...annotateLookups(session.since(from)));
    if (reads.length === 0 && plannedWrites(step, now).length === 0) reads.push({ comment: 'no reads of its own: it uses what earlier steps read (each read is made once per run)' });
    out.push({ stepId: step.id, uses: step.uses, reads, writes: plannedWrites(step, now) });
  }
  return out;
}

/** The usage step's sources: files it reads and the Microsoft Graph requests it makes (no PowerShell). */
function usageSourceLines(withValue: UsageWith): ExplainLine[] {
  const lines: ExplainLine[] = [];
  if (withValue.report) lines.push({ comment: `reads the SMTP AUTH clients report ${withValue.report}` });
  if (withValue.requestReport) lines.push({ comment: `reads the request report ${withValue.requestReport}` });
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
