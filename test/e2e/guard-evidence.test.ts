/**
 * The lockout guard fails closed (issue 10, point 1): a plan that takes SMTP AUTH away needs usage
 * evidence the run actually read. Without the admin-center CSV the usage step falls back to a
 * historical search whose report is mailed: that is no evidence, so apply refuses (exit 4) unless
 * "no usage evidence" is accepted explicitly, and even then SMTP AUTH goes off only after the search
 * the run submitted has finished. Built CLI on a simulated tenant (run `npm run build` first).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, driftedTenant, switches, withUsageStep, workspace, type Workspace } from './smtp-auth-support.js';

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
