/**
 * Start/Get/Stop-HistoricalSearch with the service's limits (EXCHANGE-FACTS "Historical search"):
 * StartDate at most 90 days back, EndDate not before StartDate, 250 submissions per tenant per 24
 * hours (cancelled ones count). Simulated time: a job moves NotStarted → InProgress → Done one step
 * per Get-HistoricalSearch read that returns it (PollsRemaining counts the reads left), so a poller
 * sees the lifecycle without waiting.
 */
import { randomUUID } from 'node:crypto';
import { DOCUMENTED_REPORT_TYPES } from '../../historical-search-report-types.js';
import type { PsObject } from '../../session.js';
import type { SimHistoricalSearch, TenantState } from '../state.js';
import { CLR, type BoundDateTime } from '../parameters.js';
import { argumentTransformation, objectNotFound, taskArgumentError } from '../records.js';
import { fail, NO_OUTPUT, stringParameter, type CmdletContext, type CmdletDefinition } from './context.js';

const DAY_MS = 24 * 60 * 60 * 1000;
export const MAX_SEARCH_AGE_DAYS = 90;
export const SEARCHES_PER_DAY = 250;
/** Get-HistoricalSearch lists the jobs submitted in this many days. */
export const LISTED_DAYS = 10;
const MAX_ADDRESSES = 100;

/** Microsoft's documented report types, plus SmtpCSReport from the published SMTP AUTH audit guidance (acceptance unconfirmed). */
export const REPORT_TYPES: readonly string[] = [...DOCUMENTED_REPORT_TYPES, 'SmtpCSReport'];

export const STATUS_DESCRIPTION = {
  NotStarted: 'Not started',
  InProgress: 'In progress',
  Done: 'Complete',
  Cancelled: 'Cancelled',
  Failed: 'Failed',
} as const;

function jobView(job: SimHistoricalSearch): PsObject {
  return {
    Identity: job.JobId,
    JobId: job.JobId,
    ReportTitle: job.ReportTitle,
    ReportType: job.ReportType,
    Status: job.Status,
    SubmitDate: job.SubmitDate,
    StartDate: job.StartDate,
    EndDate: job.EndDate,
    NotifyAddress: [...job.NotifyAddress],
    JobProgress: job.JobProgress,
    Rows: job.Rows,
    ReportStatusDescription: job.ReportStatusDescription,
    FileUrl: job.FileUrl ?? null,
  };
}

/**
 * A Done search's download link. Its shape is the one seen in the wild for historical searches (no
 * Microsoft page documents it); only its presence on a Done job matters here. The stub builds the same.
 */
export function fileUrlOf(jobId: string): string {
  return `https://admin.protection.outlook.com/ExtendedReport/Download?Type=OnDemandReport&RequestID=${jobId}`;
}

/**
 * Refusals the tenant's service is set to make (state.historicalSearchService), worded from Microsoft's
 * Start-HistoricalSearch reference: a ReportType outside HistoricalSearchReportType fails its argument
 * transformation (SmtpCSReport is not in the documented list), and "you also need to use at least one
 * of the following parameters in the command: MessageID, RecipientAddress, or SenderAddress".
 */
function serviceRefusal(context: CmdletContext, reportType: string): void {
  const service = context.tenant.state.historicalSearchService ?? {};
  const values = context.parameters.values;
  if ((service.rejectReportTypes ?? []).some((t) => t.toLowerCase() === reportType.toLowerCase())) {
    const accepted = REPORT_TYPES.filter((t) => !(service.rejectReportTypes ?? []).some((r) => r.toLowerCase() === t.toLowerCase()));
    fail(
      context,
      argumentTransformation(
        context.cmdlet,
        'ReportType',
        `Cannot convert value "${reportType}" to type "Microsoft.Exchange.Management.ReportingTask.HistoricalSearchReportType". Valid values: ${accepted.join(', ')}.`,
      ),
    );
  }
  const needsAddress = (service.addressRequiredFor ?? []).some((t) => t.toLowerCase() === reportType.toLowerCase());
  if (needsAddress && !['MessageID', 'RecipientAddress', 'SenderAddress'].some((name) => values.has(name))) {
    fail(
      context,
      taskArgumentError(context.cmdlet, 'AddressRequired', `You need to use at least one of the following parameters: MessageID, RecipientAddress, or SenderAddress (ReportType ${reportType}).`),
    );
  }
}

