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
import { stat } from 'node:fs/promises';
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
import { leftOutNote, provenRouteOf, provenRoutes, type ProvenRoute } from '../oauth-senders/proven.js';
import { dossierLine, dossiersOf, driftFindings, driftNotes, evidenceSummary, mailboxLookup, missingSenderRisks, sourceNote, switchesAfter } from './senders.js';
import { emailAppUsageEvidence } from './email-app-usage.js';
import { evidenceAgeDays, evidenceOf, isStale, foldByMailbox, mergeEvidence, usageRowsOf, SOURCE_LABELS, type EvidencePeriod, type SourceReading, type UsageEvidence } from './evidence.js';
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
  /**
   * When this run observed (ISO): the lockout guard measures each source's age from it. Volatile:
   * never fingerprinted, so a saved plan does not go stale by the clock alone (apply re-observes).
   */
  volatile?: { runAt: string };
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

/** Any source this run reads itself; `history:` counts too: its saved readings are evidence (absent: none). */
export function hasEvidenceSource(withValue: UsageWith): boolean {
  return (
    withValue.report !== undefined ||
    withValue.requestReport !== undefined ||
    withValue.signInLogs !== undefined ||
    withValue.emailAppUsage !== undefined ||
    withValue.history !== undefined
  );
}

export async function observeUsage(withValue: UsageWith, ctx: RunContext): Promise<UsageObserved> {
  const organizationDisabled = await readOrganizationDisabled(ctx);
  const previous = withValue.history !== undefined ? { previous: await readHistory(pathFor(withValue.history, ctx), shown(pathFor(withValue.history, ctx)), rootsOf(ctx)) } : {};
  if (hasEvidenceSource(withValue)) {
    const own = await readEvidence(withValue, ctx);
    // A saved reading of a source this run reads itself adds nothing: this run's reading is newer.
    const saved = savedReadingsOf(previous.previous, withValue.history).filter((s) => !own.some((o) => o.source === s.source));
    const readings = [...own, ...saved];
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
      volatile: { runAt: ctx.now().toISOString() },
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
    volatile: { runAt: ctx.now().toISOString() },
    jobs,
    ...previous,
  };
}

/**
 * An earlier run's readings (history:), each with its recorded period: evidence of this run too, so a
 * playbook naming the usage playbook's history file knows every sender its sources saw (Graph's
 * included). The guard judges their age like any source's; acceptStaleEvidence names them `history`.
 */
const SAVED_BY = ', saved by ';

function savedReadingsOf(previous: UsageHistory | null | undefined, file: string | undefined): SourceReading[] {
  if (!previous?.readings || file === undefined) return [];
  return previous.readings.map((r) => {
    // A reading carried forward keeps the run that read it: evidence never gets fresher by being copied.
    const savedBy = r.savedBy ?? { playbook: previous.playbook, at: previous.at, file };
    return { ...r, label: `${r.label}${SAVED_BY}${savedBy.playbook}'s verify at ${savedBy.at} in ${savedBy.file}`, key: 'history' as const, savedBy };
  });
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
    evidence.push({ ...clientsReportEvidence(text, shown(file), await clientsReportPeriod(withValue, file)), label: withValue.report, key: 'report' });
  }
  if (withValue.requestReport !== undefined) {
    const file = pathFor(withValue.requestReport, ctx);
    const { text } = decodeUsageText(await readUsageFile(file, shown(file), 'request report', { roots: rootsOf(ctx), maxBytes: MAX_REQUEST_REPORT_BYTES }), shown(file));
    const reading = requestReportEvidence(text, shown(file));
    // A report with no rows has no dates: its period is the file's time (said so).
    const dated = reading.windowEnd ? reading : { ...reading, ...periodFields(await fileTimePeriod(file, withValue.days, 'the report has no rows to date it')) };
    evidence.push({ ...dated, label: withValue.requestReport, key: 'requestReport' });
  }
  if (withValue.signInLogs !== undefined || withValue.emailAppUsage !== undefined) {
    if (!ctx.graph) throw new InputError('the usage step reads Microsoft Graph (signInLogs / emailAppUsage), but this run has no Graph connection', undefined, 'run it through the exo-playbook CLI');
    const graph = await ctx.graph();
    const policy: RequestPolicy = { ...DEFAULT_POLICY, sleep: (ms) => ctx.sleep(ms), signal: ctx.signal };
    if (withValue.signInLogs !== undefined) {
      ctx.report('Reading Entra sign-in logs (Authenticated SMTP) through Microsoft Graph');
      const days = withValue.signInLogs === true ? 30 : withValue.signInLogs.days;
      const now = ctx.now();
      evidence.push({ ...(await signInLogsEvidence(graph, days, now, policy)), ...datedWindow(now, days), key: 'signInLogs' });
    }
    if (withValue.emailAppUsage !== undefined) {
      ctx.report('Reading the email app usage report through Microsoft Graph');
      const period = withValue.emailAppUsage === true ? 'D180' : withValue.emailAppUsage.period;
      // Dated by the report itself (its Report Refresh Date and Report Period), see email-app-usage.ts.
      evidence.push({ ...(await emailAppUsageEvidence(graph, period, policy)), key: 'emailAppUsage' });
    }
  }
  return evidence;
}

