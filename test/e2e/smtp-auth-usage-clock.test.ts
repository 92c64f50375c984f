/**
 * A simulated tenant with its own clock (state.clock) is the clock of the run: the usage step's
 * search window, quota count and job reuse are dated by it, not by the machine's clock, so a job the
 * tenant submitted "yesterday" is yesterday's job even when the machine's calendar says otherwise.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimHistoricalSearch } from '../../src/exchange/simulator/state.js';
import { cli, driftedTenant, ROOT, workspace, type Workspace } from './smtp-auth-support.js';

let ws: Workspace | undefined;
afterEach(() => ws?.cleanup());

const TENANT_CLOCK = '2026-06-01T10:00:00.000Z';

function job(submitted: string): SimHistoricalSearch {
  return {
    JobId: '11111111-2222-4333-8444-555555555555',
    ReportTitle: 'SMTPBasicAuth_Audit',
    ReportType: 'SmtpCSReport',
    Status: 'Done',
    SubmitDate: submitted,
    StartDate: '2026-05-01T12:00:00.000Z',
    EndDate: '2026-05-31T12:00:00.000Z',
    NotifyAddress: ['admin@contoso.com'],
    JobProgress: 100,
    Rows: 3,
    ReportStatusDescription: 'Complete',
    PollsRemaining: 0,
  };
}

function auditWorkspace(searches: SimHistoricalSearch[]): Workspace {
  const w = workspace({ tenant: { ...driftedTenant(), clock: TENANT_CLOCK, historicalSearches: searches } });
  const audit = readFileSync(`${ROOT}/playbooks/smtp-auth-audit.yaml`, 'utf8').replace('${file:allowlist.example.txt}', '${file:allowlist.txt}');
  writeFileSync(w.file('audit.yaml'), audit);
  return w;
}

const usageStep = (stdout: string) => JSON.parse(stdout).steps.find((s: { stepId: string }) => s.stepId === 'usage');

describe('smtp-auth/usage follows the simulated tenant clock (built CLI)', () => {
  it('reuses a job the tenant submitted the day before its clock, whatever the real date is', async () => {
    ws = auditWorkspace([job('2026-05-31T12:00:00.000Z')]);
    const plan = await cli(['plan', ws.file('audit.yaml'), '--target', `sim:${ws.state}`, '--format', 'json']);
    const usage = usageStep(plan.stdout);
    expect(usage.changes, plan.stderr).toEqual([]);
    expect(usage.inDesiredState[0]).toContain('Historical search 11111111-2222-4333-8444-555555555555');
    expect(usage.inDesiredState[0]).toContain('is reused');
  });

  it('dates a new search window by the tenant clock', async () => {
    // Submitted three days before the tenant's clock: too old to reuse (reuseHours 24).
    ws = auditWorkspace([job('2026-05-29T09:00:00.000Z')]);
    const plan = await cli(['plan', ws.file('audit.yaml'), '--target', `sim:${ws.state}`, '--format', 'json']);
    const usage = usageStep(plan.stdout);
    expect(usage.changes, plan.stderr).toHaveLength(1);
    expect(usage.changes[0].call.parameters).toMatchObject({ StartDate: { $dateTimeUtc: '2026-05-02T10:00:00.000Z' }, EndDate: { $dateTimeUtc: '2026-06-01T10:00:00.000Z' } });
  });
});
