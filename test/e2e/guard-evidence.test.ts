/**
 * The lockout guard fails closed (issue 10, point 1): a plan that takes SMTP AUTH away needs usage
 * evidence the run actually read. Without the admin-center CSV the usage step falls back to a
 * historical search whose report is mailed: that is no evidence, so apply refuses (exit 4) unless
 * "no usage evidence" is accepted explicitly, and even then SMTP AUTH goes off only after the search
 * the run submitted has finished. Issue 21: evidence has an age (maxAgeDays, refused with its age and
 * accepted only by name), the clients report must be the real report, an empty fresh report says "no
 * senders", the disable playbook's guard knows the usage playbook's saved Graph senders, and what no
 * source gave is "unknown" in every format. Built CLI on a simulated tenant (run `npm run build` first).
 */
import { readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLIENTS_REPORT_HEADER, cli, driftedTenant, mailbox, switches, withUsageStep, workspace, type Workspace } from './smtp-auth-support.js';

let ws: Workspace | undefined;
afterEach(() => ws?.cleanup());

const target = (w: Workspace) => ['--target', `sim:${w.state}`];
const runs = (w: Workspace) => ['--runs-dir', w.file('runs')];

/** The shipped disable playbook without `report:`: its usage step submits a historical search instead. */
function searchOnlyWorkspace(usageWith = '{ days: 7, notifyAddress: admin@contoso.com }', extraTopLevel = ''): Workspace {
  const w = workspace({ tenant: { ...driftedTenant(), clock: null } });
  let text = withUsageStep(readFileSync(w.playbook, 'utf8'), usageWith);
  if (extraTopLevel) text = text.replace('acceptBreakage: []', `acceptBreakage: []\n${extraTopLevel}`);
  writeFileSync(w.playbook, text);
  return w;
}

