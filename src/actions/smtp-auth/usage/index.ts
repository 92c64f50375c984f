/**
 * `smtp-auth/usage`: who still submits with SMTP AUTH. Sources, combinable in one step (each says
 * what period it covers and what it cannot see, see evidence.ts):
 * - `report:` the admin center's SMTP AUTH clients report CSV;
 * - `requestReport:` the historical search's downloaded request report (SmtpCSReport CSV);
 * - `signInLogs:` Entra sign-in logs through Microsoft Graph (Basic SMTP sign-ins);
 * - `emailAppUsage:` Graph's email app usage report ("SMTP App").
 * With none of them, a historical search: observe lists recent jobs; the plan either reuses a
 * matching one or proposes submitting one (a Change with no undo, refused when the daily quota is
 * spent); apply submits it and polls until it ends (`wait: false` records the JobId and moves on).
 * The search's result is mailed to notifyAddress: the service does not return rows to PowerShell.
 * Every sender any source saw is resolved to its mailbox (the shared bulk read), merged into one
 * dossier per sender (dossier.ts), and handed to the lockout guard as `rows` + `senders`.
 */
import { withoutErrors } from '../../../exchange/session.js';
import { isAbsolute, relative, resolve } from 'node:path';
import type { z } from 'zod';
import { InputError } from '../../../errors.js';
import { usageWith } from '../../../playbook/schema.js';
import { MAX_USAGE_REPORT_BYTES } from '../../../playbook/source.js';
import type { ActionDefinition, Finding, PlanInput, RunContext, Risk, StepPlan } from '../../types.js';
import { DEFAULT_POLICY, type RequestPolicy } from '../../../graph/requests.js';
import { readMailboxDirectory, readOrganizationDisabled } from '../mailbox-directory.js';
import { resolveMailboxes, withAddresses, type ResolvedMailbox } from '../resolve-mailboxes.js';
import { clientsReportEvidence } from './clients-report.js';
import { decodeUsageText, MAX_REQUEST_REPORT_BYTES, readUsageFile } from './decode.js';
import { basicDeadlineMessage, DOSSIER_TITLE, dossierTable } from './dossier.js';
import { dossierLine, dossiersOf, driftFindings, driftNotes, evidenceSummary, mailboxLookup, sourceNote, switchesAfter } from './senders.js';
import { emailAppUsageEvidence } from './email-app-usage.js';
import { evidenceOf, foldByMailbox, mergeEvidence, usageRowsOf, SOURCE_LABELS, type SourceReading, type UsageEvidence } from './evidence.js';
import { readHistory, writeHistory, type UsageHistory } from './history.js';
import { requestReportEvidence } from './request-report.js';
import { signInLogsEvidence } from './sign-in-logs.js';
import {
  DAILY_SEARCH_QUOTA,
  DEFAULT_POLL_SECONDS,
  downloadAdvice,
  findReusableJob,
  searchLocation,
  searchesInLast24Hours,
  submitAndPoll,
  submitSearchChange,
  toJob,
  type HistoricalSearchJob,
  type SearchRequest,
} from './historical-search.js';
import type { UsageRow } from './usage-table.js';
import { isDocumentedReportType } from '../../../exchange/historical-search-report-types.js';

export type UsageWith = z.infer<typeof usageWith>;

const withLocation = (at: string | undefined): { at?: string } => (at === undefined ? {} : { at });

