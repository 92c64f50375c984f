/**
 * Every usage source through the built CLI on a simulated tenant: the CSVs `sim export-usage` writes,
 * Graph's sign-in logs and app usage served by the simulator. The plan shows one dossier per sender
 * with advice; apply refuses while a sender only the sign-in logs saw would lose SMTP AUTH; Basic
 * senders kept on get the dated warning; `--format csv` neutralises formula cells; verify's drift
 * check names a sender not seen at the previous run.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { TenantState } from '../../src/exchange/simulator/state.js';
import { mailbox, tenant } from '../support/tenant.js';
import { cli, workspace, type Workspace } from './smtp-auth-support.js';

let ws: Workspace | undefined;
afterEach(() => ws?.cleanup());

const CLOCK = '2026-11-23T10:00:00.000Z';

/** scanner (allowlisted, Basic, TLS 1.0), alice (OAuth), and dave whom only the sign-in logs saw. */
function sourcesTenant(): TenantState {
  return tenant([mailbox('scanner', false), mailbox('alice', null), mailbox('dave', null), mailbox('erin', null)], {
    clock: CLOCK,
    smtpAuthActivity: [
      { sender: 'scanner@contoso.com', protocol: 'Basic', messages: 40, lastSeen: '2026-11-22T08:00:00.000Z', firstSeen: '2026-11-02T08:00:00.000Z', clientIp: '10.0.0.5', tlsVersion: 'TLS 1.0' },
      { sender: 'alice@contoso.com', protocol: 'OAuth', messages: 3, lastSeen: '2026-11-21T08:00:00.000Z' },
    ],
    graph: {
      signIns: [
        { id: '1', createdDateTime: '2026-11-22T09:00:00.000Z', userPrincipalName: 'dave@contoso.onmicrosoft.com', clientAppUsed: 'Authenticated SMTP', ipAddress: '10.0.0.77', status: { errorCode: 0, failureReason: null } },
        { id: '2', createdDateTime: '2026-11-21T09:00:00.000Z', userPrincipalName: 'scanner@contoso.onmicrosoft.com', clientAppUsed: 'Authenticated SMTP', ipAddress: '10.0.0.5', status: { errorCode: 0, failureReason: null } },
      ],
    },
  });
}

function playbook(w: Workspace, usage: string): string {
  const file = w.file('sources.yaml');
  writeFileSync(
    file,
    [
      'apiVersion: exo-playbook/v1',
      'name: usage-sources',
      'tenant:',
      '  organization: contoso.onmicrosoft.com',
      '  auth: { method: azure-cli }',
      'steps:',
      '  - id: usage',
      '    uses: smtp-auth/usage',
      `    with: ${usage}`,
      '  - id: org',
      '    uses: transport-config',
      '    with: { smtpClientAuthenticationDisabled: true }',
      '  - id: allow',
      '    uses: smtp-auth/allowlist',
      '    with: { mailboxes: [scanner@contoso.com], exclusive: true }',
      '',
    ].join('\n'),
  );
  return file;
}

async function exportUsage(w: Workspace): Promise<void> {
  for (const [kind, out] of [['clients-report', 'clients.csv'], ['request-report', 'SmtpCSReport.csv']]) {
    const r = await cli(['sim', 'export-usage', w.state, '--kind', kind!, '--out', w.file(out!)]);
    expect(r.code, r.stderr).toBe(0);
  }
}

const ALL = '{ report: clients.csv, requestReport: SmtpCSReport.csv, signInLogs: true, emailAppUsage: true, history: history.json }';

