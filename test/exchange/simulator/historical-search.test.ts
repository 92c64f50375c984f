import { describe, expect, it } from 'vitest';
import { SimulatedSession } from '../../../src/exchange/simulator/session.js';
import type { SimHistoricalSearch } from '../../../src/exchange/simulator/state.js';
import { CLOCK, failure, smallTenant } from './tenant-fixture.js';

const DAY = 24 * 60 * 60 * 1000;
const daysBefore = (days: number) => new Date(Date.parse(CLOCK) - days * DAY).toISOString();

function audit(extra: Record<string, string> = {}) {
  return {
    ReportTitle: 'SMTPBasicAuth_Audit',
    ReportType: 'SmtpCSReport',
    StartDate: daysBefore(7),
    EndDate: CLOCK,
    NotifyAddress: ['admin@contoso.com'],
    ...extra,
  };
}

describe('historical search lifecycle', () => {
  it('moves NotStarted → InProgress → Done over simulated polls, with Rows from the activity in the window', async () => {
    const s = SimulatedSession.fromState(smallTenant());
    const started = await s.invoke('Start-HistoricalSearch', audit());
    const job = started.objects[0]!;
    expect(job).toMatchObject({ Status: 'NotStarted', JobProgress: 0, ReportTitle: 'SMTPBasicAuth_Audit', ReportType: 'SmtpCSReport', SubmitDate: CLOCK });
    expect(s.state.historicalSearches[0]!.PollsRemaining).toBe(3);

    const seen: unknown[][] = [];
    for (let i = 0; i < 4; i++) {
      const polled = (await s.invoke('Get-HistoricalSearch', { JobId: job.JobId as string })).objects[0]!;
      seen.push([polled.Status, polled.JobProgress]);
    }
    expect(seen).toEqual([
      ['InProgress', 33],
      ['InProgress', 67],
      ['Done', 100],
      ['Done', 100],
    ]);
    const done = (await s.invoke('Get-HistoricalSearch')).objects[0]!;
    // Only scanner (Nov 18) falls inside the 7 days; j.doe (Nov 1) and sales (Oct 1) do not.
    expect(done).toMatchObject({ Status: 'Done', Rows: 1, ReportStatusDescription: 'Complete' });
  });

  it('takes state.historicalSearchPolls reads to finish', async () => {
    const state = { ...smallTenant(), historicalSearchPolls: 1 };
    const s = SimulatedSession.fromState(state);
    await s.invoke('Start-HistoricalSearch', audit({ StartDate: daysBefore(30) }));
    const polled = (await s.invoke('Get-HistoricalSearch')).objects[0]!;
    expect(polled).toMatchObject({ Status: 'Done', Rows: 2 });
  });

  it('Stop-HistoricalSearch cancels only a job that has not started', async () => {
    const s = SimulatedSession.fromState(smallTenant());
    const first = (await s.invoke('Start-HistoricalSearch', audit())).objects[0]!.JobId as string;
    await s.invoke('Stop-HistoricalSearch', { JobId: first });
    expect(s.state.historicalSearches[0]!.Status).toBe('Cancelled');
    // A cancelled job stays cancelled when read.
    expect((await s.invoke('Get-HistoricalSearch', { JobId: first })).objects[0]!.Status).toBe('Cancelled');

    const second = (await s.invoke('Start-HistoricalSearch', audit())).objects[0]!.JobId as string;
    await s.invoke('Get-HistoricalSearch', { JobId: second });
    const error = await failure(s.invoke('Stop-HistoricalSearch', { JobId: second }));
    expect(error.record.message).toContain('status is InProgress');
    expect(error.record.message).toContain('NotStarted');
  });

  it('lists only the jobs submitted in the last 10 days', async () => {
    const state = smallTenant();
    const old: SimHistoricalSearch = {
      JobId: '11111111-1111-4111-8111-111111111111',
      ReportTitle: 'old',
      ReportType: 'SmtpCSReport',
      Status: 'Done',
      SubmitDate: daysBefore(11),
      StartDate: daysBefore(18),
      EndDate: daysBefore(11),
      NotifyAddress: [],
      JobProgress: 100,
      Rows: 0,
      ReportStatusDescription: 'Complete',
      PollsRemaining: 0,
    };
    state.historicalSearches.push(old, { ...old, JobId: '22222222-2222-4222-8222-222222222222', SubmitDate: daysBefore(9) });
    const s = SimulatedSession.fromState(state);
    const listed = await s.invoke('Get-HistoricalSearch');
    expect(listed.objects.map((o) => o.JobId)).toEqual(['22222222-2222-4222-8222-222222222222']);
    const byId = await s.invoke('Get-HistoricalSearch', { JobId: old.JobId });
    expect(byId.objects).toEqual([]);
    expect(byId.errors[0]?.exceptionType).toBe('Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException');
  });
});

describe('historical search limits', () => {
  it('refuses a StartDate more than 90 days back, and accepts exactly 90', async () => {
    const s = SimulatedSession.fromState(smallTenant());
    const error = await failure(s.invoke('Start-HistoricalSearch', audit({ StartDate: daysBefore(91) })));
    expect(error.record.message).toContain('more than 90 days in the past');
    expect(s.state.historicalSearches).toEqual([]);
    await s.invoke('Start-HistoricalSearch', audit({ StartDate: daysBefore(90) }));
    expect(s.state.historicalSearches).toHaveLength(1);
  });

  it('refuses an EndDate before the StartDate', async () => {
    const s = SimulatedSession.fromState(smallTenant());
    const error = await failure(s.invoke('Start-HistoricalSearch', audit({ StartDate: daysBefore(2), EndDate: daysBefore(3) })));
    expect(error.record.message).toMatch(/EndDate .* is earlier than the StartDate/);
  });

  it('allows 250 searches in 24 hours, cancelled ones included, and names the limit on the 251st', async () => {
    const s = SimulatedSession.fromState(smallTenant());
    for (let i = 0; i < 250; i++) {
      const id = (await s.invoke('Start-HistoricalSearch', audit({ ReportTitle: `audit ${i}` }))).objects[0]!.JobId as string;
      if (i % 2 === 0) await s.invoke('Stop-HistoricalSearch', { JobId: id });
    }
    const error = await failure(s.invoke('Start-HistoricalSearch', audit()));
    expect(error.record.message).toContain('limit of 250 historical searches per tenant in 24 hours (cancelled searches count)');
    expect(s.state.historicalSearches).toHaveLength(250);
    // A day later the quota is free again.
    s.state.clock = new Date(Date.parse(CLOCK) + DAY + 1000).toISOString();
    await s.invoke('Start-HistoricalSearch', audit());
    expect(s.state.historicalSearches).toHaveLength(251);
  });

  it('requires the four mandatory parameters and a known report type', async () => {
    const s = SimulatedSession.fromState(smallTenant());
    const missing = await failure(s.invoke('Start-HistoricalSearch', { ReportTitle: 'x', ReportType: 'SmtpCSReport' }));
    expect(missing.record.message).toBe('Cannot process command because of one or more missing mandatory parameters: StartDate EndDate.');
    const badType = await failure(s.invoke('Start-HistoricalSearch', audit({ ReportType: 'SmtpAuthReport' })));
    expect(badType.record.message).toContain('Cannot convert value "SmtpAuthReport"');
    const badDate = await failure(s.invoke('Start-HistoricalSearch', audit({ StartDate: 'last tuesday' })));
    expect(badDate.record.message).toContain('System.DateTime');
  });
});
