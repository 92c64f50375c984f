/**
 * `smtp-auth/usage`: who still submits with SMTP AUTH. Two sources:
 * - `report: file.csv`: the admin center's SMTP AUTH clients report (read at observe time);
 * - otherwise a historical search: observe lists recent jobs; the plan either reuses a matching one
 *   or proposes submitting one (a Change with no undo, refused when the daily quota is spent); apply
 *   submits it and polls until it ends (`wait: false` records the JobId and moves on). The search's
 *   result is mailed to notifyAddress: the service does not return rows to PowerShell.
 * Senders are resolved to mailboxes (the shared bulk read) so the lockout guard knows their switch.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { z } from 'zod';
import { InputError } from '../../../errors.js';
import { usageWith } from '../../../playbook/schema.js';
import type { ActionDefinition, Finding, PlanInput, RunContext, ReportTable, StepPlan } from '../../types.js';
import { readMailboxDirectory, readOrganizationDisabled } from '../mailbox-directory.js';
import { resolveMailboxes, withAddresses, type ResolvedMailbox } from '../resolve-mailboxes.js';
import { readClientsReport } from './clients-report.js';
import {
  DAILY_SEARCH_QUOTA,
  DEFAULT_POLL_SECONDS,
  findReusableJob,
  searchesInLast24Hours,
  submitAndPoll,
  submitSearchChange,
  toJob,
  type HistoricalSearchJob,
  type SearchRequest,
} from './historical-search.js';
import type { UsageRow } from './usage-table.js';
import type { UsageEvidence } from './evidence.js';

export type UsageWith = z.infer<typeof usageWith>;

export interface UsageObserved {
  kind: 'smtp-auth-usage';
  source: 'report' | 'historical-search';
  /** The CSV file read (report source). */
  file?: string;
  rows: UsageRow[];
  /** Each distinct sender resolved to its mailbox and switch (for the lockout guard). */
  senders: ResolvedMailbox[];
  organizationDisabled: boolean;
  /**
   * What each source told this run (src/actions/smtp-auth/usage/evidence.ts): the lockout guard
   * trusts only complete evidence over the usage window.
   */
  evidence: UsageEvidence[];
  /** Historical search source: when observed (ISO), and the jobs Get-HistoricalSearch listed. */
  observedAt?: string;
  jobs?: HistoricalSearchJob[];
}

export function searchRequest(withValue: UsageWith): SearchRequest {
  const notify = withValue.notifyAddress;
  return {
    reportTitle: withValue.reportTitle,
    reportType: withValue.reportType,
    days: withValue.days,
    notifyAddress: notify === undefined ? [] : Array.isArray(notify) ? notify : [notify],
    reuseHours: withValue.reuseHours,
  };
}