/**
 * The instant the service searches from a bound DateTime: it reads the value's clock time as UTC
 * (EXCHANGE-FACTS "Historical search": "StartDate/EndDate are interpreted as UTC by the service: pass
 * DateTime values in UTC, not strings PowerShell may read as local"). A Kind Utc value is exact; a
 * Kind Local one (a string PowerShell converted) is off by the host's UTC offset, as it would be.
 */
export function serviceReading(value: BoundDateTime): Date {
  if (value.kind === 'Utc') return value.instant;
  return new Date(value.instant.getTime() - value.instant.getTimezoneOffset() * 60_000);
}

export const startHistoricalSearch: CmdletDefinition = {
  // No -Confirm and no -WhatIf (EXCHANGE-FACTS; Microsoft's reference for Start-HistoricalSearch).
  parameters: [
    { name: 'ReportTitle', type: 'string', clr: CLR.string, mandatory: true },
    { name: 'ReportType', type: 'string', clr: 'Microsoft.Exchange.Management.ReportingTask.HistoricalSearchReportType', mandatory: true },
    { name: 'StartDate', type: 'date', clr: CLR.dateTime, mandatory: true },
    { name: 'EndDate', type: 'date', clr: CLR.dateTime, mandatory: true },
    { name: 'NotifyAddress', type: 'string[]', clr: CLR.multiValued },
    { name: 'MessageID', type: 'string[]', clr: CLR.multiValued },
    { name: 'SenderAddress', type: 'string[]', clr: CLR.multiValued },
    { name: 'RecipientAddress', type: 'string[]', clr: CLR.multiValued },
  ],
  *run(context) {
    const values = context.parameters.values;
    const reportType = stringParameter(context, 'ReportType') ?? '';
    const canonicalType = REPORT_TYPES.find((t) => t.toLowerCase() === reportType.toLowerCase());
    if (!canonicalType) {
      fail(
        context,
        argumentTransformation(
          context.cmdlet,
          'ReportType',
          `Cannot convert value "${reportType}" to type "Microsoft.Exchange.Management.ReportingTask.HistoricalSearchReportType". Valid values: ${REPORT_TYPES.join(', ')}.`,
        ),
      );
    }
    serviceRefusal(context, canonicalType!);
    const startDate = serviceReading(values.get('StartDate') as BoundDateTime);
    const endDate = serviceReading(values.get('EndDate') as BoundDateTime);
    const now = context.now();
    if (startDate.getTime() < now.getTime() - MAX_SEARCH_AGE_DAYS * DAY_MS) {
      fail(
        context,
        taskArgumentError(
          context.cmdlet,
          'InvalidStartDate',
          `The StartDate ${startDate.toISOString()} is more than ${MAX_SEARCH_AGE_DAYS} days in the past. Historical search covers only the last ${MAX_SEARCH_AGE_DAYS} days.`,
        ),
      );
    }
    if (endDate.getTime() < startDate.getTime()) {
      fail(context, taskArgumentError(context.cmdlet, 'InvalidEndDate', `The EndDate ${endDate.toISOString()} is earlier than the StartDate ${startDate.toISOString()}.`));
    }
    for (const name of ['SenderAddress', 'RecipientAddress']) {
      const list = values.get(name) as string[] | undefined;
      if (list && list.length > MAX_ADDRESSES) {
        fail(context, taskArgumentError(context.cmdlet, 'TooManyAddresses', `${name} accepts at most ${MAX_ADDRESSES} addresses; ${list.length} were given.`));
      }
    }
    const state = context.tenant.state;
    const recent = submittedSince(state, now.getTime() - DAY_MS);
    if (recent.length >= SEARCHES_PER_DAY) {
      const oldest = Math.min(...recent.map((j) => Date.parse(j.SubmitDate)));
      fail(
        context,
        taskArgumentError(
          context.cmdlet,
          'HistoricalSearchQuotaExceeded',
          `You have reached the limit of ${SEARCHES_PER_DAY} historical searches per tenant in 24 hours (cancelled searches count). Try again after ${new Date(oldest + DAY_MS).toISOString()}.`,
        ),
      );
    }
    const job: SimHistoricalSearch = {
      JobId: randomUUID(),
      ReportTitle: stringParameter(context, 'ReportTitle') ?? '',
      ReportType: canonicalType!,
      Status: 'NotStarted',
      SubmitDate: now.toISOString(),
      StartDate: startDate.toISOString(),
      EndDate: endDate.toISOString(),
      NotifyAddress: (values.get('NotifyAddress') as string[] | undefined) ?? [],
      JobProgress: 0,
      Rows: 0,
      ReportStatusDescription: STATUS_DESCRIPTION.NotStarted,
      PollsRemaining: state.historicalSearchPolls,
    };
    state.historicalSearches.push(job);
    context.changed({ section: 'historicalSearches' });
    yield jobView(job);
  },
};

