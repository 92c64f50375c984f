/**
 * A saved plan is a promise, never a permission (issue 10, point 1): `apply --plan` re-derives the
 * plan and every risk from a fresh observation and writes only when the saved changes equal the fresh
 * ones exactly. A plan.json edited by hand is refused (exit 4) and the tenant stays as it was.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, switches, workspace, type Workspace } from './smtp-auth-support.js';

let ws: Workspace | undefined;
afterEach(() => ws?.cleanup());

const target = (w: Workspace) => ['--target', `sim:${w.state}`];
const runs = (w: Workspace) => ['--runs-dir', w.file('runs')];

interface PlanJson {
  steps: { stepId: string; changes: Record<string, unknown>[]; risks: unknown[] }[];
  risks: { kind: string; subject: string }[];
  summary: { changes: number; blockingRisks: number };
}

async function savePlan(w: Workspace): Promise<PlanJson> {
  const plan = await cli(['plan', w.playbook, ...target(w), '--out', w.file('plan.json')]);
  expect(plan.code, plan.stderr).toBe(2);
  return JSON.parse(readFileSync(w.file('plan.json'), 'utf8')) as PlanJson;
}

function edit(w: Workspace, doc: PlanJson): void {
  writeFileSync(w.file('plan.json'), JSON.stringify(doc, null, 2));
}

async function applySaved(w: Workspace) {
  return cli(['apply', w.playbook, ...target(w), ...runs(w), '--plan', w.file('plan.json')]);
}

describe('apply --plan re-derives the plan (built CLI, simulated tenant)', () => {
  it('a saved plan whose blocking risk was deleted is refused by the fresh guard', async () => {
    ws = workspace();
    const doc = await savePlan(ws);
    expect(doc.risks.some((r) => r.kind === 'will-break' && r.subject === 'alice@contoso.com')).toBe(true);
    doc.risks = doc.risks.filter((r) => r.kind !== 'will-break');
    doc.summary.blockingRisks = 0;
    edit(ws, doc);
    const before = readFileSync(ws.state, 'utf8');
    const apply = await applySaved(ws);
    expect(apply.code, apply.stdout + apply.stderr).toBe(4);
    expect(apply.stdout + apply.stderr).toContain('alice@contoso.com');
    expect(readFileSync(ws.state, 'utf8')).toBe(before);
  });

  it('a saved plan with an added change is refused, naming the change', async () => {
    ws = workspace({ acceptBreakage: ['alice@contoso.com'] });
    const doc = await savePlan(ws);
    const allow = doc.steps.find((s) => s.stepId === 'allow')!;
    const template = allow.changes[0]!;
    allow.changes.push({
      ...template,
      id: 'allow:bob@contoso.com:SmtpClientAuthenticationDisabled',
      target: 'bob@contoso.com',
      before: null,
      after: false,
      call: { cmdlet: 'Set-CASMailbox', parameters: { Identity: 'bob@contoso.com', SmtpClientAuthenticationDisabled: false } },
    });
    doc.summary.changes += 1;
    edit(ws, doc);
    const before = readFileSync(ws.state, 'utf8');
    const apply = await applySaved(ws);
    expect(apply.code, apply.stdout + apply.stderr).toBe(4);
    expect(apply.stderr).toMatch(/saved plan .*differ/i);
    expect(apply.stderr).toContain('allow:bob@contoso.com:SmtpClientAuthenticationDisabled');
    expect(readFileSync(ws.state, 'utf8')).toBe(before);
  });

  it('a call rewritten in a text editor (an unlisted mailbox set to $false) is refused', async () => {
    ws = workspace({ acceptBreakage: ['alice@contoso.com'] });
    const doc = await savePlan(ws);
    const allow = doc.steps.find((s) => s.stepId === 'allow')!;
    const stray = allow.changes.find((c) => c.target === 'stray1@contoso.com')!;
    stray.call = { cmdlet: 'Set-CASMailbox', parameters: { Identity: 'bob@contoso.com', SmtpClientAuthenticationDisabled: false } };
    edit(ws, doc);
    const before = readFileSync(ws.state, 'utf8');
    const apply = await applySaved(ws);
    expect(apply.code, apply.stdout + apply.stderr).toBe(4);
    expect(apply.stderr).toContain('allow:stray1@contoso.com:SmtpClientAuthenticationDisabled');
    expect(apply.stderr).toMatch(/call/);
    expect(switches(JSON.parse(readFileSync(ws.state, 'utf8')))['bob@contoso.com']).toBeNull();
    expect(readFileSync(ws.state, 'utf8')).toBe(before);
  });

  it('an accepted risk edited into the file is no permission: acceptance comes from the playbook or the command', async () => {
    ws = workspace();
    const doc = await savePlan(ws);
    for (const risk of doc.risks as { accepted?: boolean }[]) risk.accepted = true;
    doc.summary.blockingRisks = 0;
    edit(ws, doc);
    const refused = await applySaved(ws);
    expect(refused.code, refused.stdout + refused.stderr).toBe(4);
    const applied = await cli(['apply', ws.playbook, ...target(ws), ...runs(ws), '--plan', ws.file('plan.json'), '--accept-breakage', 'alice@contoso.com']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(ws.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
  });

  it('an untouched saved plan applies', async () => {
    ws = workspace({ acceptBreakage: ['alice@contoso.com'] });
    await savePlan(ws);
    const apply = await applySaved(ws);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(switches(ws.readState())['stray1@contoso.com']).toBeNull();
  });
});
