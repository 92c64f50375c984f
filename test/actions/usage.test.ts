import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { usageAction } from '../../src/actions/smtp-auth/usage/index.js';
import { usageWith } from '../../src/playbook/schema.js';
import type { SimHistoricalSearch } from '../../src/exchange/simulator/state.js';
import { context, mailbox, planInput, tenant } from './builders.js';

const w = (value: Record<string, unknown> = {}) => usageWith.parse(value);

function job(overrides: Partial<SimHistoricalSearch>): SimHistoricalSearch {
  return {
    JobId: 'job',
    ReportTitle: 'SMTPBasicAuth_Audit',
    ReportType: 'SmtpCSReport',
    Status: 'Done',
    SubmitDate: '2026-11-23T06:00:00.000Z',
    StartDate: '2026-11-16T07:00:00.000Z',
    EndDate: '2026-11-23T07:00:00.000Z',
    NotifyAddress: [],
    JobProgress: 100,
    Rows: 4,
    ReportStatusDescription: 'Complete',
    PollsRemaining: 0,
    ...overrides,
  };
}

describe('smtp-auth/usage from a historical search', () => {
  it('plans a submission as the admin guidance runs it, then apply submits and polls until Done', async () => {
    const state = tenant([mailbox('a')], { historicalSearchPolls: 3 });
    const ctx = context(state);
    const withValue = w({ days: 7, notifyAddress: 'admin@contoso.com' });
    const observed = await usageAction.observe(withValue, ctx, 'usage');
    const plan = usageAction.plan(planInput('usage', withValue, observed));
    expect(plan.changes).toHaveLength(1);
    const change = plan.changes[0]!;
    expect(change.undo).toBeNull();
    expect(change.call).toEqual({
      cmdlet: 'Start-HistoricalSearch',
      parameters: {
        ReportTitle: 'SMTPBasicAuth_Audit',
        ReportType: 'SmtpCSReport',
        // Kind Utc DateTime values on the wire, whatever the host's time zone.
        StartDate: { $dateTimeUtc: '2026-11-16T10:00:00.000Z' },
        EndDate: { $dateTimeUtc: '2026-11-23T10:00:00.000Z' },
        NotifyAddress: ['admin@contoso.com'],
      },
    });
    // Observe only listed jobs: nothing was submitted.
    expect(state.historicalSearches).toHaveLength(0);

    const outcome = await usageAction.apply!(change, ctx);
    expect(outcome.result).toMatchObject({ Status: 'Done' });
    expect(state.historicalSearches).toHaveLength(1);
    expect(state.historicalSearches[0]!.Status).toBe('Done');
    const polls = ctx.calls.filter((c) => c.cmdlet === 'Get-HistoricalSearch' && c.parameters.JobId);
    expect(polls.length).toBe(3);
  });

  it('wait: false records the JobId and does not poll', async () => {
    const state = tenant([mailbox('a')]);
    const ctx = context(state);
    const withValue = w({ wait: false });
    const observed = await usageAction.observe(withValue, ctx, 'usage');
    const change = usageAction.plan(planInput('usage', withValue, observed)).changes[0]!;
    const outcome = await usageAction.apply!(change, ctx);
    expect(outcome.result).toMatchObject({ JobId: state.historicalSearches[0]!.JobId, Status: 'NotStarted' });
    expect(ctx.calls.filter((c) => c.cmdlet === 'Get-HistoricalSearch' && c.parameters.JobId)).toHaveLength(0);
  });

  it('reuses a matching job submitted recently instead of spending quota', async () => {
    const state = tenant([mailbox('a')], { historicalSearches: [job({ JobId: 'recent' })] });
    const ctx = context(state);
    const observed = await usageAction.observe(w(), ctx, 'usage');
    const plan = usageAction.plan(planInput('usage', w(), observed));
    expect(plan.changes).toEqual([]);
    expect(plan.inDesiredState[0]).toContain('Historical search recent');
    expect(plan.data).toMatchObject({ job: { jobId: 'recent', status: 'Done' } });
  });

  it('does not reuse a cancelled job, another title, or one older than reuseHours', async () => {
    const state = tenant([mailbox('a')], {
      historicalSearches: [
        job({ JobId: 'cancelled', Status: 'Cancelled' }),
        job({ JobId: 'other', ReportTitle: 'Something else' }),
        job({ JobId: 'old', SubmitDate: '2026-11-21T06:00:00.000Z' }),
      ],
    });
    const observed = await usageAction.observe(w(), context(state), 'usage');
    expect(usageAction.plan(planInput('usage', w(), observed)).changes).toHaveLength(1);
  });

  it('refuses before submitting when 250 searches were submitted in the last 24 hours (blocking quota risk)', async () => {
    const searches = Array.from({ length: 250 }, (_, i) =>
      job({ JobId: `j${i}`, ReportTitle: `other ${i}`, SubmitDate: '2026-11-23T01:00:00.000Z' }),
    );
    const state = tenant([mailbox('a')], { historicalSearches: searches });
    const observed = await usageAction.observe(w(), context(state), 'usage');
    const plan = usageAction.plan(planInput('usage', w(), observed));
    expect(plan.changes).toEqual([]);
    expect(plan.risks).toEqual([expect.objectContaining({ kind: 'quota', blocking: true })]);
    expect(plan.risks[0]!.message).toContain('250 historical searches were submitted in the last 24 hours');
  });
});

