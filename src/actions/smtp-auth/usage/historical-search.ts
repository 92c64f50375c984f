/**
 * The historical search the published admin guidance runs (Start-HistoricalSearch -ReportType
 * SmtpCSReport ...), as pure planning plus the apply-time submit-and-poll loop. Observe only lists
 * jobs (Get-HistoricalSearch); submitting is a planned Change with no undo (quota spent is spent).
 */
import { isDocumentedReportType } from '../../../exchange/historical-search-report-types.js';
import { describeServiceError } from '../../../exchange/service-error.js';
import { CmdletFailure, withoutErrors, type PsObject, type PsValue } from '../../../exchange/session.js';
import { utcDateTimeValue } from '../../../exchange/utc-date-time.js';
import type { Change, ResolvedPlaybookView, RunContext } from '../../types.js';

/** Searches per tenant per 24 hours, cancelled ones included (EXCHANGE-FACTS). */
export const DAILY_SEARCH_QUOTA = 250;
export const FINAL_STATUSES = ['Done', 'Cancelled', 'Failed'] as const;
/** The first wait before polling a submitted search (usage `pollSeconds` default). */
export const DEFAULT_POLL_SECONDS = 30;
/** Waits double up to this: a real search takes minutes to hours, and each poll is a call. */
export const MAX_POLL_MS = 10 * 60_000;

export interface HistoricalSearchJob {
  jobId: string;
  reportTitle: string;
  reportType: string;
  status: string;
  submitDate: string;
  startDate: string | null;
  endDate: string | null;
  rows: number | null;
  jobProgress: number | null;
  /** Where a Done search's CSV is downloaded (about 20 downloads allowed); null until then. */
  fileUrl: string | null;
  /** The service's status text; it explains a Failed search. */
  reportStatusDescription: string | null;
}

export interface SearchRequest {
  reportTitle: string;
  reportType: string;
  days: number;
  notifyAddress: string[];
  reuseHours: number;
}

export function toJob(object: PsObject): HistoricalSearchJob {
  const text = (v: PsValue | undefined) => (typeof v === 'string' ? v : v === null || v === undefined ? null : String(v));
  const num = (v: PsValue | undefined) => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : null);
  return {
    jobId: text(object.JobId) ?? text(object.Identity) ?? '',
    reportTitle: text(object.ReportTitle) ?? '',
    reportType: text(object.ReportType) ?? '',
    status: text(object.Status) ?? 'Unknown',
    submitDate: text(object.SubmitDate) ?? '',
    startDate: text(object.StartDate),
    endDate: text(object.EndDate),
    rows: num(object.Rows),
    jobProgress: num(object.JobProgress),
    fileUrl: text(object.FileUrl) || null,
    reportStatusDescription: text(object.ReportStatusDescription) || null,
  };
}

/** Where the finished report is and how to feed it back: shown after apply and by plan/verify of a reused search. */
export function downloadAdvice(job: HistoricalSearchJob): string | null {
  if (job.status !== 'Done') return null;
  const where = job.fileUrl ? `download it from ${job.fileUrl} (the service allows about 20 downloads)` : 'download it from the admin center (Mail flow > Message trace; the search gave no FileUrl)';
  return (
    `Historical search ${job.jobId} is Done${job.rows !== null ? ` (${job.rows} rows)` : ''}${describes(job) ? `: ${job.reportStatusDescription}` : ''}; ` +
    `${where}, then name the file in this step's \`requestReport:\` (with \`days:\`) so the next plan reads who submitted with SMTP AUTH`
  );
}

/**
 * The search window: it ends at the next full hour after observing (so plans made within the same
 * hour fingerprint the same) and starts `days` before that, never beyond the 90-day limit.
 */
export function searchWindow(observedAt: string, days: number): { start: string; end: string } {
  const hour = 3600_000;
  const end = Math.ceil(Date.parse(observedAt) / hour) * hour;
  return { start: new Date(end - days * 24 * hour).toISOString(), end: new Date(end).toISOString() };
}

