/**
 * `explain --target`: the writes the current plan needs, exactly as apply would send them. The
 * calls come straight from the plan's changes (Change.call), the same objects apply hands the session.
 */
import type { PlanDocument } from '../engine/types.js';
import { formatValue } from '../report/markdown.js';
import { explainLine } from './calls.js';
import type { ExplainLine, StepExplanation } from './general.js';

/** Objects created or removed whole (smtp-auth/oauth-senders): the inverse is printed beside the write. */
const WITH_INVERSE = new Set(['ServicePrincipal', 'ManagementScope', 'ManagementRoleAssignment', 'MailboxPermission']);

export function explainPlan(plan: PlanDocument): StepExplanation[] {
  return plan.steps.map((step) => ({
    stepId: step.stepId,
    uses: step.uses,
    reads: [],
    writes: step.changes.flatMap((change): ExplainLine[] => [
      { call: change.call, comment: `${change.target} ${change.property}: ${formatValue(change.before)} -> ${formatValue(change.after)}` },
      ...(change.undo && WITH_INVERSE.has(change.property) ? [{ cmdlet: change.undo.cmdlet, comment: `undone by rollback with: ${explainLine(change.undo)}` }] : []),
    ]),
  }));
}