function submittedSince(state: TenantState, since: number): SimHistoricalSearch[] {
  return state.historicalSearches.filter((j) => Date.parse(j.SubmitDate) > since);
}

/** One simulated tick of a job that is still running: the service moved on since the last read. */
function advance(context: CmdletContext, job: SimHistoricalSearch): void {
  if (job.Status !== 'NotStarted' && job.Status !== 'InProgress') return;
  const total = Math.max(1, context.tenant.state.historicalSearchPolls);
  job.PollsRemaining = Math.max(0, job.PollsRemaining - 1);
  if (job.PollsRemaining === 0) {
    job.Status = 'Done';
    job.JobProgress = 100;
    job.Rows = countActivity(context.tenant.state, job);
    job.ReportStatusDescription = STATUS_DESCRIPTION.Done;
    job.FileUrl = fileUrlOf(job.JobId);
  } else {
    job.Status = 'InProgress';
    job.JobProgress = Math.min(99, Math.max(1, Math.round((100 * (total - job.PollsRemaining)) / total)));
    job.ReportStatusDescription = STATUS_DESCRIPTION.InProgress;
  }
  context.changed({ section: 'historicalSearches' });
}

/** Rows of the report: SMTP AUTH activity records last seen inside the job's window. */
function countActivity(state: TenantState, job: SimHistoricalSearch): number {
  const from = Date.parse(job.StartDate);
  const to = Date.parse(job.EndDate);
  return state.smtpAuthActivity.filter((a) => {
    const seen = Date.parse(a.lastSeen);
    return seen >= from && seen <= to;
  }).length;
}

export const getHistoricalSearch: CmdletDefinition = {
  parameters: [{ name: 'JobId', type: 'guid', clr: CLR.guid }],
  *run(context) {
    const jobId = stringParameter(context, 'JobId');
    const listed = submittedSince(context.tenant.state, context.now().getTime() - LISTED_DAYS * DAY_MS);
    if (jobId !== undefined) {
      const job = listed.find((j) => j.JobId.toLowerCase() === jobId.toLowerCase());
      if (!job) {
        context.writeError(objectNotFound(context.cmdlet, jobId, context.tenant.server));
        return;
      }
      advance(context, job);
      yield jobView(job);
      return;
    }
    for (const job of listed) {
      advance(context, job);
      yield jobView(job);
    }
  },
};

export const stopHistoricalSearch: CmdletDefinition = {
  parameters: [{ name: 'JobId', type: 'guid', clr: CLR.guid, mandatory: true }],
  run(context) {
    const jobId = stringParameter(context, 'JobId') ?? '';
    const job = context.tenant.state.historicalSearches.find((j) => j.JobId.toLowerCase() === jobId.toLowerCase());
    if (!job) {
      context.writeError(objectNotFound(context.cmdlet, jobId, context.tenant.server));
      return NO_OUTPUT;
    }
    if (job.Status !== 'NotStarted') {
      fail(
        context,
        taskArgumentError(
          context.cmdlet,
          'HistoricalSearchNotStoppable',
          `The historical search '${job.JobId}' can't be stopped because its status is ${job.Status}. Only a search that has not started (NotStarted) can be stopped.`,
          job.JobId,
        ),
      );
    }
    job.Status = 'Cancelled';
    job.PollsRemaining = 0;
    job.ReportStatusDescription = STATUS_DESCRIPTION.Cancelled;
    context.changed({ section: 'historicalSearches' });
    return NO_OUTPUT;
  },
};
