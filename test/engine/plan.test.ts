import { describe, expect, it } from 'vitest';
import type { PlanCheck } from '../../src/actions/types.js';
import { createRunContext } from '../../src/engine/context.js';
import { fingerprintOf, stableStringify } from '../../src/engine/fingerprint.js';
import { observeSteps } from '../../src/engine/observe.js';
import { acceptBreakage, blockingRisks, buildPlan } from '../../src/engine/plan.js';
import { buildVerifyReport } from '../../src/engine/verify.js';
import { fakePlaybook, fakeSession, valuesAction } from './fakes.js';

const actions = { 'fake/values': valuesAction };
const ref = { name: 'fake', file: 'fake.yaml', hash: 'h', change: 'CHG1' };
const tenant = { organization: 'contoso.onmicrosoft.com', target: 'sim:/x.json' };

const willBreak: PlanCheck = () => [
  { kind: 'will-break', subject: 'a@contoso.com', message: 'still sends', messages: 3, blocking: true },
  { kind: 'will-break', subject: 'b@contoso.com', message: 'still sends', blocking: true, accepted: true },
];

describe('observe', () => {
  it('shares one read between steps that ask for the same key', async () => {
    const session = fakeSession({ a: null, b: true });
    const playbook = fakePlaybook([{ id: 's1', values: { a: false } }, { id: 's2', values: { b: true } }]);
    const observations = await observeSteps(playbook, actions, createRunContext({ session }));
    expect(session.calls.map((c) => c.cmdlet)).toEqual(['Get-All']);
    expect(observations.get('s2')).toEqual({ a: null, b: true });
  });
});

describe('buildPlan (pure)', () => {
  const observations = new Map<string, unknown>([
    ['s1', { a: null, b: true }],
    ['s2', { a: null, b: true }],
  ]);
  const playbook = fakePlaybook([{ id: 's1', values: { a: false, b: true } }, { id: 's2', values: { b: null } }]);
  const plan = (accept: string[] = []) =>
    buildPlan({ playbook, playbookRef: ref, tenant, observations, actions, checks: [willBreak], acceptBreakage: accept, createdAt: new Date('2026-11-23T10:00:00Z') });

  it('lists changes with before and after, what is already as desired, and counts them', () => {
    const p = plan();
    expect(p.steps[0]!.changes.map((c) => [c.target, c.before, c.after])).toEqual([['a', null, false]]);
    expect(p.steps[0]!.inDesiredState).toEqual(['b is already true']);
    expect(p.steps[1]!.changes.map((c) => [c.target, c.before, c.after])).toEqual([['b', true, null]]);
    expect(p.summary).toEqual({ changes: 2, inDesiredState: 1, blockingRisks: 1 });
    expect(p.playbook.change).toBe('CHG1');
  });

  it('is deterministic: the same observation gives the same fingerprint whatever the key order', () => {
    const reordered = new Map<string, unknown>([
      ['s1', { b: true, a: null }],
      ['s2', { b: true, a: null }],
    ]);
    const again = buildPlan({ playbook, playbookRef: ref, tenant, observations: reordered, actions, checks: [], createdAt: new Date() });
    expect(again.fingerprint).toBe(plan().fingerprint);
    expect(again.stepFingerprints).toEqual(plan().stepFingerprints);
    expect(stableStringify({ b: 1, a: [null, { d: 1, c: 2 }] })).toBe('{"a":[null,{"c":2,"d":1}],"b":1}');
    expect(fingerprintOf({ a: null })).not.toBe(fingerprintOf({ a: false }));
  });

  it('--accept-breakage marks named senders (case-insensitive) or all of them accepted', () => {
    expect(blockingRisks(plan()).map((r) => r.subject)).toEqual(['a@contoso.com']);
    expect(blockingRisks(plan(['A@Contoso.com']))).toEqual([]);
    expect(acceptBreakage(plan(), ['all']).summary.blockingRisks).toBe(0);
    expect(plan(['other@contoso.com']).summary.blockingRisks).toBe(1);
  });
});

describe('buildVerifyReport (pure)', () => {
  it('counts findings and is compliant only without failures', () => {
    const playbook = fakePlaybook([{ id: 's1', values: { a: false, b: true } }]);
    const report = buildVerifyReport({ playbook, playbookRef: ref, tenant, observations: new Map([['s1', { a: null, b: true }]]), actions, checkedAt: new Date('2026-11-23T10:00:00Z') });
    expect(report.summary).toEqual({ pass: 1, fail: 1, warn: 0 });
    expect(report.compliant).toBe(false);
  });
});
