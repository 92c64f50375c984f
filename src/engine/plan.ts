/**
 * The plan phase, pure: observed state + desired state → PlanDocument. Risks from whole-plan checks
 * (the lockout guard) are added here, and --accept-breakage is applied on top of what the playbook
 * already accepted.
 */
import type { PlanCheck, Risk, StepPlan } from '../actions/types.js';
import type { Playbook } from '../playbook/schema.js';
import { fingerprintObservations } from './fingerprint.js';
import { actionFor, type ActionTable } from './observe.js';
import { playbookView, type PlaybookPositions } from './playbook-source.js';
import type { PlanDocument, PlaybookRef, TenantRef } from './types.js';

export interface BuildPlanInput {
  playbook: Playbook;
  playbookRef: PlaybookRef;
  tenant: TenantRef;
  observations: ReadonlyMap<string, unknown>;
  actions: ActionTable;
  checks: readonly PlanCheck[];
  /** Senders accepted from the command line; "all" accepts every will-break risk. */
  acceptBreakage?: readonly string[];
  /** --accept-no-usage-evidence */
  acceptNoUsageEvidence?: boolean;
  createdAt: Date;
  /** Where playbook values came from (the loaded playbook), so actions can locate their errors. */
  positions?: PlaybookPositions;
}

export function buildPlan(input: BuildPlanInput): PlanDocument {
  const view = playbookView(input.playbook, input.positions);
  const inputOf = (step: Playbook['steps'][number]) => ({
    stepId: step.id,
    with: step.with,
    observed: input.observations.get(step.id),
    playbook: view,
    observations: input.observations,
  });
  const planned: StepPlan[] = input.playbook.steps.map((step) => actionFor(input.actions, step.uses, step.id).plan(inputOf(step)));
  // A step whose plan depends on the whole plan (the usage dossier: SMTP AUTH after) completes it now.
  const steps = input.playbook.steps.map((step, i) => {
    const action = actionFor(input.actions, step.uses, step.id);
    return action.completePlan ? action.completePlan(inputOf(step), planned[i]!, planned) : planned[i]!;
  });
  const risks = input.checks.flatMap((check) => check(steps, { playbook: view, observations: input.observations }));
  const { fingerprint, steps: stepFingerprints } = fingerprintObservations(input.observations);
  const plan: PlanDocument = {
    formatVersion: 1,
    kind: 'plan',
    playbook: input.playbookRef,
    tenant: input.tenant,
    createdAt: input.createdAt.toISOString(),
    fingerprint,
    stepFingerprints,
    steps,
    risks,
    summary: { changes: 0, inDesiredState: 0, blockingRisks: 0 },
  };
  return acceptBreakage(plan, input.acceptBreakage ?? [], { noUsageEvidence: input.acceptNoUsageEvidence ?? false });
}

/**
 * Marks risks accepted by the command line (a will-break sender by any address of its mailbox; a
 * missing usage evidence by --accept-no-usage-evidence), and recomputes the summary. Returns a new plan.
 */
export function acceptBreakage(plan: PlanDocument, accepted: readonly string[], options: { noUsageEvidence?: boolean } = {}): PlanDocument {
  const all = accepted.some((a) => a.toLowerCase() === 'all');
  const set = new Set(accepted.map((a) => a.toLowerCase()));
  const covers = (risk: Risk) => all || [risk.subject, ...(risk.addresses ?? [])].some((a) => set.has(a.toLowerCase()));
  const mark = (risk: Risk): Risk =>
    (risk.kind === 'will-break' && covers(risk)) || (risk.kind === 'no-usage-evidence' && options.noUsageEvidence) ? { ...risk, accepted: true } : risk;
  const steps = plan.steps.map((s) => ({ ...s, risks: s.risks.map(mark) }));
  const risks = plan.risks.map(mark);
  const next = { ...plan, steps, risks };
  return { ...next, summary: summarize(next) };
}

export function blockingRisks(plan: PlanDocument): Risk[] {
  return [...plan.risks, ...plan.steps.flatMap((s) => s.risks)].filter((r) => r.blocking && !r.accepted);
}

export function summarize(plan: Pick<PlanDocument, 'steps' | 'risks'>): PlanDocument['summary'] {
  return {
    changes: plan.steps.reduce((n, s) => n + s.changes.length, 0),
    inDesiredState: plan.steps.reduce((n, s) => n + s.inDesiredState.length, 0),
    blockingRisks: blockingRisks({ steps: plan.steps, risks: plan.risks } as PlanDocument).length,
  };
}