const DAY_MS = 86_400_000;

function periodFields(period: EvidencePeriod): Pick<SourceReading, 'windowStart' | 'windowEnd' | 'periodFrom'> {
  return { windowStart: period.start, windowEnd: period.end, periodFrom: period.from };
}

/**
 * The clients report has no date column (EXCHANGE-FACTS): its period is what the playbook says
 * (exportedAt:, periodDays:), else the file's modification time, and the plan says which.
 */
async function clientsReportPeriod(withValue: UsageWith, file: string): Promise<EvidencePeriod> {
  const days = withValue.periodDays ?? 7;
  const daysFrom = withValue.periodDays === undefined ? "7 days, the admin center's default (no periodDays:)" : `periodDays: ${days}`;
  if (withValue.exportedAt !== undefined) {
    const end = Date.parse(withValue.exportedAt);
    return { start: new Date(end - days * DAY_MS).toISOString(), end: new Date(end).toISOString(), from: `from the playbook: exportedAt: ${withValue.exportedAt}, ${daysFrom}` };
  }
  return fileTimePeriod(file, days, `the report carries no dates: set exportedAt: beside report: to state when it was exported; ${daysFrom}`);
}

async function fileTimePeriod(file: string, days: number, why: string): Promise<EvidencePeriod> {
  const end = (await stat(file)).mtime;
  return { start: new Date(end.getTime() - days * DAY_MS).toISOString(), end: end.toISOString(), from: `from the file's modification time, ${why}` };
}

