/**
 * The verify phase, pure: a fresh observation → findings per step → VerifyReport.
 */
import type { Finding } from '../actions/types.js';
import { withControl } from '../report/controls.js';
import type { Playbook } from '../playbook/schema.js';
import { actionFor, type ActionTable } from './observe.js';
import { playbookView } from './playbook-source.js';
import type { PlaybookRef, TenantRef, VerifyReport } from './types.js';

export interface BuildVerifyInput {
  playbook: Playbook;
  playbookRef: PlaybookRef;
  tenant: TenantRef;
  observations: ReadonlyMap<string, unknown>;
  actions: ActionTable;
  checkedAt: Date;
}

export function buildVerifyReport(input: BuildVerifyInput): VerifyReport {
  const view = playbookView(input.playbook);
  const findings = input.playbook.steps.flatMap((step) =>
    actionFor(input.actions, step.uses, step.id).verify({
      stepId: step.id,
      with: step.with,
      observed: input.observations.get(step.id),
      playbook: view,
      observations: input.observations,
    }),
  );
  return verifyReportFrom(findings, input.playbookRef, input.tenant, input.checkedAt);
}

export function verifyReportFrom(findings: Finding[], playbook: PlaybookRef, tenant: TenantRef, checkedAt: Date): VerifyReport {
  const summary = { pass: 0, fail: 0, warn: 0 };
  for (const f of findings) summary[f.status] += 1;
  return { playbook, tenant, checkedAt: checkedAt.toISOString(), findings: findings.map(withControl), summary, compliant: summary.fail === 0 };
}
