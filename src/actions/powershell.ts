/**
 * `powershell`: the escape hatch for a cmdlet the actions do not cover. Get-* cmdlets run at observe
 * time and their output lands in the plan; anything else needs `allowWrite: true`. A write that
 * changes SMTP AUTH is planned as the typed change the actions plan (powershell-smtp-auth.ts), so the
 * lockout guard, the impact line, rollback and verify see it; any other write is planned as a Change
 * shown verbatim (before $null, after '(run)', no undo), applied and journaled like every other write;
 * a write whose effect on SMTP AUTH cannot be derived is a blocking risk unless the step accepts it
 * (acceptUnderivedEffect). Only the host's allowlist (ALLOWED_CMDLETS) may run; others are refused at
 * plan time.
 */
import type { z } from 'zod';
import { InputError } from '../errors.js';
import { ALLOWED_CMDLETS, isWriteCmdlet, withoutErrors, type CmdletParameters, type PsObject } from '../exchange/session.js';
import { formatCall } from '../explain/ps-literal.js';
import { powershellWith } from '../playbook/schema.js';
import { locateInStep } from './locate.js';
import { invertPowershellWrite, observeSmtpAuthWrite, smtpAuthEffect, typedSmtpAuthChange, valueLeftByEarlierSteps, verifySmtpAuthWrite, type SmtpAuthEffect, type SmtpAuthObserved } from './powershell-smtp-auth.js';
import type { ActionDefinition, Finding, PlanInput, Risk, StepPlan } from './types.js';

export type PowershellWith = z.infer<typeof powershellWith>;

export interface PowershellObserved {
  kind: 'powershell';
  /** Output of a Get-* cmdlet (null for writes, and for cmdlets that may not run). */
  objects: PsObject[] | null;
  warnings: string[];
  /** For a write that changes SMTP AUTH: the organization's switch as read before it. */
  organizationDisabled?: boolean;
  /** For a Set-CASMailbox that changes SMTP AUTH: the mailbox it names, as read before it. */
  mailbox?: SmtpAuthObserved['mailbox'];
}

/** Cmdlets a playbook may run: the host's allowlist minus the session plumbing. */
export const PLAYBOOK_CMDLETS = ALLOWED_CMDLETS.filter((c) => !/^(Connect|Disconnect)-ExchangeOnline$/.test(c));

function allowedName(cmdlet: string): string | undefined {
  return PLAYBOOK_CMDLETS.find((c) => c.toLowerCase() === cmdlet.toLowerCase());
}

/**
 * `earlier`: the plans of the steps before this one (completePlan). A typed change starts from what
 * they leave on the same switch, not from what observe read, so that apply writes (and rollback
 * restores) the value the tenant holds when this step runs.
 */
export function planPowershell(input: PlanInput<PowershellWith, PowershellObserved>, earlier?: readonly StepPlan[]): StepPlan {
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
  const shown = shownCall(cmdlet, parameters);
  let effect = smtpAuthEffect(cmdlet, parameters);
  if (effect.kind === 'mailbox' || effect.kind === 'organization') {
    const typed = typedSmtpAuthChange(stepId, effect, smtpAuthObserved(input.observed, earlier ? { effect, earlier } : undefined), shown);
    if (!('underived' in typed)) {
      if (typed.change) plan.changes.push(typed.change);
      if (typed.inDesiredState) plan.inDesiredState.push(typed.inDesiredState);
      return plan;
    }
    effect = typed.underived;
  }
  const accepted = w.acceptUnderivedEffect?.reason;
  plan.changes.push({
    id: `${stepId}:${cmdlet}:(run)`,
    stepId,
    target: cmdlet,
    property: '(run)',
    before: null,
    after: '(run)',
    // The reviewer approves exactly what runs: the call as PowerShell would read it, every value a
    // literal (display only: the runner binds the parameters from data, never from this text).
    reason:
      `powershell step runs verbatim (allowWrite: true): ${shown}` +
      (effect.kind === 'underived' && accepted !== undefined ? `; effect on SMTP AUTH not derived (${effect.why}), accepted by acceptUnderivedEffect: ${accepted}` : ''),
    call: { cmdlet, parameters },
    undo: null,
    ...(effect.kind === 'underived' && accepted !== undefined ? { accepted: `acceptUnderivedEffect: ${accepted}` } : {}),
  });
  if (effect.kind === 'underived') plan.risks.push(underivedRisk(stepId, cmdlet, effect, accepted));
  return plan;
}

function underivedRisk(stepId: string, cmdlet: string, effect: { why: string; fix: string }, accepted: string | undefined): Risk {
  return {
    kind: 'underived-effect',
    subject: `step '${stepId}' (${cmdlet})`,
    message:
      `what this write does to SMTP AUTH cannot be derived (${effect.why}): the lockout guard cannot check it. ` +
      (accepted !== undefined
        ? `Accepted by the step's acceptUnderivedEffect: ${accepted}`
        : `Nothing is written: ${effect.fix}, or accept it on the step with acceptUnderivedEffect: { reason: ... }`),
    accepted: accepted !== undefined,
    blocking: true,
  };
}

/** The before-values observe read; with `after`, as the earlier steps' planned changes leave them. */
function smtpAuthObserved(
  observed: PowershellObserved,
  after?: { effect: Extract<SmtpAuthEffect, { kind: 'mailbox' | 'organization' }>; earlier: readonly StepPlan[] },
): SmtpAuthObserved | undefined {
  if (typeof observed.organizationDisabled !== 'boolean') return undefined;
  const read: SmtpAuthObserved = { organizationDisabled: observed.organizationDisabled, ...(observed.mailbox !== undefined ? { mailbox: observed.mailbox } : {}) };
  const left = after ? valueLeftByEarlierSteps(after.effect, read, after.earlier) : undefined;
  if (!left) return read;
  if (after!.effect.kind === 'organization') return { ...read, organizationDisabled: left.value === true };
  return { ...read, mailbox: { ...read.mailbox!, value: left.value } };
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
  const cmdlet = allowedName(input.with.cmdlet);
  if (cmdlet && isWriteCmdlet(cmdlet)) {
    return verifySmtpAuthWrite(input.stepId, smtpAuthEffect(cmdlet, input.with.parameters as CmdletParameters), smtpAuthObserved(input.observed));
  }
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
  summary: 'Runs one allowlisted cmdlet: Get-* at observe time, writes (allowWrite: true) as planned, journaled changes; SMTP AUTH writes as typed changes under the lockout guard.',
  withSchema: powershellWith,
  async observe(withValue, ctx) {
    const cmdlet = allowedName(withValue.cmdlet);
    if (!cmdlet) return { kind: 'powershell', objects: null, warnings: [] };
    // A write does not run here: observe reads the values it would change (when it changes SMTP AUTH).
    if (isWriteCmdlet(cmdlet)) {
      const before = withValue.allowWrite ? await observeSmtpAuthWrite(smtpAuthEffect(cmdlet, withValue.parameters as CmdletParameters), ctx) : undefined;
      return { kind: 'powershell', objects: null, warnings: [], ...(before ?? {}) };
    }
    // A read that reported an error is not an answer: it fails the run with the service's words.
    const { objects, warnings } = withoutErrors(cmdlet, await ctx.session.invoke(cmdlet, withValue.parameters as CmdletParameters));
    return { kind: 'powershell', objects, warnings };
  },
  plan: (input) => planPowershell(input),
  completePlan: (input, own, plans) => (own.changes.length + own.inDesiredState.length > 0 ? planPowershell(input, plans.slice(0, plans.indexOf(own))) : own),
  verify: verifyPowershell,
  invert: invertPowershellWrite,
};
