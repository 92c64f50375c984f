/**
 * `transport-config`: the organization's SmtpClientAuthenticationDisabled (Set-TransportConfig).
 */
import { transportConfigWith } from '../playbook/schema.js';
import type { z } from 'zod';
import type { ActionDefinition, Change, Finding, JournaledWrite, PlanInput, StepPlan } from './types.js';
import { readOrganizationDisabled } from './smtp-auth/mailbox-directory.js';
import { psLiteral } from './smtp-auth/effective.js';

type TransportConfigWith = z.infer<typeof transportConfigWith>;

export interface TransportConfigObserved {
  kind: 'transport-config';
  smtpClientAuthenticationDisabled: boolean;
}

const PROPERTY = 'SmtpClientAuthenticationDisabled';

export function planTransportConfig(input: PlanInput<TransportConfigWith, TransportConfigObserved>): StepPlan {
  const { stepId } = input;
  const desired = input.with.smtpClientAuthenticationDisabled;
  const before = input.observed.smtpClientAuthenticationDisabled;
  const plan: StepPlan = { stepId, uses: 'transport-config', changes: [], inDesiredState: [], notes: [], risks: [] };
  if (before === desired) {
    plan.inDesiredState.push(`Organization ${PROPERTY} is already ${psLiteral(desired)}`);
    return plan;
  }
  plan.changes.push(
    organizationChange(
      stepId,
      before,
      desired,
      desired
        ? 'Turn SMTP AUTH off for the organization; only mailboxes with an explicit $false keep it'
        : 'Turn SMTP AUTH on for the organization; every mailbox with $null gets it',
    ),
  );
  return plan;
}

/** The one write builder for the organization's switch, used by plan and by rollback. */
export function organizationChange(stepId: string, before: boolean, after: boolean, reason: string): Change {
  return {
    id: `${stepId}:Organization:${PROPERTY}`,
    stepId,
    target: 'Organization',
    property: PROPERTY,
    before,
    after,
    reason,
    call: { cmdlet: 'Set-TransportConfig', parameters: { [PROPERTY]: after } },
    undo: { cmdlet: 'Set-TransportConfig', parameters: { [PROPERTY]: before } },
  };
}

/** Rollback: the journaled organization write, inverted through organizationChange. */
export function invertOrganizationWrite(write: JournaledWrite): Change | null {
  if (write.property !== PROPERTY || write.target !== 'Organization' || typeof write.before !== 'boolean' || typeof write.after !== 'boolean') return null;
  return { ...organizationChange(write.stepId, write.after, write.before, `restore ${psLiteral(write.before)}`), id: write.changeId };
}

export function verifyTransportConfig(input: PlanInput<TransportConfigWith, TransportConfigObserved>): Finding[] {
  const desired = input.with.smtpClientAuthenticationDisabled;
  const actual = input.observed.smtpClientAuthenticationDisabled;
  // A smtp-auth/verify step always checks organization-off: saying it twice makes a reviewer count twice.
  if (desired && input.playbook.steps.some((step) => step.uses === 'smtp-auth/verify')) return [];
  return [
    {
      stepId: input.stepId,
      check: desired ? 'organization-off' : 'organization-on',
      status: actual === desired ? 'pass' : 'fail',
      subject: 'Organization',
      message:
        actual === desired
          ? `${PROPERTY} is ${psLiteral(actual)}`
          : `${PROPERTY} is ${psLiteral(actual)}, the playbook wants ${psLiteral(desired)}`,
    },
  ];
}

export const transportConfigAction: ActionDefinition<TransportConfigWith, TransportConfigObserved> = {
  uses: 'transport-config',
  summary: "Sets the organization's SMTP AUTH switch (Set-TransportConfig -SmtpClientAuthenticationDisabled).",
  withSchema: transportConfigWith,
  async observe(_with, ctx) {
    return { kind: 'transport-config', smtpClientAuthenticationDisabled: await readOrganizationDisabled(ctx) };
  },
  plan: planTransportConfig,
  verify: verifyTransportConfig,
  invert: invertOrganizationWrite,
};