/** A Graph source read now covers the `days` before now (from the request itself). */
function datedWindow(now: Date, days: number): Pick<SourceReading, 'windowStart' | 'windowEnd' | 'periodFrom'> {
  // Rounded to the hour, as observedAt is: the observation is fingerprinted for saved plans.
  const end = Math.floor(now.getTime() / 3600_000) * 3600_000;
  return { windowStart: new Date(end - days * DAY_MS).toISOString(), windowEnd: new Date(end).toISOString(), periodFrom: `from the request (sign-ins of the ${days} day(s) before ${now.toISOString()}, when it was read)` };
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

/** An exportedAt after the run would make the report look fresh for ever: a typo, refused at its line. */
function assertExportedBeforeRun(input: PlanInput<UsageWith, UsageObserved>): void {
  const { exportedAt } = input.with;
  const runAt = input.observed.volatile?.runAt;
  if (exportedAt === undefined || runAt === undefined) return;
  const end = Date.parse(exportedAt);
  if (!Number.isNaN(end) && end <= Date.parse(runAt) + DAY_MS) return;
  const index = input.playbook.steps.findIndex((s) => s.id === input.stepId);
  throw new InputError(
    `exportedAt: ${exportedAt} of step '${input.stepId}' is ${Number.isNaN(end) ? 'not a date' : `after this run (${runAt})`}`,
    input.playbook.locate?.(['steps', index, 'with', 'exportedAt']),
    'write the date the clients report was exported from the admin center (e.g. exportedAt: 2026-12-07)',
  );
}

export function planUsage(input: PlanInput<UsageWith, UsageObserved>): StepPlan {
  assertExportedBeforeRun(input);
  const { stepId, observed } = input;
  const plan: StepPlan = { stepId, uses: 'smtp-auth/usage', changes: [], inDesiredState: [], notes: [], risks: [] };
  if (observed.source === 'report') {
    const messages = countedMessages(observed.rows);
    const evidence = observed.readings ?? [];
    if (evidence.length === 0) {
      // A plan saved before sources existed: only the admin center rows.
      plan.notes.push(`${observed.file}: ${observed.rows.length} sender row(s), ${messages} submitted with SMTP AUTH`);
    }
    for (const e of evidence) plan.notes.push(sourceNote(e, observed.volatile?.runAt));
    if (evidence.length === 1 && evidence[0]!.source === 'admin-center-report') {
      plan.notes.push(`${observed.file}: ${observed.rows.length} sender row(s), ${messages} submitted with SMTP AUTH`);
    }
    for (const warning of evidence.flatMap((e) => e.warnings)) plan.risks.push({ kind: 'warning', subject: 'usage', message: warning, blocking: false });
    // Accepting a source the step does not read accepts nothing: most likely a typo, said so.
    for (const accepted of input.with.acceptStaleEvidence.filter((a) => !evidence.some((e) => e.key === a.source))) {
      plan.risks.push({ kind: 'warning', subject: accepted.source, message: `acceptStaleEvidence names ${accepted.source}, which this step does not read (or, for history, has no saved reading): it accepts nothing`, blocking: false });
    }
    plan.notes.push(...driftNotes(observed));
    plan.risks.push(...missingSenderRisks(observed));
    const unread = (['requestReport', 'signInLogs', 'emailAppUsage'] as const).filter((key) => input.with[key] === undefined);
    if (observed.previous === null && input.with.history !== undefined && unread.length > 0) {
      // The saved evidence this step counts on for the sources it does not read is not there yet.
      plan.risks.push({
        kind: 'warning',
        subject: 'usage',
        message: `no saved evidence in ${input.with.history} yet: senders only ${unread.join(', ')} would show are unknown to this plan. Run the verify of the playbook that writes it (smtp-auth-usage.yaml) first`,
        blocking: false,
      });
    }
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

/** "1204 message(s)", with the rows no source counted said to be unknown (never added as 0). */
function countedMessages(rows: readonly UsageRow[]): string {
  const unknown = rows.filter((r) => r.messages === null).length;
  const total = rows.reduce((sum, r) => sum + (r.messages ?? 0), 0);
  return `${total} message(s)${unknown ? ` counted (${unknown} sender row(s) with an unknown count)` : ''}`;
}

export function verifyUsage(input: PlanInput<UsageWith, UsageObserved>): Finding[] {
  assertExportedBeforeRun(input);
  const { stepId, observed } = input;
  if (observed.source === 'report') {
    const findings: Finding[] = [];
    const evidence = observed.readings ?? [];
    if (evidence.length === 0) findings.push({ stepId, check: 'usage-report', status: 'pass', subject: observed.file ?? 'report', message: `${observed.rows.length} sender row(s) read` });
    for (const e of evidence) {
      // Old evidence is a warning here (verify writes nothing); the lockout guard refuses it before a write.
      const age = evidenceAgeDays({ windowEnd: e.windowEnd ?? null }, observed.volatile?.runAt);
      const stale = isStale({ windowEnd: e.windowEnd ?? null }, observed.volatile?.runAt, input.with.maxAgeDays);
      findings.push({
        stepId,
        check: 'usage-source',
        status: e.complete && !stale ? 'pass' : 'warn',
        subject: e.label,
        message:
          `${SOURCE_LABELS[e.source]}: ${e.senders.length} sender(s); covers ${e.window}${e.complete ? '' : '; INCOMPLETE'}` +
          (stale ? `; ${age} day(s) old, more than maxAgeDays (${input.with.maxAgeDays})` : ''),
      });
      for (const warning of e.warnings) findings.push({ stepId, check: 'usage-source', status: 'warn', subject: e.label, message: warning });
    }
    const routes = provenRoutes(input);
    const leftOut: { sender: string; route: ProvenRoute }[] = [];
    for (const d of dossiersOf(input, null)) {
      const base = { stepId, subject: d.sender, data: { dossier: d } };
      const route = d.breaksEndOf2026 ? provenRouteOf(routes, [d.sender, d.mailbox, ...d.addresses]) : undefined;
      if (d.smtpAuthNow === 'off') {
        // Accepted breakage, or a device nobody knew: its submissions fail now (or the data predates the change).
        findings.push({ ...base, check: 'usage-sender-off', status: 'warn', message: `${dossierLine(d)}: seen in usage data but SMTP AUTH is off for it, so its submissions fail (or the data predates the change). Advice: ${d.advice.join('; ')}` });
      } else if (route) {
        // Proven on OAuth by an oauth-senders step: not in the December warning (oauth-senders/proven.ts).
        leftOut.push({ sender: d.sender, route });
        findings.push({ ...base, check: 'usage-sender', status: 'pass', message: `${dossierLine(d)}. OAuth proven for it by ${route.app} (step '${route.stepId}'): left out of the December warning` });
      } else if (d.breaksEndOf2026) {
        findings.push({ ...base, check: 'basic-smtp-deadline', status: 'warn', message: `${dossierLine(d)}; ${basicDeadlineMessage(d)}` });
      } else {
        findings.push({ ...base, check: 'usage-sender', status: 'pass', message: `${dossierLine(d)}. Advice: ${d.advice.join('; ')}` });
      }
    }
    const note = leftOutNote(leftOut);
    if (note) findings.push({ stepId, check: 'basic-smtp-deadline', status: 'pass', subject: 'OAuth-proven senders', message: note });
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
  // Senders an oauth-senders step has proven on OAuth are left out of the December warning, and counted.
  const routes = provenRoutes(input);
  const warned = dossiers.filter((d) => d.breaksEndOf2026 && d.smtpAuthAfter === 'on');
  const leftOut = warned.flatMap((d) => {
    const route = provenRouteOf(routes, [d.sender, d.mailbox, ...d.addresses]);
    return route ? [{ sender: d.sender, route }] : [];
  });
  const risks: Risk[] = warned
    .filter((d) => !leftOut.some((l) => l.sender === d.sender))
    .map((d) => ({ kind: 'warning', subject: d.sender, message: basicDeadlineMessage(d), blocking: false }));
  const note = leftOutNote(leftOut);
  return {
    ...own,
    ...(note ? { notes: [...own.notes, note] } : {}),
    risks: [...own.risks, ...risks],
    tables: [...(own.tables ?? []).filter((t) => !t.title.startsWith(DOSSIER_TITLE)), dossierTable(dossiers, true)],
    data: { ...(own.data ?? {}), dossier: dossiers },
  };
}

/** After a verify command: remember the senders this run saw, for the next run's drift check. */
export async function recordUsage(withValue: UsageWith, observed: UsageObserved, ctx: RunContext, playbook: string): Promise<void> {
  if (withValue.history === undefined || observed.source !== 'report') return;
  // This run's readings, and the saved ones it did not replace, carried forward with the run that read
  // them (savedBy): a playbook sharing the file never erases what another one's sources saw.
  await writeHistory(pathFor(withValue.history, ctx), {
    kind: 'exo-playbook/usage-history',
    playbook,
    at: ctx.now().toISOString(),
    senders: [...new Set(observed.rows.map((r) => r.sender))].sort(),
    readings: (observed.readings ?? []).map((r) => (r.savedBy ? { ...r, label: r.label.split(SAVED_BY)[0]!, key: undefined } : r)),
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
