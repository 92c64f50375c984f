/**
 * `explain --target`: the writes the current plan needs, exactly as apply would send them. The
 * calls come straight from the plan's changes (Change.call), the same objects apply hands the session.
 */
import type { PlanDocument } from '../engine/types.js';
import { formatValue } from '../report/markdown.js';
import type { StepExplanation } from './general.js';

export function explainPlan(plan: PlanDocument): StepExplanation[] {
  return plan.steps.map((step) => ({
    stepId: step.stepId,
    uses: step.uses,
    reads: [],
    writes: step.changes.map((change) => ({
      call: change.call,
      comment: `${change.target} ${change.property}: ${formatValue(change.before)} -> ${formatValue(change.after)}`,
    })),
  }));
}