describe('smtp-auth/usage from the admin center report', () => {
  it('reads the CSV relative to the playbook and resolves senders against the bulk read', async () => {
    const state = tenant([mailbox('scanner', null), mailbox('alice', false), mailbox('noreply-erp', true)]);
    const ctx = context(state, { baseDir: join(import.meta.dirname, 'fixtures') });
    const withValue = w({ report: 'smtp-auth-clients-report.csv' });
    const observed = await usageAction.observe(withValue, ctx, 'usage');
    const guid = (name: string) => state.mailboxes.find((m) => m.Name === name)!.Guid;
    // Each sender's mailbox with its Guid and every address it is known by (acceptance by any counts).
    const addresses = (local: string) => [`${local}@contoso.com`, `${local}@contoso.onmicrosoft.com`, local];
    expect(observed.senders).toEqual([
      { entry: 'scanner@contoso.com', mailbox: 'scanner@contoso.com', value: null, id: guid('scanner'), addresses: addresses('scanner') },
      { entry: 'noreply-erp@contoso.com', mailbox: 'noreply-erp@contoso.com', value: true, id: guid('noreply-erp'), addresses: addresses('noreply-erp') },
      { entry: 'alice@contoso.com', mailbox: 'alice@contoso.com', value: false, id: guid('alice'), addresses: addresses('alice') },
      { entry: 'ghost-printer@fabrikam.com', mailbox: null, value: null },
    ]);
    const plan = usageAction.plan(planInput('usage', withValue, observed));
    expect(plan.changes).toEqual([]);
    expect(plan.data).toMatchObject({ source: 'report', usage: expect.arrayContaining([expect.objectContaining({ sender: 'scanner@contoso.com', messages: 1204 })]) });
    expect(ctx.calls.filter((c) => c.cmdlet === 'Start-HistoricalSearch')).toHaveLength(0);
  });
});

