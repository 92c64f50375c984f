/**
 * `smtp-auth/allowlist`: the listed mailboxes keep SMTP AUTH ($false); with `exclusive`, no other
 * mailbox keeps an explicit $false (set to $null, so it follows the organization). Explicit $true on
 * other mailboxes is harmless (already off) but noise: `explicitDisabled: keep` (default) leaves it
 * and says how many, `inherit` resets it to $null too.
 */
import type { z } from 'zod';
import { InputError } from '../../errors.js';
import { allowlistWith } from '../../playbook/schema.js';
import { formatLocation, locateAddress } from '../locate.js';
import type { ActionDefinition, Change, Finding, JournaledWrite, PlanInput, ResolvedPlaybookView, StepPlan } from '../types.js';
import { effectiveSmtpAuthDisabled, psLiteral } from './effective.js';
import type { ResolvedMailbox } from './resolve-mailboxes.js';
import { observeSmtpAuthState, type SmtpAuthState } from './smtp-auth-state.js';
import type { TriState } from '../../exchange/simulator/state.js';

export type AllowlistWith = z.infer<typeof allowlistWith>;
const PROPERTY = 'SmtpClientAuthenticationDisabled';

/**
 * The one write builder for a mailbox's switch, used by plan and by rollback. The call names the
 * mailbox by its immutable id when the read returned one (Set-CASMailbox -Identity takes a GUID),
 * so an ambiguous address can never send the write to another mailbox.
 */
export function mailboxChange(stepId: string, mailbox: string, before: TriState, after: TriState, reason: string, id?: string): Change {
  const identity = id || mailbox;
  return {
    id: `${stepId}:${mailbox}:${PROPERTY}`,
    stepId,
    target: mailbox,
    ...(id ? { targetId: id } : {}),
    property: PROPERTY,
    before,
    after,
    reason,
    call: { cmdlet: 'Set-CASMailbox', parameters: { Identity: identity, [PROPERTY]: after } },
    undo: { cmdlet: 'Set-CASMailbox', parameters: { Identity: identity, [PROPERTY]: before } },
  };
}

/** Stops the plan before anything is written when an entry names no mailbox; the error points at the entry. */
export function assertAllResolved(input: PlanInput<AllowlistWith, SmtpAuthState>, listed: readonly ResolvedMailbox[]): void {
  const unknown = listed.map((r, index) => ({ ...r, index })).filter((r) => r.mailbox === null);
  if (unknown.length === 0) return;
  const where = unknown.map((u) => ({
    entry: u.entry,
    location: locateAddress(input.playbook, input.stepId, ['with', 'mailboxes', u.index], u.entry),
  }));
  const first = where[0]!;
  const others = where.slice(1).map((w) => `${w.entry}${w.location ? ` (${formatLocation(w.location)})` : ''}`);
  throw new InputError(
    `step '${input.stepId}': allowlist entry '${first.entry}' matches no mailbox in ${input.playbook.name}'s tenant` +
      ` (not a primary address, proxy address, alias or UPN)` +
      (others.length ? `; also unknown: ${others.join(', ')}` : '') +
      '. Nothing was written.',
    first.location,
    'fix the address or remove it from the allowlist, then plan again',
  );
}

export function planAllowlist(input: PlanInput<AllowlistWith, SmtpAuthState>): StepPlan {
  const { stepId, observed } = input;
  const plan: StepPlan = { stepId, uses: 'smtp-auth/allowlist', changes: [], inDesiredState: [], notes: [], risks: [] };
  const listed = observed.listed ?? [];
  assertAllResolved(input, listed);

  const allowlisted = new Set<string>();
  for (const { entry, mailbox, value, id } of listed) {
    if (mailbox === null) continue;
    if (allowlisted.has(mailbox)) {
      plan.notes.push(`${entry} is ${mailbox}, already listed`);
      continue;
    }
    allowlisted.add(mailbox);
    if (value === false) plan.inDesiredState.push(`${mailbox} ${PROPERTY} is already $false (allowlisted)`);
    else plan.changes.push(mailboxChange(stepId, mailbox, value, false, `Allowlisted: keeps SMTP AUTH (was ${psLiteral(value)})`, id));
  }

  const keptTrue: string[] = [];
  const strayFalse: string[] = [];
  for (const { mailbox, value, id } of observed.overrides) {
    if (allowlisted.has(mailbox)) continue;
    if (value === false) {
      if (input.with.exclusive) {
        plan.changes.push(
          mailboxChange(stepId, mailbox, false, null, 'Not allowlisted (exclusive allowlist): stray $false removed; follows the organization', id),
        );
      } else strayFalse.push(mailbox);
    } else if (input.with.explicitDisabled === 'inherit') {
      plan.changes.push(mailboxChange(stepId, mailbox, true, null, 'Not allowlisted: explicit $true reset to $null (explicitDisabled: inherit)', id));
    } else keptTrue.push(mailbox);
  }
  if (keptTrue.length) {
    plan.notes.push(`${keptTrue.length} other mailbox(es) keep an explicit $true (off either way; explicitDisabled: keep)`);
  }
  for (const mailbox of strayFalse) {
    plan.risks.push({
      kind: 'warning',
      subject: mailbox,
      message: `${mailbox} is not allowlisted but keeps SMTP AUTH with an explicit $false (set exclusive: true to remove it)`,
      blocking: false,
    });
  }
  // followingOrganization: mailboxes whose switch is $null before the plan (the confirmation prompt counts from it).
  plan.data = { allowlisted: [...allowlisted], totalMailboxes: observed.totalMailboxes, followingOrganization: observed.totalMailboxes - observed.overrides.length };
  return plan;
}

