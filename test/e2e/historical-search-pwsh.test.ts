/**
 * The historical search through the built CLI, on a host west of UTC (TZ=America/New_York): through
 * real pwsh and the stub module, StartDate/EndDate reach Start-HistoricalSearch as the planned UTC
 * instants of Kind Utc, so the service (which reads them as UTC) searches the planned window; a Done
 * search shows its FileUrl and how to feed the file back; a refusal by the service is the step's
 * failure at its place in the playbook, with the service's text (simulator and pwsh alike).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findPwsh } from '../../src/exchange/find-pwsh.js';
import type { TenantState } from '../../src/exchange/simulator/state.js';
import { cli, driftedTenant, ROOT, workspace, type Workspace } from './smtp-auth-support.js';

const pwsh = findPwsh();
const TZ = 'America/New_York';
const TOKEN = `eyJ0eXAiOiJKV1QifQ.historical-search-${process.pid}.c2ln`;
const cleanups: Workspace[] = [];
afterEach(() => cleanups.splice(0).forEach((w) => w.cleanup()));

/** A one-step usage playbook (historical search, polled from the first read) signing in with a token. */
function searchWorkspace(tenant: Partial<TenantState> = {}): { w: Workspace; playbook: string } {
  const w = workspace({ tenant: { ...driftedTenant(), clock: null, historicalSearchPolls: 1, ...tenant } });
  cleanups.push(w);
  const playbook = w.file('search.yaml');
  writeFileSync(
    playbook,
    [
      'apiVersion: exo-playbook/v1',
      'name: search',
      'tenant:',
      '  organization: contoso.onmicrosoft.com',
      '  auth: { method: access-token, token: "${env:EXO_TOKEN}" }',
      'steps:',
      '  - id: usage',
      '    uses: smtp-auth/usage',
      '    with:',
      '      days: 7',
      '      reportType: SmtpCSReport',
      '      notifyAddress: admin@contoso.com',
      '      pollSeconds: 1',
      '',
    ].join('\n'),
  );
  return { w, playbook };
}

function pwshEnv(w: Workspace): Record<string, string> {
  return {
    TZ,
    EXO_TOKEN: TOKEN,
    EXO_PLAYBOOK_LOCK_DIR: w.file('locks'),
    EXO_PLAYBOOK_PWSH: pwsh!.path,
    EXO_PLAYBOOK_MODULE_PATH: join(ROOT, 'test', 'fixtures', 'modules'),
    EXO_PLAYBOOK_STUB_STATE: w.state,
    EXO_PLAYBOOK_STUB_CALLS: w.file('calls.jsonl'),
  };
}