describe('usage sources merged (built CLI, simulated tenant)', () => {
  it('sim export-usage writes the clients report in UTF-8 and the request report in UTF-16', async () => {
    ws = workspace({ tenant: sourcesTenant() });
    await exportUsage(ws);
    // The clients report has no date column: the command states its period, and the file's time is the
    // tenant's clock (when it was "exported"), as a real download's modification time would be.
    const again = await cli(['sim', 'export-usage', ws.state, '--out', ws.file('clients.csv'), '--force', '--days', '7']);
    expect(again.stdout).toContain('(clients-report, 2026-11-16T10:00:00.000Z..2026-11-23T10:00:00.000Z,');
    expect(again.stdout).toContain('state its period beside report: with exportedAt: 2026-11-23T10:00:00.000Z and periodDays: 7');
    expect(statSync(ws.file('clients.csv')).mtime.toISOString()).toBe(CLOCK);
    const clients = readFileSync(ws.file('clients.csv'));
    expect(clients.toString('utf8').split('\r\n')[0]).toBe('\uFEFFSender address,Domain,TLS 1.0 %,TLS 1.1 %,TLS 1.2 %,Messages sent,Authentication protocol');
    expect([...clients.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(clients.toString('utf8')).toContain('scanner@contoso.com,contoso.com,100,0,0,40,Basic Authentication');
    const request = readFileSync(ws.file('SmtpCSReport.csv'));
    expect([...request.subarray(0, 2)]).toEqual([0xff, 0xfe]);
    const lines = request.subarray(2).toString('utf16le').trim().split('\r\n');
    expect(lines[0]).toBe('date,senderName,senderDomain,authMethod,original_client_ip,tls_version,tls_cipher,message_count,message_id');
    expect(lines).toHaveLength(1 + 40 + 3);
  });

  it('plan shows one dossier per sender with advice; apply refuses while the sign-in-logs-only sender would break', async () => {
    ws = workspace({ tenant: sourcesTenant() });
    await exportUsage(ws);
    const file = playbook(ws, ALL);
    // --wide: every column of the sender table (without a terminal it fits 80 columns).
    const plan = await cli(['plan', file, '--target', `sim:${ws.state}`, '--wide']);
    expect(plan.code, plan.stderr).toBe(2);
    // dave signed in with his UPN: the dossier names him so, and names his mailbox.
    // No source counted his messages: "unknown", never 0 or a blank. App usage's date is its own column.
    expect(plan.stdout).toMatch(/dave@contoso\.onmicrosoft\.com +dave@contoso\.com +Basic +unknown +2026-11-22 +2026-11-22 +2026-11-22 +10\.0\.0\.77 +sign-in logs, app usage +on -> off +no/);
    expect(plan.stdout).toMatch(/Sender +Mailbox +Protocol +Messages +First seen +Last seen +Last activity in any email app +Client IPs/);
    // scanner was seen as its primary address and its UPN: one dossier, every source.
    expect(plan.stdout).toMatch(/scanner@contoso\.com +yes +Basic +40 +2026-11-02 +2026-11-22 +2026-11-22 +10\.0\.0\.5 +1\.0 +clients report, request report, sign-in logs, app usage +on -> on +yes/);
    expect(plan.stdout.match(/^ {4}\S+@/gm)).toHaveLength(3);
    expect(plan.stdout).toContain('warning scanner@contoso.com: breaks when Microsoft switches Basic SMTP AUTH off by default (end of December 2026), even though allowlisted');
    expect(plan.stdout).toContain('TLS 1.0/1.1: works only through smtp-legacy.office365.com');
    expect(plan.stdout).toContain('BLOCKING dave@contoso.onmicrosoft.com: loses SMTP AUTH (Basic, last seen 2026-11-22)');
    expect(plan.stdout).toMatch(/BLOCKING dave@contoso\.onmicrosoft\.com: .* \(message count unknown\)\n/);
    expect(plan.stdout).not.toContain('(0 messages)');
    // The dated warning is for Basic senders that keep SMTP AUTH; dave loses it now (the guard's business).
    expect(plan.stdout).not.toContain('warning dave@contoso.onmicrosoft.com');
    const shown = await cli(['sim', 'show', ws.state]);
    expect(shown.stdout).toContain('Graph: 2 SMTP sign-ins of 2 users (0 failed).');

    const refused = await cli(['apply', file, '--target', `sim:${ws.state}`, '--runs-dir', ws.file('runs'), '--yes', '--accept-breakage', 'alice@contoso.com']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(4);
    expect(refused.stdout + refused.stderr).toContain('dave@contoso.onmicrosoft.com');
    // The plan apply shows before it asks (or refuses) carries the dated warning too.
    expect(refused.stdout + refused.stderr).toContain('warning scanner@contoso.com: breaks when Microsoft switches Basic SMTP AUTH off by default (end of December 2026), even though allowlisted');
    expect(ws.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(false);
  });

  it('--format csv exports the dossiers, formula-like cells neutralised', async () => {
    const t = sourcesTenant();
    t.mailboxes.push(mailbox('=cmd', null));
    t.graph!.signIns.push({ id: '3', createdDateTime: '2026-11-22T07:00:00.000Z', userPrincipalName: '=cmd@contoso.com', clientAppUsed: 'Authenticated SMTP', ipAddress: '=1+1', status: { errorCode: 0, failureReason: null } });
    ws = workspace({ tenant: t });
    const file = playbook(ws, '{ signInLogs: { days: 30 } }');
    const csv = await cli(['plan', file, '--target', `sim:${ws.state}`, '--format', 'csv']);
    expect(csv.code, csv.stderr).toBe(2);
    const lines = csv.stdout.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).toBe('Sender,Mailbox,Addresses seen,Protocols,Messages,First seen,Last seen,Last activity in any email app,Client IPs,TLS versions,Seen by,SMTP AUTH now,SMTP AUTH after plan,Allowlisted,Breaks end of December 2026,Failed sign-ins,Advice');
    const evil = lines.find((l) => l.includes('cmd@contoso.com'))!;
    expect(evil.startsWith("'=cmd@contoso.com,'=cmd@contoso.com,'=cmd@contoso.com,Basic,unknown,")).toBe(true);
    expect(evil).toContain(",'=1+1,");
  });

  it('Graph evidence counts for the guard when complete; concealed names leave it without evidence', async () => {
    ws = workspace({ tenant: sourcesTenant() });
    const withLogs = await cli(['plan', playbook(ws, '{ signInLogs: true }'), '--target', `sim:${ws.state}`, '--format', 'json']);
    const kinds = (doc: string) => (JSON.parse(doc) as { risks: { kind: string }[] }).risks.map((r) => r.kind);
    expect(kinds(withLogs.stdout)).not.toContain('no-usage-evidence');
    const state = ws.readState();
    state.graph!.concealedNames = true;
    writeFileSync(ws.state, JSON.stringify(state));
    const concealed = await cli(['plan', playbook(ws, '{ emailAppUsage: true }'), '--target', `sim:${ws.state}`]);
    expect(concealed.stdout).toMatch(/BLOCKING usage: no usage evidence: .*email app usage .*concealed names/);
  });

  it('the licence error stops the plan with what to do (exit 1)', async () => {
    const t = sourcesTenant();
    t.graph!.entraPremium = false;
    ws = workspace({ tenant: t });
    const plan = await cli(['plan', playbook(ws, '{ signInLogs: true }'), '--target', `sim:${ws.state}`]);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain("Neither tenant is B2C or tenant doesn't have premium license");
    expect(plan.stderr).toContain('needs a Microsoft Entra ID P1 or P2 licence');
    expect(plan.stderr).not.toMatch(/\n\s+at /);
  });

  it('verify records the senders; the next verify names a sender the previous run did not see (exit 2)', async () => {
    ws = workspace({ tenant: sourcesTenant() });
    const file = playbook(ws, '{ signInLogs: true, history: history.json }');
    const first = await cli(['verify', file, '--target', `sim:${ws.state}`]);
    expect(first.stdout).not.toContain('usage-new-sender');
    expect(JSON.parse(readFileSync(ws.file('history.json'), 'utf8')).senders).toEqual(['dave@contoso.onmicrosoft.com', 'scanner@contoso.onmicrosoft.com']);
    const again = await cli(['verify', file, '--target', `sim:${ws.state}`]);
    expect(again.stdout).not.toContain('usage-new-sender');
    const csv = await cli(['verify', file, '--target', `sim:${ws.state}`, '--format', 'csv']);
    expect(csv.stdout.replace(/^\uFEFF/, '').split('\r\n').filter(Boolean).map((l) => l.split(',')[0])).toEqual(['Sender', 'dave@contoso.onmicrosoft.com', 'scanner@contoso.onmicrosoft.com']);

    const state = ws.readState();
    state.graph!.signIns.push({ id: '9', createdDateTime: '2026-11-23T08:00:00.000Z', userPrincipalName: 'erin@contoso.onmicrosoft.com', clientAppUsed: 'Authenticated SMTP', ipAddress: '10.0.0.99', status: { errorCode: 0, failureReason: null } });
    writeFileSync(ws.state, JSON.stringify(state));
    const drift = await cli(['verify', file, '--target', `sim:${ws.state}`]);
    expect(drift.code).toBe(2);
    expect(drift.stdout).toMatch(/FAIL usage-new-sender erin@contoso\.onmicrosoft\.com: submits with SMTP AUTH but was not seen at the previous run of this playbook/);
  });
});
