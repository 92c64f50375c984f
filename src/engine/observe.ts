/**
 * The observe phase: every step's action reads what it needs, in playbook order, through one
 * RunContext (so shared reads happen once). Nothing here writes.
 */
import type { ActionDefinition, RunContext } from '../actions/types.js';
import { InputError } from '../errors.js';
import type { Playbook } from '../playbook/schema.js';
import type { Emitter } from './events.js';

// Actions are heterogeneous in their `with` and observed types; the engine only passes values through.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyAction = ActionDefinition<any, any>;
export type ActionTable = Readonly<Record<string, AnyAction>>;

export function actionFor(actions: ActionTable, uses: string, stepId: string): ActionDefinition<unknown, unknown> {
  const action = actions[uses] as ActionDefinition<unknown, unknown> | undefined;
  if (!action) throw new InputError(`step "${stepId}" uses "${uses}", which no action provides`, undefined, `use one of: ${Object.keys(actions).join(', ')}`);
  return action;
}

export async function observeSteps(
  playbook: Playbook,
  actions: ActionTable,
  ctx: RunContext,
  emitter?: Emitter,
): Promise<Map<string, unknown>> {
  const observations = new Map<string, unknown>();
  for (const step of playbook.steps) {
    const action = actionFor(actions, step.uses, step.id);
    emitter?.emit('observe', `observing step ${step.id} (${step.uses})`, { stepId: step.id });
    ctx.report(`observing ${step.id}`);
    observations.set(step.id, await action.observe(step.with, ctx, step.id));
  }
  return observations;
}
