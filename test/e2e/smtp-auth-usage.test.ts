/**
 * The historical-search flow through the built CLI: submitted at apply, polled to Done over
 * simulated time, reused by the next run, refused before submitting when the daily quota is spent.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimHistoricalSearch } from '../../src/exchange/simulator/state.js';
import { cli, driftedTenant, ROOT, workspace, type Workspace } from './smtp-auth-support.js';

let ws: Workspace | undefined;
afterEach(() => ws?.cleanup());

function auditWorkspace(searches: SimHistoricalSearch[] = []): Workspace {
  // The real clock: the run's own clock (plan's search window, quota count) and the tenant's agree.
  const w = workspace({ tenant: { ...driftedTenant(), clock: null, historicalSearches: searches } });
  const audit = readFileSync(`${ROOT}/playbooks/smtp-auth-audit.yaml`, 'utf8').replace('${file:allowlist.example.txt}', '${file:allowlist.txt}');
  writeFileSync(w.file('audit.yaml'), audit);
  return w;
}
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3600_000).toISOString();
const target = (w: Workspace) => ['--target', `sim:${w.state}`];
/** apply also writes a run directory: keep it in the workspace. */
const runs = (w: Workspace) => ['--runs-dir', w.file('runs')];

describe('smtp-auth/usage historical search (built CLI, simulated tenant)', () => {
  it('plan proposes the search, apply submits it and polls it to Done, the next plan reuses it', async () => {
    ws = auditWorkspace();
    const plan = await cli(['plan', ws.file('audit.yaml'), ...target(ws), '--format', 'json']);
    expect(plan.code, plan.stderr).toBe(2);
    const doc = JSON.parse(plan.stdout);
    const usage = doc.steps.find((s: { stepId: string }) => s.stepId === 'usage');
    expect(usage.changes[0].call.cmdlet).toBe('Start-HistoricalSearch');
    expect(usage.changes[0].call.parameters).toMatchObject({ ReportType: 'SmtpCSReport', ReportTitle: 'SMTPBasicAuth_Audit', NotifyAddress: ['admin@contoso.com'] });
    expect(ws.readState().historicalSearches).toEqual([]);

    const apply = await cli(['apply', ws.file('audit.yaml'), ...target(ws), ...runs(ws), '--yes']);
    // The audit's verify step reports the tenant's drift (organization still on): exit 2 after a full apply.
    expect([0, 2], apply.stdout + apply.stderr).toContain(apply.code);
    const jobs = ws.readState().historicalSearches;
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ ReportType: 'SmtpCSReport', Status: 'Done', JobProgress: 100 });

    const again = await cli(['plan', ws.file('audit.yaml'), ...target(ws), '--format', 'json']);
    const reused = JSON.parse(again.stdout).steps.find((s: { stepId: string }) => s.stepId === 'usage');
    expect(reused.changes).toEqual([]);
    expect(reused.inDesiredState[0]).toContain(`Historical search ${jobs[0]!.JobId}`);
    expect(ws.readState().historicalSearches).toHaveLength(1);
  });

  it('refuses with exit 4 before submitting when 250 searches were made in the last 24 hours', async () => {
    const spent = Array.from({ length: 250 }, (_, i): SimHistoricalSearch => ({
      JobId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      ReportTitle: `Trace ${i}`,
      ReportType: 'MessageTrace',
      Status: 'Done',
      SubmitDate: hoursAgo(8),
      StartDate: hoursAgo(72),
      EndDate: hoursAgo(24),
      NotifyAddress: [],
      JobProgress: 100,
      Rows: 1,
      ReportStatusDescription: 'Complete',
      PollsRemaining: 0,
    }));
    ws = auditWorkspace(spent);
    const apply = await cli(['apply', ws.file('audit.yaml'), ...target(ws), ...runs(ws), '--yes']);
    expect(apply.code, apply.stdout + apply.stderr).toBe(4);
    expect(apply.stdout + apply.stderr).toContain('250');
    expect(ws.readState().historicalSearches).toHaveLength(250);
  });
});

describe('smtp-auth/usage from the admin center CSV (built CLI)', () => {
  it('a file that is not the SMTP AUTH clients report stops the plan with a located error', async () => {
    ws = workspace();
    writeFileSync(ws.file('smtp-auth-clients-report.csv'), 'Date,Subject,Recipient\r\n2026-11-01,Hello,x@contoso.com\r\n');
    const plan = await cli(['plan', ws.playbook, '--target', `sim:${ws.state}`]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(1);
    expect(plan.stderr).toMatch(/smtp-auth-clients-report\.csv:1:1: not the admin center's SMTP AUTH clients report: unexpected column "Date"/);
    expect(plan.stderr).not.toMatch(/internal error/);
  });
});