function recordedStart(w: Workspace): { StartDate: unknown; EndDate: unknown } {
  const calls = readFileSync(w.file('calls.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { cmdlet: string; parameters: { StartDate: unknown; EndDate: unknown } });
  return calls.find((c) => c.cmdlet === 'Start-HistoricalSearch')!.parameters;
}

describe.skipIf(!pwsh)('historical search through pwsh + stub on a host in New York', () => {
  it('sends the planned window as Kind Utc DateTimes, the search covers it, and the finished search shows its FileUrl', { timeout: 120_000 }, async () => {
    const { w, playbook } = searchWorkspace();
    const env = pwshEnv(w);
    const plan = await cli(['plan', playbook, '--target', 'exchange', '--format', 'json'], env);
    expect(plan.code, plan.stderr).toBe(2);
    const change = JSON.parse(plan.stdout).steps[0].changes[0];
    const start: string = change.call.parameters.StartDate.$dateTimeUtc;
    const end: string = change.call.parameters.EndDate.$dateTimeUtc;
    expect(Date.parse(end) - Date.parse(start)).toBe(7 * 86_400_000);

    const apply = await cli(['apply', playbook, '--target', 'exchange', '--runs-dir', w.file('runs'), '--yes'], env);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    // What the cmdlet received: the UTC instants, Kind Utc (a bare string would have bound as Kind Local).
    expect(recordedStart(w)).toMatchObject({ StartDate: { dateTime: start, kind: 'Utc' }, EndDate: { dateTime: end, kind: 'Utc' } });
    // What the service searched: the planned window, not one shifted by New York's offset.
    const [job] = w.readState().historicalSearches;
    expect(job).toMatchObject({ StartDate: start, EndDate: end, Status: 'Done' });
    // The finished search says where its report is and how to read it back.
    const fileUrl = `https://admin.protection.outlook.com/ExtendedReport/Download?Type=OnDemandReport&RequestID=${job!.JobId}`;
    expect(job!.FileUrl).toBe(fileUrl);
    expect(apply.stdout).toContain(`Historical search ${job!.JobId} is Done`);
    expect(apply.stdout).toContain(`download it from ${fileUrl}`);
    expect(apply.stdout).toContain("then name the file in this step's `requestReport:`");
  });

  it('a search the service refuses is the step failure at its reportType, with the service text', { timeout: 120_000 }, async () => {
    const { w, playbook } = searchWorkspace({ historicalSearchService: { addressRequiredFor: ['SmtpCSReport'] } });
    const apply = await cli(['apply', playbook, '--target', 'exchange', '--runs-dir', w.file('runs'), '--yes'], pwshEnv(w));
    expect(apply.code).toBe(3);
    const out = apply.stdout + apply.stderr;
    expect(out).toMatch(/search\.yaml:11:19: step usage: the service refused Start-HistoricalSearch -ReportType SmtpCSReport: /);
    expect(out).toContain('You need to use at least one of the following parameters: MessageID, RecipientAddress, or SenderAddress (ReportType SmtpCSReport).');
    expect(out).toContain("SmtpCSReport is not in Microsoft's documented ReportType list");
    expect(out).toContain('Request report, then name the downloaded file in `requestReport:`');
    expect(w.readState().historicalSearches).toEqual([]);
  });
});

describe('historical search on the simulator, host in New York', () => {
  it('searches the planned UTC window and shows the FileUrl', async () => {
    const { w, playbook } = searchWorkspace();
    const env = { TZ, EXO_PLAYBOOK_LOCK_DIR: w.file('locks') };
    const plan = await cli(['plan', playbook, '--target', `sim:${w.state}`, '--format', 'json'], env);
    const step = JSON.parse(plan.stdout).steps[0];
    const start: string = step.changes[0].call.parameters.StartDate.$dateTimeUtc;
    // Undocumented, said before anything is submitted.
    expect(step.notes).toContain(
      "ReportType SmtpCSReport is not among the report types Microsoft documents for Start-HistoricalSearch: the service may refuse it; apply then fails this step with the service's text",
    );
    const apply = await cli(['apply', playbook, '--target', `sim:${w.state}`, '--runs-dir', w.file('runs'), '--yes'], env);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    const [job] = w.readState().historicalSearches;
    expect(job).toMatchObject({ StartDate: start, Status: 'Done' });
    expect(apply.stdout).toContain(`download it from ${job!.FileUrl}`);
  });
});

describe('historical search refusals on the simulator', () => {
  it('an undocumented report type the service rejects fails at its line with the binder text', async () => {
    const { w, playbook } = searchWorkspace({ historicalSearchService: { rejectReportTypes: ['SmtpCSReport'] } });
    const apply = await cli(['apply', playbook, '--target', `sim:${w.state}`, '--runs-dir', w.file('runs'), '--yes'], { TZ, EXO_PLAYBOOK_LOCK_DIR: w.file('locks') });
    expect(apply.code).toBe(3);
    const out = apply.stdout + apply.stderr;
    expect(out).toMatch(/search\.yaml:11:19: step usage: the service refused Start-HistoricalSearch -ReportType SmtpCSReport: .*Cannot convert value "SmtpCSReport" to type "Microsoft\.Exchange\.Management\.ReportingTask\.HistoricalSearchReportType"/);
    expect(w.readState().historicalSearches).toEqual([]);
  });
});

describe('the downloaded request report fed back (built CLI, simulated tenant)', () => {
  it('a report with one row that does not parse: the other senders are read, that row is reported at its line', async () => {
    const w = workspace({ tenant: { ...driftedTenant(), clock: '2026-11-23T10:00:00.000Z' } });
    cleanups.push(w);
    writeFileSync(
      w.file('SmtpCSReport.csv'),
      [
        'date,senderName,senderDomain,authMethod,original_client_ip,tls_version,tls_cipher,message_count,message_id',
        '2026-11-20T07:30:00Z,scanner,contoso.com,Basic,10.0.0.5,TLS1_2,x,3,<a@c>',
        'not-a-date,printer,contoso.com,Basic,10.0.0.7,TLS1_0,x,1,<b@c>',
        '',
      ].join('\r\n'),
    );
    const playbook = w.file('fed-back.yaml');
    writeFileSync(
      playbook,
      ['apiVersion: exo-playbook/v1', 'name: fed-back', 'tenant:', '  organization: contoso.onmicrosoft.com', '  auth: { method: azure-cli }', 'steps:', '  - id: usage', '    uses: smtp-auth/usage', '    with: { requestReport: SmtpCSReport.csv }', ''].join('\n'),
    );
    const plan = await cli(['plan', playbook, '--target', `sim:${w.state}`], { EXO_PLAYBOOK_LOCK_DIR: w.file('locks') });
    expect(plan.code, plan.stderr).not.toBe(1);
    expect(plan.stdout).toMatch(/scanner@contoso\.com/);
    expect(plan.stdout).toMatch(/warning usage: 1 row\(s\) of the request report could not be read and were skipped \(1 read\): \S*SmtpCSReport\.csv:3:1: 'not-a-date' is not a date \(sender printer@contoso\.com\)/);
  });
});