/** A job this run can reuse instead of spending quota: same title and type, recent, not failed. */
export function findReusableJob(
  jobs: readonly HistoricalSearchJob[],
  request: SearchRequest,
  observedAt: string,
): HistoricalSearchJob | undefined {
  const since = Date.parse(observedAt) - request.reuseHours * 3600_000;
  return jobs
    .filter(
      (job) =>
        job.reportTitle.toLowerCase() === request.reportTitle.toLowerCase() &&
        job.reportType.toLowerCase() === request.reportType.toLowerCase() &&
        !['Cancelled', 'Failed'].includes(job.status) &&
        Date.parse(job.submitDate) >= since &&
        coversDays(job, request.days),
    )
    .sort((a, b) => b.submitDate.localeCompare(a.submitDate))[0];
}

function coversDays(job: HistoricalSearchJob, days: number): boolean {
  if (!job.startDate || !job.endDate) return true;
  const span = (Date.parse(job.endDate) - Date.parse(job.startDate)) / 86_400_000;
  return Math.abs(span - days) < 1.01;
}

export function searchesInLast24Hours(jobs: readonly HistoricalSearchJob[], observedAt: string): number {
  const since = Date.parse(observedAt) - 24 * 3600_000;
  return jobs.filter((job) => Date.parse(job.submitDate) >= since).length;
}

export function submitSearchChange(stepId: string, request: SearchRequest, observedAt: string): Change {
  const window = searchWindow(observedAt, request.days);
  const parameters: Record<string, PsValue> = {
    ReportTitle: request.reportTitle,
    ReportType: request.reportType,
    // UTC instants of Kind Utc whatever the host's time zone (the service reads them as UTC).
    StartDate: utcDateTimeValue(window.start),
    EndDate: utcDateTimeValue(window.end),
  };
  if (request.notifyAddress.length) parameters.NotifyAddress = request.notifyAddress;
  return {
    id: `${stepId}:${request.reportTitle}:HistoricalSearch`,
    stepId,
    target: request.reportTitle,
    property: 'HistoricalSearch',
    before: null,
    after: `${request.reportType} ${window.start.slice(0, 10)}..${window.end.slice(0, 10)}`,
    reason: `Find who still submits with SMTP AUTH over the last ${request.days} day(s) (uses 1 of ${DAILY_SEARCH_QUOTA} searches a day)`,
    call: { cmdlet: 'Start-HistoricalSearch', parameters },
    undo: null,
  };
}

/** `file:line:col` of the step's reportType (or of the step, when reportType is the default), for a refusal's message. */
export function searchLocation(playbook: ResolvedPlaybookView, stepId: string): string | undefined {
  const index = playbook.steps.findIndex((s) => s.id === stepId);
  if (index < 0) return undefined;
  const at = playbook.locate?.(['steps', index, 'with', 'reportType']) ?? playbook.locate?.(['steps', index]);
  return at ? `${at.file}:${at.line}:${at.col}` : undefined;
}

export interface PollOptions {
  wait: boolean;
  timeoutMinutes: number;
  /** The first wait in seconds; later ones double up to MAX_POLL_MS. */
  pollSeconds?: number;
}