describe('smtp-auth/usage table', () => {
  it('puts every sender in the plan\'s sender table (sender, mailbox, protocol, messages, first and last seen) and the full rows in data.usage', async () => {
    const { planUsage } = await import('../../src/actions/smtp-auth/usage/index.js');
    const rows = Array.from({ length: 12 }, (_, i) => ({ sender: `s${i}@contoso.com`, protocol: 'Basic' as const, messages: 100 - i, lastSeen: '2026-11-20T00:00:00Z' }));
    rows.push({ sender: 'never@contoso.com', protocol: 'Basic' as const, messages: 1, lastSeen: undefined as unknown as string });
    const plan = planUsage(
      planInput('usage', usageWith.parse({ report: 'r.csv' }), { kind: 'smtp-auth-usage', source: 'report', file: 'r.csv', rows, senders: [], organizationDisabled: false, evidence: [] }),
    );
    expect(plan.notes).toEqual(['r.csv: 13 sender row(s), 1135 message(s) submitted with SMTP AUTH']);
    expect(plan.tables).toHaveLength(1);
    expect(plan.tables![0]!.columns.slice(0, 6)).toEqual(['Sender', 'Mailbox', 'Protocol', 'Messages', 'First seen', 'Last seen']);
    // A date no source gave is "unknown", never a blank.
    expect(plan.tables![0]!.rows[0]!.slice(0, 6)).toEqual(['s0@contoso.com', 'no mailbox', 'Basic', 100, 'unknown', '2026-11-20']);
    expect(plan.tables![0]!.rows.at(-1)!.slice(0, 6)).toEqual(['never@contoso.com', 'no mailbox', 'Basic', 1, 'unknown', 'unknown']);
    expect((plan.data as { usage: unknown[] }).usage).toHaveLength(13);
  });
});

describe('smtp-auth/usage search that ends badly', () => {
  it('a search that ends Cancelled fails the change', async () => {
    const state = tenant([mailbox('a')], { historicalSearchPolls: 5 });
    const ctx = context(state);
    const withValue = w();
    const observed = await usageAction.observe(withValue, ctx, 'usage');
    const change = usageAction.plan(planInput('usage', withValue, observed)).changes[0]!;
    // Someone cancels the job right after it is submitted (Stop-HistoricalSearch works while NotStarted).
    const cancelling = {
      ...ctx,
      sleep: async () => {
        const job = state.historicalSearches[0];
        if (job && job.Status === 'NotStarted') await ctx.sim.invoke('Stop-HistoricalSearch', { JobId: job.JobId });
      },
    };
    await expect(usageAction.apply!(change, cancelling)).rejects.toThrow(/ended Cancelled: no report will be delivered/);
  });
});

describe('smtp-auth/usage evidence settings', () => {
  it('acceptStaleEvidence naming a source the step does not read is a warning: it accepts nothing', async () => {
    const state = tenant([mailbox('scanner', null), mailbox('alice', false), mailbox('noreply-erp', true)]);
    const ctx = context(state, { baseDir: join(import.meta.dirname, 'fixtures') });
    const withValue = w({ report: 'smtp-auth-clients-report.csv', acceptStaleEvidence: [{ source: 'signInLogs', reason: 'checked the sign-in logs by hand' }] });
    const observed = await usageAction.observe(withValue, ctx, 'usage');
    const plan = usageAction.plan(planInput('usage', withValue, observed));
    expect(plan.risks).toContainEqual(expect.objectContaining({ kind: 'warning', subject: 'signInLogs', blocking: false }));
    expect(plan.risks.find((r) => r.subject === 'signInLogs')!.message).toContain('which this step does not read');
    // Each source says its period and where it came from; the note carries the age.
    expect(observed.evidence[0]).toMatchObject({ key: 'report', periodFrom: expect.stringContaining("from the file's modification time") });
    expect(plan.notes[0]).toMatch(/covers \d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2} \(from the file's modification time/);
  });

  it('history: alone is a source: the saved readings of an earlier run, none when the file does not exist yet', async () => {
    const ctx = context(tenant([mailbox('a')]), { baseDir: join(import.meta.dirname, 'fixtures') });
    const observed = await usageAction.observe(w({ history: 'no-such-history.json' }), ctx, 'usage');
    expect(observed.source).toBe('report');
    expect(observed.evidence).toEqual([]);
    expect(ctx.calls.filter((c) => c.cmdlet === 'Get-HistoricalSearch')).toHaveLength(0);
  });
});