export interface UsageObserved {
  kind: 'smtp-auth-usage';
  /** 'report': evidence read at observe time (files, Graph); 'historical-search': a search to submit or reuse. */
  source: 'report' | 'historical-search';
  /** The admin center CSV read (report:), as written in the playbook. */
  file?: string;
  /** What each source read showed, in playbook order (report, requestReport, signInLogs, emailAppUsage). */
  readings?: SourceReading[];
  /** One row per sender and protocol, every source merged (what the lockout guard reads). */
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
  /** The previous verify's senders (history:), null on the first run; absent without history:. */
  previous?: UsageHistory | null;
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

export function hasEvidenceSource(withValue: UsageWith): boolean {
  return withValue.report !== undefined || withValue.requestReport !== undefined || withValue.signInLogs !== undefined || withValue.emailAppUsage !== undefined;
}

export async function observeUsage(withValue: UsageWith, ctx: RunContext): Promise<UsageObserved> {
  const organizationDisabled = await readOrganizationDisabled(ctx);
  const previous = withValue.history !== undefined ? { previous: await readHistory(pathFor(withValue.history, ctx), shown(pathFor(withValue.history, ctx)), rootsOf(ctx)) } : {};
  if (hasEvidenceSource(withValue)) {
    const readings = await readEvidence(withValue, ctx);
    const merged = mergeEvidence(readings);
    // Every address any source used, resolved; then one record per mailbox for the guard.
    const senders = await resolveSenders(merged.map((m) => m.sender), ctx);
    const rows = usageRowsOf(foldByMailbox(merged, mailboxLookup(senders)));
    return {
      kind: 'smtp-auth-usage',
      source: 'report',
      ...(withValue.report !== undefined ? { file: withValue.report } : {}),
      readings,
      rows,
      senders,
      organizationDisabled,
      // The lockout guard's view: each source, whether this run read all of it, and whom it names.
      evidence: readings.map(evidenceOf),
      // The guard compares dated (Graph) evidence with the usage window ending now. Rounded to the hour,
      // and only when a source is dated: the observation is fingerprinted for saved plans.
      ...(withValue.signInLogs !== undefined || withValue.emailAppUsage !== undefined
        ? { observedAt: new Date(Math.floor(ctx.now().getTime() / 3600_000) * 3600_000).toISOString() }
        : {}),
      ...previous,
    };
  }
  const { objects } = withoutErrors('Get-HistoricalSearch', await ctx.session.invoke('Get-HistoricalSearch'));
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
    ...previous,
  };
}

/** Where files named in `with` may be read from: the playbook's folder and its fileRoots. */
export function rootsOf(ctx: Pick<RunContext, 'fileRoots' | 'baseDir'>): readonly string[] {
  return ctx.fileRoots ?? (ctx.baseDir ? [ctx.baseDir] : []);
}

function pathFor(path: string, ctx: RunContext): string {
  return isAbsolute(path) ? path : resolve(ctx.baseDir ?? process.cwd(), path);
}

/** Errors name the file as the user can open it from where they ran the command. */
function shown(file: string): string {
  return relative(process.cwd(), file) || file;
}

async function readEvidence(withValue: UsageWith, ctx: RunContext): Promise<SourceReading[]> {
  const evidence: SourceReading[] = [];
  if (withValue.report !== undefined) {
    const file = pathFor(withValue.report, ctx);
    const { text } = decodeUsageText(await readUsageFile(file, shown(file), 'SMTP AUTH clients report', { roots: rootsOf(ctx), maxBytes: MAX_USAGE_REPORT_BYTES }), shown(file));
    evidence.push({ ...clientsReportEvidence(text, shown(file)), label: withValue.report });
  }
  if (withValue.requestReport !== undefined) {
    const file = pathFor(withValue.requestReport, ctx);
    const { text } = decodeUsageText(await readUsageFile(file, shown(file), 'request report', { roots: rootsOf(ctx), maxBytes: MAX_REQUEST_REPORT_BYTES }), shown(file));
    evidence.push({ ...requestReportEvidence(text, shown(file)), label: withValue.requestReport });
  }
  if (withValue.signInLogs !== undefined || withValue.emailAppUsage !== undefined) {
    if (!ctx.graph) throw new InputError('the usage step reads Microsoft Graph (signInLogs / emailAppUsage), but this run has no Graph connection', undefined, 'run it through the exo-playbook CLI');
    const graph = await ctx.graph();
    const policy: RequestPolicy = { ...DEFAULT_POLICY, sleep: (ms) => ctx.sleep(ms), signal: ctx.signal };
    if (withValue.signInLogs !== undefined) {
      ctx.report('Reading Entra sign-in logs (Authenticated SMTP) through Microsoft Graph');
      const days = withValue.signInLogs === true ? 30 : withValue.signInLogs.days;
      const now = ctx.now();
      evidence.push({ ...(await signInLogsEvidence(graph, days, now, policy)), ...datedWindow(now, days) });
    }
    if (withValue.emailAppUsage !== undefined) {
      ctx.report('Reading the email app usage report through Microsoft Graph');
      const period = withValue.emailAppUsage === true ? 'D180' : withValue.emailAppUsage.period;
      evidence.push({ ...(await emailAppUsageEvidence(graph, period, policy)), ...datedWindow(ctx.now(), Number(period.slice(1))) });
    }
  }
  return evidence;
}

/** A Graph source covers the `days` before now (the guard checks that against the usage window). */
function datedWindow(now: Date, days: number): { windowStart: string; windowEnd: string } {
  return { windowStart: new Date(now.getTime() - days * 86_400_000).toISOString(), windowEnd: now.toISOString() };
}

