/**
 * `smtp-auth/verify`: the effective SMTP AUTH state of every mailbox matches Microsoft's end state:
 * organization off; every allowlisted mailbox effectively on; every other mailbox effectively off
 * (offenders listed by their explicit override); allowlisted mailboxes whose authentication policy
 * blocks Basic SMTP AUTH flagged (warn), since that silently defeats the allowlist for Basic devices.
 * The allowlist is `with.mailboxes`, else every smtp-auth/allowlist step of the playbook.
 */
import type { z } from 'zod';
import { verifyWith } from '../../playbook/schema.js';
import type { ActionDefinition, Finding, PlanInput, StepPlan } from '../types.js';
import { blockingPolicy, type AuthenticationPolicyObservation } from './authentication-policies.js';
import { effectiveSmtpAuthDisabled, psLiteral } from './effective.js';
import type { ResolvedMailbox } from './resolve-mailboxes.js';
import { isSmtpAuthState, observeSmtpAuthState, type SmtpAuthState } from './smtp-auth-state.js';

export type VerifyWith = z.infer<typeof verifyWith>;

/** The allowlist this verify checks, and the policy data that covers it. */
function allowlistOf(input: PlanInput<VerifyWith, SmtpAuthState>): {
  listed: ResolvedMailbox[];
  authentication: AuthenticationPolicyObservation[];
} {
  if (input.observed.listed) {
    return { listed: input.observed.listed, authentication: input.observed.authentication ? [input.observed.authentication] : [] };
  }
  const listed: ResolvedMailbox[] = [];
  const authentication: AuthenticationPolicyObservation[] = [];
  for (const step of input.playbook.steps) {
    if (step.uses !== 'smtp-auth/allowlist') continue;
    const observed = input.observations.get(step.id);
    if (!isSmtpAuthState(observed)) continue;
    listed.push(...(observed.listed ?? []));
    if (observed.authentication) authentication.push(observed.authentication);
  }
  return { listed, authentication };
}

export function verifySmtpAuth(input: PlanInput<VerifyWith, SmtpAuthState>): Finding[] {
  const { stepId, observed } = input;
  const organizationOff = observed.organizationDisabled;
  const findings: Finding[] = [
    {
      stepId,
      check: 'organization-off',
      status: organizationOff ? 'pass' : 'fail',
      subject: 'Organization',
      message: organizationOff
        ? 'SmtpClientAuthenticationDisabled is $true'
        : 'SmtpClientAuthenticationDisabled is $false: SMTP AUTH is on for every mailbox that follows the organization',
    },
  ];
  const { listed, authentication } = allowlistOf(input);
  const values = new Map(observed.overrides.map((o) => [o.mailbox, o.value]));
  const allowlisted = new Set<string>();
  for (const entry of listed) {
    if (entry.mailbox === null) {
      findings.push({ stepId, check: 'allowlisted-on', status: 'fail', subject: entry.entry, message: 'allowlisted, but no such mailbox exists' });
      continue;
    }
    if (allowlisted.has(entry.mailbox)) continue;
    allowlisted.add(entry.mailbox);
    const value = values.get(entry.mailbox) ?? null;
    const on = !effectiveSmtpAuthDisabled(value, organizationOff);
    findings.push({
      stepId,
      check: 'allowlisted-on',
      status: on ? 'pass' : 'fail',
      subject: entry.mailbox,
      message: on
        ? `SMTP AUTH on (${psLiteral(value)}${value === null ? ', follows the organization' : ''})`
        : `allowlisted but SMTP AUTH is off (${psLiteral(value)}${value === null ? ', follows the organization' : ''}); set it to $false`,
    });
    if (input.with.checkAuthenticationPolicies) {
      const policy = authentication.map((a) => blockingPolicy(a, entry.mailbox!)).find((p) => p !== null);
      if (policy) {
        findings.push({
          stepId,
          check: 'allowlisted-basic-auth',
          status: 'warn',
          subject: entry.mailbox,
          message: `authentication policy '${policy}' has AllowBasicAuthSmtp $false: Basic SMTP AUTH still fails for this allowlisted mailbox (OAuth clients are unaffected)`,
        });
      }
    }
  }
  const offenders = observed.overrides.filter((o) => o.value === false && !allowlisted.has(o.mailbox));
  for (const o of offenders) {
    findings.push({
      stepId,
      check: 'others-off',
      status: 'fail',
      subject: o.mailbox,
      message: 'not allowlisted but SMTP AUTH is on: explicit $false (reset it to $null)',
    });
  }
  if (!organizationOff) {
    const inheriting = observed.totalMailboxes - observed.overrides.length;
    if (inheriting > 0) {
      findings.push({
        stepId,
        check: 'others-off',
        status: 'fail',
        subject: 'Mailboxes',
        message: `${inheriting} mailbox(es) with $null follow the organization, which is on`,
      });
    }
  } else if (offenders.length === 0) {
    findings.push({
      stepId,
      check: 'others-off',
      status: 'pass',
      subject: 'Mailboxes',
      message: `SMTP AUTH is off for all ${observed.totalMailboxes - allowlisted.size} mailbox(es) not allowlisted`,
    });
  }
  return findings;
}

/** A verify step plans nothing; its plan says what it will check. */
export function planVerify(input: PlanInput<VerifyWith, SmtpAuthState>): StepPlan {
  const { listed } = allowlistOf(input);
  return {
    stepId: input.stepId,
    uses: 'smtp-auth/verify',
    changes: [],
    inDesiredState: [],
    notes: [`checks ${input.observed.totalMailboxes} mailbox(es) against an allowlist of ${listed.length} after apply`],
    risks: [],
  };
}

export const verifyAction: ActionDefinition<VerifyWith, SmtpAuthState> = {
  uses: 'smtp-auth/verify',
  summary: 'Proves the end state: organization off, allowlisted mailboxes on, every other mailbox off.',
  withSchema: verifyWith,
  observe: (withValue, ctx) => observeSmtpAuthState(withValue.mailboxes, ctx, { authenticationPolicies: withValue.checkAuthenticationPolicies }),
  plan: planVerify,
  verify: verifySmtpAuth,
};