/** Submits the search and, when asked to wait, polls with backoff until it ends or the timeout passes. */
export async function submitAndPoll(change: Change, ctx: RunContext, options: PollOptions): Promise<{ job: HistoricalSearchJob; warnings: string[] }> {
  const warnings: string[] = [];
  let submitted;
  try {
    submitted = withoutErrors(change.call.cmdlet, await ctx.session.invoke(change.call.cmdlet, change.call.parameters));
  } catch (error) {
    if (error instanceof CmdletFailure) throw new HistoricalSearchRefused(error, change);
    throw error;
  }
  warnings.push(...submitted.warnings);
  const first = submitted.objects[0];
  let job = first ? toJob(first) : undefined;
  if (!job || !job.jobId) throw new Error('Start-HistoricalSearch returned no JobId');
  ctx.report(`Historical search ${job.jobId} submitted`);
  if (!options.wait) return { job, warnings };
  const deadline = ctx.now().getTime() + options.timeoutMinutes * 60_000;
  let delay = Math.min((options.pollSeconds ?? DEFAULT_POLL_SECONDS) * 1000, MAX_POLL_MS);
  // A clock that does not move (a simulated tenant) must not poll forever either.
  let pollsLeft = Math.ceil(options.timeoutMinutes / 10) + 10;
  while (!(FINAL_STATUSES as readonly string[]).includes(job.status)) {
    if (ctx.signal.aborted) break;
    if (ctx.now().getTime() >= deadline || pollsLeft-- <= 0) {
      // A failed change stops the later steps: SMTP AUTH never goes off before the search finished.
      throw new Error(
        `Historical search ${job.jobId} still ${job.status} after ${options.timeoutMinutes} minute(s): later steps do not start before it finishes; check Get-HistoricalSearch -JobId ${job.jobId}`,
      );
    }
    await ctx.sleep(delay);
    delay = Math.min(delay * 2, MAX_POLL_MS);
    const polled = withoutErrors('Get-HistoricalSearch', await ctx.session.invoke('Get-HistoricalSearch', { JobId: job.jobId }));
    const next = polled.objects[0];
    if (next) job = toJob(next);
    ctx.report(`Historical search ${job.jobId}: ${job.status}${job.jobProgress !== null ? ` (${job.jobProgress}%)` : ''}`);
  }
  if (job.status === 'Failed' || job.status === 'Cancelled') {
    // The quota is spent and no report will come: the change failed, whatever the cmdlet said.
    throw new HistoricalSearchEnded(job);
  }
  const advice = downloadAdvice(job);
  if (advice) {
    ctx.report(advice);
    warnings.push(advice);
  }
  return { job, warnings };
}

export class HistoricalSearchEnded extends Error {
  constructor(readonly job: HistoricalSearchJob) {
    super(
      `Historical search ${job.jobId} ended ${job.status}${describes(job) ? ` ("${job.reportStatusDescription}")` : ''}: no report will be delivered; plan again to submit a new one`,
    );
    this.name = 'HistoricalSearchEnded';
  }
}

/** The status description says more than the status itself ("Cancelled" for Cancelled says nothing). */
function describes(job: HistoricalSearchJob): boolean {
  return job.reportStatusDescription !== null && job.reportStatusDescription.toLowerCase() !== job.status.toLowerCase();
}

/**
 * The service refused the search (Start-HistoricalSearch failed): the step's failure, located at the
 * step's reportType in the playbook, with Microsoft's text. Still a CmdletFailure, so the engine keeps
 * the parsed service error and retries throttling as for any write.
 */
export class HistoricalSearchRefused extends CmdletFailure {
  constructor(failure: CmdletFailure, change: Change) {
    super(failure.cmdlet, failure.record);
    this.name = 'HistoricalSearchRefused';
    const parameters = change.call.parameters;
    const reportType = typeof parameters.ReportType === 'string' ? parameters.ReportType : '';
    // Where the plan found the step's reportType (searchLocation), kept with the change.
    const at = change.applyOptions?.at;
    const where = typeof at === 'string' ? `${at}: ` : '';
    const undocumented = !isDocumentedReportType(reportType);
    const addressless = !['SenderAddress', 'RecipientAddress', 'MessageID'].some((p) => p in parameters);
    this.message =
      `${where}step ${change.stepId}: the service refused Start-HistoricalSearch -ReportType ${reportType}: ${describeServiceError(failure.record)}` +
      (undocumented ? `. ${reportType} is not in Microsoft's documented ReportType list (Start-HistoricalSearch reference), so the service may refuse it from PowerShell` : '') +
      (addressless ? ". Microsoft's reference also asks for at least one of MessageID, RecipientAddress or SenderAddress" : '') +
      `. Instead: in the admin center, Reports > Mail flow > SMTP AUTH clients report > Request report, then name the downloaded file in \`requestReport:\``;
  }
}