function journalOf(w: Workspace): { type: string; target?: string; cmdlet?: string; outcome?: string }[] {
  const [dir] = readdirSync(w.file('runs'));
  return readFileSync(join(w.file('runs'), dir!, 'journal.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

describe('lockout guard without usage evidence (built CLI, simulated tenant)', () => {
  it('apply --yes refuses (exit 4), names the missing evidence and writes nothing', async () => {
    ws = searchOnlyWorkspace();
    const before = readFileSync(ws.state, 'utf8');
    const apply = await cli(['apply', ws.playbook, ...target(ws), ...runs(ws), '--yes']);
    const output = apply.stdout + apply.stderr;
    expect(apply.code, output).toBe(4);
    expect(output).toMatch(/no usage evidence/i);
    // Which evidence is missing, and why the search does not count.
    expect(output).toContain("step 'usage'");
    expect(output).toMatch(/historical search.*not read by this run/);
    expect(output).toContain('--accept-no-usage-evidence');
    // Nothing written: no search submitted, no switch changed.
    expect(readFileSync(ws.state, 'utf8')).toBe(before);
  });

  it('plan shows the missing evidence as a blocking risk', async () => {
    ws = searchOnlyWorkspace();
    const plan = await cli(['plan', ws.playbook, ...target(ws), '--format', 'json']);
    expect(plan.code, plan.stderr).toBe(2);
    const doc = JSON.parse(plan.stdout);
    expect(doc.summary.blockingRisks).toBeGreaterThan(0);
    expect(doc.risks).toContainEqual(expect.objectContaining({ kind: 'no-usage-evidence', blocking: true }));
    // The usage step says what evidence it has, in the evidence interface other sources plug into.
    const usage = doc.steps.find((s: { stepId: string }) => s.stepId === 'usage');
    expect(usage.data.evidence).toEqual([expect.objectContaining({ source: 'historical-search', complete: false, senders: [] })]);
  });

  it('--accept-no-usage-evidence lets it through, and SMTP AUTH goes off only after the submitted search finished', async () => {
    ws = searchOnlyWorkspace();
    const apply = await cli(['apply', ws.playbook, ...target(ws), ...runs(ws), '--yes', '--accept-no-usage-evidence']);
    expect([0, 2], apply.stdout + apply.stderr).toContain(apply.code);
    const state = ws.readState();
    expect(state.transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
    expect(state.historicalSearches).toEqual([expect.objectContaining({ Status: 'Done' })]);
    const journal = journalOf(ws);
    const searchDone = journal.findIndex((r) => r.type === 'after' && r.outcome === 'applied');
    const orgWrite = journal.findIndex((r) => r.type === 'before' && r.cmdlet === 'Set-TransportConfig');
    expect(journal[searchDone - 1]).toMatchObject({ cmdlet: 'Start-HistoricalSearch' });
    expect(orgWrite).toBeGreaterThan(searchDone);
  });

  it("the playbook's acceptNoUsageEvidence (with a reason) lets it through without the flag", async () => {
    ws = searchOnlyWorkspace(undefined, 'acceptNoUsageEvidence: { reason: "CHG0042: every device moved to the relay in October" }');
    const apply = await cli(['apply', ws.playbook, ...target(ws), ...runs(ws), '--yes']);
    expect([0, 2], apply.stdout + apply.stderr).toContain(apply.code);
    expect(ws.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
  });

  it('a search the run would not wait for (wait: false) is refused even when no evidence is accepted', async () => {
    ws = searchOnlyWorkspace('{ days: 7, wait: false }');
    const before = readFileSync(ws.state, 'utf8');
    const apply = await cli(['apply', ws.playbook, ...target(ws), ...runs(ws), '--yes', '--accept-no-usage-evidence']);
    expect(apply.code, apply.stdout + apply.stderr).toBe(4);
    expect(apply.stdout + apply.stderr).toMatch(/before the historical search .* finished/);
    expect(readFileSync(ws.state, 'utf8')).toBe(before);
  });

  it('with the admin-center CSV the guard has its evidence: only the real senders block', async () => {
    ws = workspace();
    const plan = await cli(['plan', ws.playbook, ...target(ws), '--format', 'json']);
    const doc = JSON.parse(plan.stdout);
    expect(doc.risks.filter((r: { kind: string }) => r.kind === 'no-usage-evidence')).toEqual([]);
    const usage = doc.steps.find((s: { stepId: string }) => s.stepId === 'usage');
    expect(usage.data.evidence).toEqual([expect.objectContaining({ source: 'admin-center-csv', complete: true })]);
    expect(switches(ws.readState())['alice@contoso.com']).toBeNull();
  });
});

/** The shipped disable playbook's usage step with more settings beside `report:` and `history:`. */
function withUsageSettings(w: Workspace, settings: string[]): void {
  const text = readFileSync(w.playbook, 'utf8');
  const at = '      history: smtp-auth-usage.history.json\n';
  if (!text.includes(at)) throw new Error("the shipped disable playbook's usage step changed");
  writeFileSync(w.playbook, text.replace(at, `${at}${settings.map((s) => `      ${s}\n`).join('')}`));
}

describe('how old the evidence is (built CLI, tenant clock 2026-11-23T10:00Z)', () => {
  it('a two-year-old clients report is refused (exit 4) with its age and how to refresh it, then accepted by name', async () => {
    ws = workspace();
    // The admin center's export has no date column: the file's modification time dates it.
    const twoYearsAgo = new Date('2024-11-23T10:00:00Z');
    utimesSync(ws.file('smtp-auth-clients-report.csv'), twoYearsAgo, twoYearsAgo);
    const before = readFileSync(ws.state, 'utf8');
    const refused = await cli(['apply', ws.playbook, ...target(ws), ...runs(ws), '--yes', '--accept-breakage', 'alice@contoso.com']);
    const output = refused.stdout + refused.stderr;
    expect(refused.code, output).toBe(4);
    expect(output).toContain("BLOCKING report: the admin center csv (smtp-auth-clients-report.csv 2024-11-16..2024-11-23) is 730 day(s) old");
    expect(output).toContain("from the file's modification time");
    expect(output).toContain('export Reports > Mail flow > SMTP AUTH clients report again and set exportedAt:');
    expect(output).toContain('acceptStaleEvidence: [{ source: report, reason: "..." }]');
    expect(readFileSync(ws.state, 'utf8')).toBe(before);
    // verify writes nothing: the old source is a warning there, with its age.
    const verify = await cli(['verify', ws.playbook, ...target(ws)]);
    expect(verify.stdout).toMatch(/WARN usage-source smtp-auth-clients-report\.csv: .* 730 day\(s\) old, more than maxAgeDays \(7\)/);

    withUsageSettings(ws, ['acceptStaleEvidence: [{ source: report, reason: "CHG0042: the printers have not changed since that export" }]']);
    const accepted = await cli(['apply', ws.playbook, ...target(ws), ...runs(ws), '--yes', '--accept-breakage', 'alice@contoso.com']);
    expect(accepted.code, accepted.stdout + accepted.stderr).toBe(0);
    expect(accepted.stdout).toContain('accepted report: the admin center csv (smtp-auth-clients-report.csv 2024-11-16..2024-11-23) is 730 day(s) old');
    expect(accepted.stdout).toContain('Accepted by acceptStaleEvidence: CHG0042: the printers have not changed since that export');
    expect(ws.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
  });

  it('exportedAt: beside report: dates the export; maxAgeDays: widens the window per step', async () => {
    ws = workspace();
    withUsageSettings(ws, ['exportedAt: 2026-11-01', 'periodDays: 30']);
    const old = await cli(['plan', ws.playbook, ...target(ws), '--format', 'json']);
    const risks = (JSON.parse(old.stdout) as { risks: { kind: string; message: string }[] }).risks;
    expect(risks.find((r) => r.kind === 'stale-evidence')?.message).toContain('is 22 day(s) old: it covers 2026-10-02..2026-11-01, from the playbook: exportedAt: 2026-11-01, periodDays: 30');
    // With a fresh source beside it (sign-in logs read now), the old report alone still refuses apply.
    withUsageSettings(ws, ['signInLogs: true']);
    const refused = await cli(['apply', ws.playbook, ...target(ws), ...runs(ws), '--yes', '--accept-breakage', 'alice@contoso.com']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(4);
    expect(refused.stderr).toContain('usage evidence too old: a source ended more than maxAgeDays before this run');
    expect(refused.stderr).toContain('is 22 day(s) old');
    withUsageSettings(ws, ['maxAgeDays: 30']);
    const wide = await cli(['plan', ws.playbook, ...target(ws), '--format', 'json']);
    expect((JSON.parse(wide.stdout) as { risks: { kind: string }[] }).risks.map((r) => r.kind)).not.toContain('stale-evidence');
  });

  it('an exportedAt: after the run is refused at its line (exit 1): it would look fresh for ever', async () => {
    ws = workspace();
    withUsageSettings(ws, ['exportedAt: 2027-11-23']);
    const plan = await cli(['plan', ws.playbook, ...target(ws)]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(1);
    expect(plan.stderr).toMatch(/smtp-auth-disable\.yaml:\d+:\d+: exportedAt: 2027-11-23 of step 'usage' is after this run \(2026-11-23T10:00:00\.000Z\)/);
  });

  it('a hand-made Sender,Messages file is refused at its line (exit 1), not taken for the report', async () => {
    ws = workspace();
    writeFileSync(ws.file('smtp-auth-clients-report.csv'), 'Sender,Messages\r\nalice@contoso.com,24\r\n');
    const plan = await cli(['plan', ws.playbook, ...target(ws)]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(1);
    expect(plan.stderr).toMatch(/smtp-auth-clients-report\.csv:1:1: not the admin center's SMTP AUTH clients report: unexpected column "Sender"/);
    expect(plan.stderr).toContain('Sender address, Domain, TLS 1.0 %, TLS 1.1 %, TLS 1.2 %, Messages sent [, Authentication protocol]');
    expect(plan.stderr).not.toMatch(/\n\s+at /);
  });

  it('a fresh report with the real header and no rows is evidence of no senders, said in the plan; apply goes ahead', async () => {
    ws = workspace();
    writeFileSync(ws.file('smtp-auth-clients-report.csv'), `\uFEFF${CLIENTS_REPORT_HEADER}\r\n`);
    withUsageSettings(ws, ['exportedAt: 2026-11-23T08:00:00Z']);
    const plan = await cli(['plan', ws.playbook, ...target(ws)]);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toContain('no SMTP AUTH senders in 2026-11-16..2026-11-23');
    expect(plan.stdout).toMatch(/no-senders report: no SMTP AUTH senders in 2026-11-16\.\.2026-11-23 according to the admin center csv/);
    expect(plan.stdout).not.toContain('BLOCKING');
    const apply = await cli(['apply', ws.playbook, ...target(ws), ...runs(ws), '--yes']);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
  });
});

describe('one guard for every source: the disable playbook reads the usage playbook\'s saved evidence', () => {
  /** dave signs in with Basic SMTP AUTH; only Entra's sign-in logs (Graph) see him. */
  function graphOnlyWorkspace(): Workspace {
    const w = workspace({ tenant: { ...driftedTenant(), clock: '2026-11-23T10:00:00.000Z' } });
    const state = w.readState();
    state.mailboxes.push(mailbox('dave', null));
    state.graph = {
      signIns: [
        { id: '1', createdDateTime: '2026-11-22T09:00:00.000Z', userPrincipalName: 'dave@contoso.onmicrosoft.com', clientAppUsed: 'Authenticated SMTP', ipAddress: '10.0.0.77', status: { errorCode: 0, failureReason: null } },
      ],
    };
    writeFileSync(w.state, JSON.stringify(state));
    writeFileSync(
      w.file('smtp-auth-usage.yaml'),
      ['apiVersion: exo-playbook/v1', 'name: smtp-auth-usage', 'tenant:', '  organization: contoso.onmicrosoft.com', '  auth: { method: azure-cli }', 'steps:', '  - id: usage', '    uses: smtp-auth/usage', '    with: { report: smtp-auth-clients-report.csv, signInLogs: true, history: smtp-auth-usage.history.json }', ''].join('\n'),
    );
    return w;
  }

  it("names the sender only Graph saw, with its count unknown (never 0), and refuses until accepted by name", async () => {
    ws = graphOnlyWorkspace();
    // Before the usage playbook's verify saved its evidence, the plan says what it cannot know.
    const early = await cli(['plan', ws.playbook, ...target(ws)]);
    expect(early.stdout).toContain('warning usage: no saved evidence in smtp-auth-usage.history.json yet: senders only requestReport, signInLogs, emailAppUsage would show are unknown to this plan');
    expect(early.stdout).not.toContain('dave@');
    const audit = await cli(['verify', ws.file('smtp-auth-usage.yaml'), ...target(ws)]);
    expect([0, 2], audit.stdout + audit.stderr).toContain(audit.code);
    const plan = await cli(['plan', ws.playbook, ...target(ws)]);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toContain("Entra sign-in logs (Graph) (");
    expect(plan.stdout).toContain("saved by smtp-auth-usage's verify at 2026-11-23T10:00:00.000Z in smtp-auth-usage.history.json)");
    expect(plan.stdout).toMatch(/BLOCKING dave@contoso\.onmicrosoft\.com: loses SMTP AUTH \(Basic, last seen 2026-11-22\): .* \(message count unknown\)\n/);
    expect(plan.stdout).not.toContain('(0 messages)');
    // dave is named by the saved evidence only: the plan says an earlier run saw him.
    expect(plan.stdout).toContain('warning dave@contoso.onmicrosoft.com: seen by an earlier run (playbook smtp-auth-usage, 2026-11-23T10:00:00.000Z) but named by none of this run\'s usage sources');

    const refused = await cli(['apply', ws.playbook, ...target(ws), ...runs(ws), '--yes', '--accept-breakage', 'alice@contoso.com']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(4);
    expect(refused.stderr).toContain('dave@contoso.onmicrosoft.com: loses SMTP AUTH (Basic, last seen 2026-11-22)');
    expect(refused.stderr).toContain('(message count unknown)');
    const accepted = await cli(['apply', ws.playbook, ...target(ws), ...runs(ws), '--yes', '--accept-breakage', 'alice@contoso.com,dave@contoso.com']);
    expect(accepted.code, accepted.stdout + accepted.stderr).toBe(0);
  });

  it('saved evidence older than maxAgeDays is refused, named `history`', async () => {
    ws = graphOnlyWorkspace();
    expect((await cli(['verify', ws.file('smtp-auth-usage.yaml'), ...target(ws)])).code).not.toBe(1);
    const state = ws.readState();
    state.clock = '2026-12-07T10:00:00.000Z';
    writeFileSync(ws.state, JSON.stringify(state));
    const plan = await cli(['plan', ws.playbook, ...target(ws), '--format', 'json']);
    const stale = (JSON.parse(plan.stdout) as { risks: { kind: string; subject: string; message: string }[] }).risks.filter((r) => r.kind === 'stale-evidence');
    expect(stale.map((r) => r.subject)).toEqual(['history']);
    expect(stale[0]!.message).toContain('is 14 day(s) old');
    expect(stale[0]!.message).toContain('acceptStaleEvidence: [{ source: history, reason: "..." }]');
  });

  it('unknown counts and dates are "unknown" in every format, and null in JSON with the sources said', async () => {
    ws = graphOnlyWorkspace();
    await cli(['verify', ws.file('smtp-auth-usage.yaml'), ...target(ws)]);
    const json = JSON.parse((await cli(['plan', ws.playbook, ...target(ws), '--format', 'json'])).stdout) as {
      risks: { kind: string; subject: string; messages?: number | null; seenBy?: string[] }[];
      steps: { stepId: string; data?: { dossier?: { sender: string; messages: number | null; firstSeen: string | null; unknown: Record<string, string> }[] } }[];
    };
    const risk = json.risks.find((r) => r.kind === 'will-break' && r.subject === 'dave@contoso.onmicrosoft.com')!;
    expect(risk.messages).toBeNull();
    expect(risk.seenBy).toEqual(['entra-sign-in-logs']);
    const dossier = json.steps.find((s) => s.stepId === 'usage')!.data!.dossier!.find((d) => d.sender === 'dave@contoso.onmicrosoft.com')!;
    expect(dossier.messages).toBeNull();
    expect(dossier.unknown.messages).toBe('not given by Entra sign-in logs (Graph)');
    // alice is in the clients report only, which has no dates.
    const alice = json.steps.find((s) => s.stepId === 'usage')!.data!.dossier!.find((d) => d.sender === 'alice@contoso.com')!;
    expect(alice.firstSeen).toBeNull();
    expect(alice.unknown.firstSeen).toBe('not given by admin center SMTP AUTH clients report');

    const markdown = (await cli(['plan', ws.playbook, ...target(ws), '--format', 'markdown'])).stdout;
    expect(markdown).toMatch(/\| dave@contoso\.onmicrosoft\.com \| dave@contoso\.com \| Basic \| unknown \|/);
    expect(markdown).toMatch(/\| dave@contoso\.onmicrosoft\.com \| unknown \|/);
    const html = (await cli(['plan', ws.playbook, ...target(ws), '--format', 'html'])).stdout;
    // The dossier row, read as text (cells carry layout classes): dave's count is unknown, not 0.
    const daveRow = html.split('<tr').find((row) => row.includes('>dave@contoso.onmicrosoft.com<') && row.includes('>dave@contoso.com<'));
    expect(daveRow?.replace(/<[^>]+>/g, '|').split('|').filter((c) => c.trim())).toEqual(expect.arrayContaining(['dave@contoso.onmicrosoft.com', 'dave@contoso.com', 'Basic', 'unknown']));
    expect(html).toContain('sender(s) with an unknown message count not drawn');
    const csv = (await cli(['plan', ws.playbook, ...target(ws), '--format', 'csv'])).stdout;
    expect(csv).toMatch(/^alice@contoso\.com,alice@contoso\.com,[^,]*,Basic,24,unknown,unknown,/m);
    expect(csv).toMatch(/^dave@contoso\.onmicrosoft\.com,dave@contoso\.com,[^,]*,Basic,unknown,2026-11-22/m);
    const text = (await cli(['plan', ws.playbook, ...target(ws), '--wide'])).stdout;
    expect(text).toMatch(/alice@contoso\.com +yes +Basic +24 +unknown +unknown/);
  });
});