export async function observeUsage(withValue: UsageWith, ctx: RunContext): Promise<UsageObserved> {
  const organizationDisabled = await readOrganizationDisabled(ctx);
  if (withValue.report !== undefined) {
    const file = isAbsolute(withValue.report) ? withValue.report : resolve(ctx.baseDir ?? process.cwd(), withValue.report);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new InputError(
        `cannot read the SMTP AUTH clients report ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        undefined,
        '`report:` is a path relative to the playbook',
      );
    }
    // Errors name the file as the user can open it from where they ran the command.
    const rows = readClientsReport(text, relative(process.cwd(), file) || file);
    const evidence: UsageEvidence = {
      source: 'admin-center-csv',
      detail: withValue.report,
      // The export has no date column: it covers the period chosen when it was exported.
      windowStart: null,
      windowEnd: null,
      complete: true,
      senders: [...new Set(rows.map((r) => r.sender.toLowerCase()))],
    };
    return {
      kind: 'smtp-auth-usage',
      source: 'report',
      file: withValue.report,
      rows,
      senders: await resolveSenders(rows, ctx),
      organizationDisabled,
      evidence: [evidence],
    };
  }
  const { objects } = await ctx.session.invoke('Get-HistoricalSearch');
  const jobs = objects.map(toJob).sort((a, b) => a.submitDate.localeCompare(b.submitDate));
  return {
    kind: 'smtp-auth-usage',
    source: 'historical-search',
    rows: [],
    senders: [],
    organizationDisabled,
    evidence: [
      {
        source: 'historical-search',
        detail: `${withValue.reportType} "${withValue.reportTitle}"`,
        windowStart: null,
        windowEnd: null,
        // The service mails the report (EXCHANGE-FACTS: it is not returned to PowerShell).
        complete: false,
        senders: [],
        missing: 'its report is mailed and shown in the admin center, not read by this run',
      },
    ],
    // Rounded to the minute: the plan's search window is rounded to the hour anyway.
    observedAt: new Date(Math.floor(ctx.now().getTime() / 60_000) * 60_000).toISOString(),
    jobs,
  };
}

async function resolveSenders(rows: readonly UsageRow[], ctx: RunContext): Promise<ResolvedMailbox[]> {
  const senders = [...new Set(rows.map((r) => r.sender.toLowerCase()))];
  if (senders.length === 0) return [];
  const directory = await readMailboxDirectory(ctx);
  return withAddresses(await resolveMailboxes(senders, directory, ctx), directory, ctx);
}

/** The usage table every report shows: who submitted with SMTP AUTH, how, how much, how lately. */
export function usageTable(rows: readonly UsageRow[]): ReportTable {
  return {
    title: 'SMTP AUTH usage',
    columns: ['Sender', 'Protocol', 'Messages', 'Last seen'],
    rows: rows.map((row) => [row.sender, row.protocol, row.messages, row.lastSeen ? row.lastSeen.slice(0, 10) : null]),
  };
}

export function planUsage(input: PlanInput<UsageWith, UsageObserved>): StepPlan {
  const { stepId, observed } = input;
  const plan: StepPlan = { stepId, uses: 'smtp-auth/usage', changes: [], inDesiredState: [], notes: [], risks: [] };
  if (observed.source === 'report') {
    const messages = observed.rows.reduce((sum, r) => sum + r.messages, 0);
    plan.notes.push(`${observed.file}: ${observed.rows.length} sender row(s), ${messages} message(s) submitted with SMTP AUTH`);
    plan.tables = [usageTable(observed.rows)];
    plan.data = { source: 'report', file: observed.file, usage: observed.rows, evidence: observed.evidence };
    return plan;
  }
  const request = searchRequest(input.with);
  const observedAt = observed.observedAt ?? new Date(0).toISOString();
  const jobs = observed.jobs ?? [];
  const reusable = findReusableJob(jobs, request, observedAt);
  if (reusable) {
    plan.inDesiredState.push(
      `Historical search ${reusable.jobId} ("${reusable.reportTitle}", ${reusable.reportType}) submitted ${reusable.submitDate} is reused: ${reusable.status}`,
    );
    plan.data = { source: 'historical-search', job: reusable, usage: [], evidence: observed.evidence };
    return plan;
  }
  const used = searchesInLast24Hours(jobs, observedAt);
  if (used >= DAILY_SEARCH_QUOTA) {
    plan.risks.push({
      kind: 'quota',
      subject: request.reportTitle,
      message: `${used} historical searches were submitted in the last 24 hours; the tenant allows ${DAILY_SEARCH_QUOTA}. Wait, or reuse a recent job (reuseHours)`,
      blocking: true,
    });
    plan.data = { source: 'historical-search', usage: [], searchesLast24Hours: used, evidence: observed.evidence };
    return plan;
  }
  plan.changes.push({
    ...submitSearchChange(stepId, request, observedAt),
    applyOptions: { wait: input.with.wait, timeoutMinutes: input.with.timeoutMinutes, pollSeconds: input.with.pollSeconds },
  });
  plan.notes.push(
    `The report is delivered by mail${request.notifyAddress.length ? ` to ${request.notifyAddress.join(', ')}` : ''} and in the admin center; ` +
      `${used} of ${DAILY_SEARCH_QUOTA} searches used in the last 24 hours`,
  );
  if (input.with.wait === false) plan.notes.push('wait: false: apply records the JobId and does not poll');
  plan.data = { source: 'historical-search', usage: [], searchesLast24Hours: used, evidence: observed.evidence };
  return plan;
}

export function verifyUsage(input: PlanInput<UsageWith, UsageObserved>): Finding[] {
  const { stepId, observed } = input;
  if (observed.source === 'report') {
    return [{ stepId, check: 'usage-report', status: 'pass', subject: observed.file ?? 'report', message: `${observed.rows.length} sender row(s) read` }];
  }
  const job = findReusableJob(observed.jobs ?? [], searchRequest(input.with), observed.observedAt ?? new Date(0).toISOString());
  if (!job) return [];
  return [
    {
      stepId,
      check: 'usage-search',
      status: 'pass',
      subject: job.jobId,
      message: `historical search "${job.reportTitle}" is ${job.status}${job.rows !== null ? ` (${job.rows} rows)` : ''}`,
    },
  ];
}

export const usageAction: ActionDefinition<UsageWith, UsageObserved> = {
  uses: 'smtp-auth/usage',
  summary: 'Finds who still submits with SMTP AUTH: an admin center CSV export, or a historical search (submitted at apply).',
  withSchema: usageWith,
  observe: observeUsage,
  plan: planUsage,
  async apply(change, ctx) {
    const options = change.applyOptions ?? {};
    const { job, warnings } = await submitAndPoll(change, ctx, {
      wait: options.wait !== false,
      timeoutMinutes: typeof options.timeoutMinutes === 'number' ? options.timeoutMinutes : 240,
      // A plan saved before pollSeconds existed polls as it always did.
      pollSeconds: typeof options.pollSeconds === 'number' ? options.pollSeconds : DEFAULT_POLL_SECONDS,
    });
    return { result: { JobId: job.jobId, Status: job.status, Rows: job.rows }, warnings };
  },
  verify: verifyUsage,
};