/**
 * A smtp-auth/verify step without its own `mailboxes` checks this step's allowlist: every listed
 * mailbox (allowlisted-on, missing ones too) and every stray explicit $false (others-off).
 */
function checkedByVerifyStep(playbook: ResolvedPlaybookView): boolean {
  return playbook.steps.some((step) => step.uses === 'smtp-auth/verify' && (step.with as { mailboxes?: unknown } | undefined)?.mailboxes === undefined);
}

export function verifyAllowlist(input: PlanInput<AllowlistWith, SmtpAuthState>): Finding[] {
  // Saying the same thing about the same mailbox twice makes a reviewer count twice: when the
  // playbook's verify step covers this allowlist, this step reports only what that step cannot see.
  if (checkedByVerifyStep(input.playbook)) return onlyInheritedOn(input);
  const { stepId, observed } = input;
  const findings: Finding[] = [];
  const allowlisted = new Set<string>();
  for (const { entry, mailbox, value } of observed.listed ?? []) {
    if (mailbox === null) {
      findings.push({ stepId, check: 'allowlisted-exists', status: 'fail', subject: entry, message: `${entry} matches no mailbox` });
      continue;
    }
    if (allowlisted.has(mailbox)) continue;
    allowlisted.add(mailbox);
    findings.push({
      stepId,
      check: 'allowlisted-explicit',
      status: value === false ? 'pass' : 'fail',
      subject: mailbox,
      message: value === false ? `${PROPERTY} is $false` : `${PROPERTY} is ${psLiteral(value)}, the allowlist wants $false`,
    });
  }
  if (input.with.exclusive) {
    const stray = observed.overrides.filter((o) => o.value === false && !allowlisted.has(o.mailbox));
    for (const o of stray) {
      findings.push({
        stepId,
        check: 'no-stray-overrides',
        status: 'fail',
        subject: o.mailbox,
        message: 'not allowlisted but has an explicit $false: SMTP AUTH stays on for it',
      });
    }
    if (stray.length === 0) {
      findings.push({ stepId, check: 'no-stray-overrides', status: 'pass', subject: 'Mailboxes', message: 'no other mailbox has an explicit $false' });
    }
  }
  return findings;
}

/**
 * What verify cannot see: an allowlisted mailbox that is on only because it follows an organization
 * that is still on ($null). Verify passes it (it is on today); it goes off when the organization does.
 */
function onlyInheritedOn(input: PlanInput<AllowlistWith, SmtpAuthState>): Finding[] {
  const { stepId, observed } = input;
  const seen = new Set<string>();
  const findings: Finding[] = [];
  for (const { mailbox, value } of observed.listed ?? []) {
    if (mailbox === null || seen.has(mailbox)) continue;
    seen.add(mailbox);
    if (value === false || effectiveSmtpAuthDisabled(value, observed.organizationDisabled)) continue;
    findings.push({
      stepId,
      check: 'allowlisted-explicit',
      status: 'fail',
      subject: mailbox,
      message: `${PROPERTY} is ${psLiteral(value)}: on only while the organization is on; the allowlist wants $false`,
    });
  }
  return findings;
}

const isTriState = (value: unknown): value is TriState => value === null || value === true || value === false;

/** Rollback: the journaled mailbox write, inverted through mailboxChange. */
export function invertMailboxWrite(write: JournaledWrite): Change | null {
  if (write.property !== PROPERTY || write.target === 'Organization' || !isTriState(write.before) || !isTriState(write.after)) return null;
  if (write.target.trim() === '') return null;
  return { ...mailboxChange(write.stepId, write.target, write.after, write.before, `restore ${psLiteral(write.before)}`, write.targetId), id: write.changeId };
}

export const allowlistAction: ActionDefinition<AllowlistWith, SmtpAuthState> = {
  uses: 'smtp-auth/allowlist',
  summary: 'Keeps SMTP AUTH on ($false) for the listed mailboxes and, with exclusive, for no other mailbox.',
  withSchema: allowlistWith,
  observe: (withValue, ctx) => observeSmtpAuthState(withValue.mailboxes, ctx, { authenticationPolicies: true }),
  plan: planAllowlist,
  verify: verifyAllowlist,
  invert: invertMailboxWrite,
};
