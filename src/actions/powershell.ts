/**
 * `powershell`: the escape hatch for a cmdlet the actions do not cover. Get-* cmdlets run at observe
 * time and their output lands in the plan; anything else needs `allowWrite: true` and is planned as a
 * Change shown verbatim (before $null, after '(run)', no undo), applied and journaled like every
 * other write. Only the host's allowlist (ALLOWED_CMDLETS) may run; others are refused at plan time.
 */
import type { z } from 'zod';
import { InputError } from '../errors.js';
import { ALLOWED_CMDLETS, isWriteCmdlet, withoutErrors, type CmdletParameters, type PsObject } from '../exchange/session.js';
import { formatCall } from '../explain/ps-literal.js';
import { powershellWith } from '../playbook/schema.js';
import { locateInStep } from './locate.js';
import type { ActionDefinition, Finding, PlanInput, StepPlan } from './types.js';

export type PowershellWith = z.infer<typeof powershellWith>;

export interface PowershellObserved {
  kind: 'powershell';
  /** Output of a Get-* cmdlet (null for writes, and for cmdlets that may not run). */
  objects: PsObject[] | null;
  warnings: string[];
}

/** Cmdlets a playbook may run: the host's allowlist minus the session plumbing. */
export const PLAYBOOK_CMDLETS = ALLOWED_CMDLETS.filter((c) => !/^(Connect|Disconnect)-ExchangeOnline$/.test(c));

function allowedName(cmdlet: string): string | undefined {
  return PLAYBOOK_CMDLETS.find((c) => c.toLowerCase() === cmdlet.toLowerCase());
}

export function planPowershell(input: PlanInput<PowershellWith, PowershellObserved>): StepPlan {
  const { stepId, with: w } = input;
  const cmdlet = allowedName(w.cmdlet);
  if (!cmdlet) {
    throw new InputError(
      `step '${stepId}': ${w.cmdlet} is not a cmdlet exo-playbook may run`,
      locateInStep(input.playbook, stepId, ['with', 'cmdlet']),
      `allowed: ${PLAYBOOK_CMDLETS.join(', ')}`,
    );
  }
  const plan: StepPlan = { stepId, uses: 'powershell', changes: [], inDesiredState: [], notes: [], risks: [] };
  const parameters = w.parameters as CmdletParameters;
  if (!isWriteCmdlet(cmdlet)) {
    const objects = input.observed.objects ?? [];
    plan.notes.push(`${cmdlet} returned ${objects.length} object(s)`, ...input.observed.warnings.map((m) => `warning: ${m}`));
    plan.data = { cmdlet, parameters, objects };
    return plan;
  }
  if (!w.allowWrite) {
    throw new InputError(
      `step '${stepId}': ${cmdlet} changes the tenant and needs allowWrite: true`,
      locateInStep(input.playbook, stepId, ['with', 'cmdlet']),
      'add `allowWrite: true` to the step if this write is intended',
    );
  }
  plan.changes.push({
    id: `${stepId}:${cmdlet}:(run)`,
    stepId,
    target: cmdlet,
    property: '(run)',
    before: null,
    after: '(run)',
    // The reviewer approves exactly what runs: the call as PowerShell would read it, every value a
    // literal (display only: the runner binds the parameters from data, never from this text).
    reason: `powershell step runs verbatim (allowWrite: true): ${shownCall(cmdlet, parameters)}`,
    call: { cmdlet, parameters },
    undo: null,
  });
  return plan;
}

function shownCall(cmdlet: string, parameters: CmdletParameters): string {
  try {
    return formatCall(cmdlet, parameters);
  } catch {
    // A value with no PowerShell literal (never from a valid playbook) is still shown, as data.
    return `${cmdlet} ${JSON.stringify(parameters)}`;
  }
}

export function verifyPowershell(input: PlanInput<PowershellWith, PowershellObserved>): Finding[] {
  if (input.observed.objects === null) return [];
  return [
    {
      stepId: input.stepId,
      check: 'powershell-read',
      status: 'pass',
      subject: input.with.cmdlet,
      message: `${input.with.cmdlet} returned ${input.observed.objects.length} object(s)`,
    },
  ];
}

export const powershellAction: ActionDefinition<PowershellWith, PowershellObserved> = {
  uses: 'powershell',
  summary: 'Runs one allowlisted cmdlet: Get-* at observe time, writes (allowWrite: true) as a planned, journaled change.',
  withSchema: powershellWith,
  async observe(withValue, ctx) {
    const cmdlet = allowedName(withValue.cmdlet);
    // Refused cmdlets and writes do not run here: plan explains why, or plans the write.
    if (!cmdlet || isWriteCmdlet(cmdlet)) return { kind: 'powershell', objects: null, warnings: [] };
    // A read that reported an error is not an answer: it fails the run with the service's words.
    const { objects, warnings } = withoutErrors(cmdlet, await ctx.session.invoke(cmdlet, withValue.parameters as CmdletParameters));
    return { kind: 'powershell', objects, warnings };
  },
  plan: planPowershell,
  verify: verifyPowershell,
};