/**
 * Each address resolved; plus an entry for each mailbox's primary address, which is what the folded
 * rows (one per mailbox) are keyed by, so the guard finds the switch of every row.
 */
async function resolveSenders(addresses: readonly string[], ctx: RunContext): Promise<ResolvedMailbox[]> {
  const senders = [...new Set(addresses.map((a) => a.toLowerCase()))].filter((s) => s.includes('@'));
  if (senders.length === 0) return [];
  const directory = await readMailboxDirectory(ctx);
  const resolved = await resolveMailboxes(senders, directory, ctx);
  const entries = new Set(resolved.map((r) => r.entry.toLowerCase()));
  for (const r of [...resolved]) {
    const primary = r.mailbox?.toLowerCase();
    if (primary && !entries.has(primary)) {
      entries.add(primary);
      resolved.push({ entry: primary, mailbox: r.mailbox, value: r.value });
    }
  }
  return withAddresses(resolved, directory, ctx);
}

export function planUsage(input: PlanInput<UsageWith, UsageObserved>): StepPlan {
  const { stepId, observed } = input;
  const plan: StepPlan = { stepId, uses: 'smtp-auth/usage', changes: [], inDesiredState: [], notes: [], risks: [] };
  if (observed.source === 'report') {
    const messages = observed.rows.reduce((sum, r) => sum + r.messages, 0);
    const evidence = observed.readings ?? [];
    if (evidence.length === 0) {
      // A plan saved before sources existed: only the admin center rows.
      plan.notes.push(`${observed.file}: ${observed.rows.length} sender row(s), ${messages} message(s) submitted with SMTP AUTH`);
    }
    for (const e of evidence) plan.notes.push(sourceNote(e));
    if (evidence.length === 1 && evidence[0]!.source === 'admin-center-report') {
      plan.notes.push(`${observed.file}: ${observed.rows.length} sender row(s), ${messages} message(s) submitted with SMTP AUTH`);
    }
    for (const warning of evidence.flatMap((e) => e.warnings)) plan.risks.push({ kind: 'warning', subject: 'usage', message: warning, blocking: false });
    plan.notes.push(...driftNotes(observed));
    const dossiers = dossiersOf(input, null);
    plan.tables = [dossierTable(dossiers, false)];
    plan.data = { source: 'report', ...(observed.file ? { file: observed.file } : {}), usage: observed.rows, dossier: dossiers, sources: evidence.map(evidenceSummary), evidence: observed.evidence };
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
    const advice = downloadAdvice(reusable);
    if (advice) plan.notes.push(advice);
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
    applyOptions: { wait: input.with.wait, timeoutMinutes: input.with.timeoutMinutes, pollSeconds: input.with.pollSeconds, ...withLocation(searchLocation(input.playbook, stepId)) },
  });
  plan.notes.push(
    `The report is delivered by mail${request.notifyAddress.length ? ` to ${request.notifyAddress.join(', ')}` : ''} and in the admin center; ` +
      `${used} of ${DAILY_SEARCH_QUOTA} searches used in the last 24 hours`,
  );
  if (input.with.wait === false) plan.notes.push('wait: false: apply records the JobId and does not poll');
  if (!isDocumentedReportType(request.reportType)) {
    plan.notes.push(
      `ReportType ${request.reportType} is not among the report types Microsoft documents for Start-HistoricalSearch: the service may refuse it; apply then fails this step with the service's text`,
    );
  }
  plan.data = { source: 'historical-search', usage: [], searchesLast24Hours: used, evidence: observed.evidence };
  return plan;
}

