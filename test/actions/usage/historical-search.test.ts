/**
 * The historical search's submit-and-poll against the simulated service: what a finished search shows
 * (FileUrl, status text, how to feed the file back), what a failed one says, and a refusal by the
 * service as a failure located at the step's reportType with the service's own text.
 */
import { describe, expect, it } from 'vitest';
import { HistoricalSearchEnded, HistoricalSearchRefused, submitAndPoll, submitSearchChange, toJob } from '../../../src/actions/smtp-auth/usage/historical-search.js';
import { CmdletFailure } from '../../../src/exchange/session.js';
import { context, tenant } from '../builders.js';

const CLOCK = '2026-11-23T10:00:00.000Z';
const request = { reportTitle: 'SMTPBasicAuth_Audit', reportType: 'SmtpCSReport', days: 7, notifyAddress: ['admin@contoso.com'], reuseHours: 24 };
const poll = { wait: true, timeoutMinutes: 60, pollSeconds: 1 };

describe('submitAndPoll', () => {
  it('a Done search: its FileUrl and status text, and how to feed the file back through requestReport:', async () => {
    const state = tenant([], { clock: CLOCK, historicalSearchPolls: 2 });
    const reported: string[] = [];
    const change = { ...submitSearchChange('usage', request, CLOCK), applyOptions: { at: 'audit.yaml:22:19' } };
    const { job, warnings } = await submitAndPoll(change, context(state, { report: (m) => reported.push(m) }), poll);
    expect(job).toMatchObject({ status: 'Done', reportStatusDescription: 'Complete', fileUrl: expect.stringContaining(`RequestID=${job.jobId}`) });
    const advice = `Historical search ${job.jobId} is Done (0 rows): Complete; download it from ${job.fileUrl} (the service allows about 20 downloads), then name the file in this step's \`requestReport:\` (with \`days:\`) so the next plan reads who submitted with SMTP AUTH`;
    expect(warnings).toEqual([advice]);
    expect(reported).toContain(advice);
  });

  it('a search that ended Failed says so with its ReportStatusDescription', () => {
    const job = toJob({ JobId: 'j1', ReportTitle: 't', ReportType: 'SmtpCSReport', Status: 'Failed', SubmitDate: CLOCK, ReportStatusDescription: 'Report type not supported', FileUrl: '' });
    expect(job.fileUrl).toBeNull();
    expect(new HistoricalSearchEnded(job).message).toBe('Historical search j1 ended Failed ("Report type not supported"): no report will be delivered; plan again to submit a new one');
  });

  it("a refusal by the service is located at the step's reportType, with Microsoft's text, and stays a CmdletFailure", async () => {
    const state = tenant([], { clock: CLOCK, historicalSearchService: { addressRequiredFor: ['SmtpCSReport'] } });
    const change = { ...submitSearchChange('usage', request, CLOCK), applyOptions: { at: 'audit.yaml:22:19' } };
    const failure = await submitAndPoll(change, context(state), poll).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(HistoricalSearchRefused);
    expect(failure).toBeInstanceOf(CmdletFailure);
    const message = (failure as Error).message;
    expect(message).toMatch(/^audit\.yaml:22:19: step usage: the service refused Start-HistoricalSearch -ReportType SmtpCSReport: /);
    expect(message).toContain('You need to use at least one of the following parameters: MessageID, RecipientAddress, or SenderAddress (ReportType SmtpCSReport).');
    expect(message).toContain("SmtpCSReport is not in Microsoft's documented ReportType list");
    expect(state.historicalSearches).toEqual([]);
  });

  it('sends the window as Kind Utc DateTime values', () => {
    const change = submitSearchChange('usage', request, CLOCK);
    expect(change.call.parameters).toMatchObject({ StartDate: { $dateTimeUtc: '2026-11-16T10:00:00.000Z' }, EndDate: { $dateTimeUtc: CLOCK } });
  });
});