export function verifyUsage(input: PlanInput<UsageWith, UsageObserved>): Finding[] {
  const { stepId, observed } = input;
  if (observed.source === 'report') {
    const findings: Finding[] = [];
    const evidence = observed.readings ?? [];
    if (evidence.length === 0) findings.push({ stepId, check: 'usage-report', status: 'pass', subject: observed.file ?? 'report', message: `${observed.rows.length} sender row(s) read` });
    for (const e of evidence) {
      findings.push({
        stepId,
        check: 'usage-source',
        status: e.complete ? 'pass' : 'warn',
        subject: e.label,
        message: `${SOURCE_LABELS[e.source]}: ${e.senders.length} sender(s); covers ${e.window}${e.complete ? '' : '; INCOMPLETE'}`,
      });
      for (const warning of e.warnings) findings.push({ stepId, check: 'usage-source', status: 'warn', subject: e.label, message: warning });
    }
    for (const d of dossiersOf(input, null)) {
      const base = { stepId, subject: d.sender, data: { dossier: d } };
      if (d.smtpAuthNow === 'off') {
        // Accepted breakage, or a device nobody knew: its submissions fail now (or the data predates the change).
        findings.push({ ...base, check: 'usage-sender-off', status: 'warn', message: `${dossierLine(d)}: seen in usage data but SMTP AUTH is off for it, so its submissions fail (or the data predates the change). Advice: ${d.advice.join('; ')}` });
      } else if (d.breaksEndOf2026) {
        findings.push({ ...base, check: 'basic-smtp-deadline', status: 'warn', message: `${dossierLine(d)}; ${basicDeadlineMessage(d)}` });
      } else {
        findings.push({ ...base, check: 'usage-sender', status: 'pass', message: `${dossierLine(d)}. Advice: ${d.advice.join('; ')}` });
      }
    }
    findings.push(...driftFindings(stepId, observed));
    return findings;
  }
  const job = findReusableJob(observed.jobs ?? [], searchRequest(input.with), observed.observedAt ?? new Date(0).toISOString());
  const findings: Finding[] = driftFindings(stepId, observed);
  if (!job) return findings;
  return [
    {
      stepId,
      check: 'usage-search',
      status: 'pass',
      subject: job.jobId,
      message: downloadAdvice(job) ?? `historical search "${job.reportTitle}" is ${job.status}${job.rows !== null ? ` (${job.rows} rows)` : ''}`,
    },
    ...findings,
  ];
}

/**
 * The plan once every step planned: the dossiers get SMTP AUTH after the plan, and each Basic sender
 * that keeps SMTP AUTH gets the dated warning (not a refusal: nothing the playbook sets prevents it).
 */
export function completeUsagePlan(input: PlanInput<UsageWith, UsageObserved>, own: StepPlan, plans: readonly StepPlan[]): StepPlan {
  if (input.observed.source !== 'report') return own;
  const dossiers = dossiersOf(input, switchesAfter(plans));
  const risks: Risk[] = dossiers
    .filter((d) => d.breaksEndOf2026 && d.smtpAuthAfter === 'on')
    .map((d) => ({ kind: 'warning', subject: d.sender, message: basicDeadlineMessage(d), blocking: false }));
  return {
    ...own,
    risks: [...own.risks, ...risks],
    tables: [...(own.tables ?? []).filter((t) => !t.title.startsWith(DOSSIER_TITLE)), dossierTable(dossiers, true)],
    data: { ...(own.data ?? {}), dossier: dossiers },
  };
}

/** After a verify command: remember the senders this run saw, for the next run's drift check. */
export async function recordUsage(withValue: UsageWith, observed: UsageObserved, ctx: RunContext, playbook: string): Promise<void> {
  if (withValue.history === undefined || observed.source !== 'report') return;
  await writeHistory(pathFor(withValue.history, ctx), {
    kind: 'exo-playbook/usage-history',
    playbook,
    at: ctx.now().toISOString(),
    senders: [...new Set(observed.rows.map((r) => r.sender))].sort(),
  }, rootsOf(ctx));
}

export const usageAction: ActionDefinition<UsageWith, UsageObserved> = {
  uses: 'smtp-auth/usage',
  summary: 'Finds who still submits with SMTP AUTH: admin center CSV, request report CSV, Entra sign-in logs, email app usage (Graph), merged per sender; or a historical search (submitted at apply).',
  withSchema: usageWith,
  observe: observeUsage,
  plan: planUsage,
  completePlan: completeUsagePlan,
  record: recordUsage,
  async apply(change, ctx) {
    const options = change.applyOptions ?? {};
    const { job, warnings } = await submitAndPoll(change, ctx, {
      wait: options.wait !== false,
      timeoutMinutes: typeof options.timeoutMinutes === 'number' ? options.timeoutMinutes : 240,
      // A plan saved before pollSeconds existed polls as it always did.
      pollSeconds: typeof options.pollSeconds === 'number' ? options.pollSeconds : DEFAULT_POLL_SECONDS,
    });
    return { result: { JobId: job.jobId, Status: job.status, Rows: job.rows, FileUrl: job.fileUrl, ReportStatusDescription: job.reportStatusDescription }, warnings };
  },
  verify: verifyUsage,
};
