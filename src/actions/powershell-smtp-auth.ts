/**
 * What a `powershell` step's write does to SMTP AUTH (issue 24). Every write that can change SMTP
 * AUTH for anyone goes through the lockout guard, whatever step makes it, so a write the runner can
 * derive is planned as the same typed change the actions plan (mailboxChange, organizationChange):
 * its before-value observed, its after-value from the parameters; the guard, the prompt's impact
 * line, rollback's derived inverse and verify then see it as they see the actions' writes.
 *
 * It fails closed. A write is one of:
 * - `mailbox` / `organization`: Set-CASMailbox -Identity <address|Guid> or Set-TransportConfig with
 *   -SmtpClientAuthenticationDisabled (named in full, with no other parameter) and a value the switch
 *   takes (EXCHANGE-FACTS: $true/$false/$null on a mailbox, $true/$false for the organization);
 * - `none`: a write Microsoft's cmdlet reference shows cannot touch SMTP AUTH (a historical search
 *   submits or cancels a report job; a Set-CASMailbox without the switch configures other protocols);
 * - `underived`: anything else (a write cmdlet the table below does not know, a parameter that changes
 *   SMTP AUTH in ways not modelled, an abbreviated name PowerShell could bind to the switch, the switch
 *   mixed with other parameters, an identity that is not an address or Guid or that Get-CASMailbox
 *   resolves to no single mailbox, a value the switch does not take). Apply refuses it (exit 4) unless the step names it in
 *   `acceptUnderivedEffect: { reason }`.
 */
import { isNotFoundRecord } from '../exchange/service-error.js';
import { CmdletFailure, withoutErrors, type CmdletParameters, type PsValue } from '../exchange/session.js';
import type { TriState } from '../exchange/simulator/state.js';
import { isValidAddress } from '../playbook/addresses.js';
import { invertMailboxWrite, mailboxChange } from './smtp-auth/allowlist.js';
import { effectiveSmtpAuthDisabled, psLiteral, toTriState } from './smtp-auth/effective.js';
import { readOrganizationDisabled } from './smtp-auth/mailbox-directory.js';
import { invertOrganizationWrite, organizationChange } from './transport-config.js';
import type { Change, Finding, JournaledWrite, RunContext, StepPlan } from './types.js';

export const SMTP_AUTH_SWITCH = 'SmtpClientAuthenticationDisabled';

export type SmtpAuthEffect =
  | { kind: 'none' }
  | { kind: 'organization'; after: boolean }
  | { kind: 'mailbox'; identity: string; after: TriState }
  | { kind: 'underived'; why: string; fix: string };

interface WriteModel {
  /** Where the cmdlet's -SmtpClientAuthenticationDisabled acts; absent when the cmdlet has no such parameter. */
  switchOn?: 'mailbox' | 'organization';
  /**
   * Parameters that decide who may use SMTP AUTH in ways the runner does not model. Set-TransportConfig
   * -AllowLegacyTLSClients decides whether TLS 1.0/1.1 clients may still submit (EXCHANGE-FACTS: those
   * devices depend on smtp-legacy.office365.com).
   */
  unmodelled: readonly string[];
}

/**
 * The write cmdlets whose effect on SMTP AUTH is known (parameter lists: Microsoft's cmdlet reference,
 * test/fixtures/exo-cmdlet-signatures.json). A write cmdlet missing here, e.g. one added to
 * ALLOWED_CMDLETS later (Set-AuthenticationPolicy -AllowBasicAuthSmtp, Set-User -AuthenticationPolicy,
 * Remove-MailboxPermission of an OAuth sender), is underived until it is modelled here.
 */
const WRITE_MODELS: Record<string, WriteModel> = {
  'set-casmailbox': { switchOn: 'mailbox', unmodelled: [] },
  'set-transportconfig': { switchOn: 'organization', unmodelled: ['AllowLegacyTLSClients'] },
  'start-historicalsearch': { unmodelled: [] },
  'stop-historicalsearch': { unmodelled: [] },
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the write does to SMTP AUTH, from the cmdlet and its parameters alone (pure). */
export function smtpAuthEffect(cmdlet: string, parameters: CmdletParameters): SmtpAuthEffect {
  const model = WRITE_MODELS[cmdlet.toLowerCase()];
  if (!model) {
    return {
      kind: 'underived',
      why: `the runner does not model what ${cmdlet} does to SMTP AUTH`,
      fix: 'use the smtp-auth actions for SMTP AUTH changes',
    };
  }
  const names = Object.keys(parameters);
  // PowerShell's parameter names are case-insensitive: which of two spellings binds is not ours to guess.
  const twice = names.find((n, i) => names.findIndex((m) => m.toLowerCase() === n.toLowerCase()) !== i);
  if (twice !== undefined) return { kind: 'underived', why: `-${twice} is named twice (parameter names ignore case)`, fix: 'name each parameter once' };
  // PowerShell binds a parameter by any unambiguous prefix of its name (splatting included), so
  // -SmtpClientAuth is the switch: only the full name is a write the runner can derive.
  const affecting = [...(model.switchOn ? [SMTP_AUTH_SWITCH] : []), ...model.unmodelled];
  for (const name of names) {
    const full = affecting.find((a) => a.toLowerCase().startsWith(name.toLowerCase()));
    if (full === undefined || (full === SMTP_AUTH_SWITCH && name.toLowerCase() === full.toLowerCase())) continue;
    return name.toLowerCase() === full.toLowerCase()
      ? { kind: 'underived', why: `${cmdlet} -${full} changes who may use SMTP AUTH in a way the runner does not model`, fix: 'leave it out, or make the change by hand' }
      : { kind: 'underived', why: `-${name} is an abbreviation PowerShell may bind to -${full}`, fix: `write the parameter's full name (-${full})` };
  }
  const switchName = names.find((n) => n.toLowerCase() === SMTP_AUTH_SWITCH.toLowerCase());
  if (switchName === undefined || !model.switchOn) return { kind: 'none' };
  const value = parameters[switchName];
  const others = names.filter((n) => n !== switchName && !(model.switchOn === 'mailbox' && n.toLowerCase() === 'identity'));
  if (others.length > 0) {
    return {
      kind: 'underived',
      why: `-${SMTP_AUTH_SWITCH} is mixed with ${others.map((n) => `-${n}`).join(', ')}`,
      fix: `put -${SMTP_AUTH_SWITCH} in a step of its own (or use the transport-config and smtp-auth/allowlist actions)`,
    };
  }
  if (model.switchOn === 'organization') {
    if (typeof value !== 'boolean') return { kind: 'underived', why: `the organization's switch takes $true or $false, not ${shown(value)}`, fix: 'write true or false' };
    return { kind: 'organization', after: value };
  }
  if (value !== null && typeof value !== 'boolean') return { kind: 'underived', why: `the mailbox switch takes $true, $false or $null, not ${shown(value)}`, fix: 'write true, false or null' };
  const identityName = names.find((n) => n.toLowerCase() === 'identity');
  const identity = identityName === undefined ? undefined : parameters[identityName];
  if (typeof identity !== 'string' || !(GUID.test(identity) || (identity.includes('@') && isValidAddress(identity)))) {
    return {
      kind: 'underived',
      why: `-Identity ${identity === undefined ? 'is missing' : `${shown(identity)} is not a mailbox address or Guid`}, so the run cannot tell which mailbox the write changes`,
      fix: "name the mailbox by its primary SMTP address or its Guid",
    };
  }
  return { kind: 'mailbox', identity, after: value };
}

function shown(value: PsValue | undefined): string {
  if (value === null) return '$null';
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

/** What observe reads for a write that changes SMTP AUTH: the before-values the typed change needs. */
export interface SmtpAuthObserved {
  /** The organization's switch (the lockout guard reads it from any observation that has it). */
  organizationDisabled: boolean;
  /** For a mailbox write: the one mailbox -Identity names (Get-CASMailbox), its Guid and switch; null when it names none, or several. */
  mailbox?: { mailbox: string; id?: string; value: TriState } | null;
}

/**
 * Reads the before-values of a derivable write (reads only). The mailbox is the one Get-CASMailbox
 * -Identity returns for the step's own identity: Set-CASMailbox resolves -Identity the same way, so
 * the typed change (written by that mailbox's Guid) changes exactly what the step's call would have
 * changed. No such mailbox, or more than one, leaves `mailbox: null` (the write is then not derived).
 */
export async function observeSmtpAuthWrite(effect: SmtpAuthEffect, ctx: RunContext): Promise<SmtpAuthObserved | undefined> {
  if (effect.kind !== 'mailbox' && effect.kind !== 'organization') return undefined;
  if (effect.kind === 'organization') return { organizationDisabled: await readOrganizationDisabled(ctx) };
  // A `mailbox-lookup:` key: verify after a mailbox write reads it again (engine/verify-after-write.ts).
  const objects = await ctx.shared(`mailbox-lookup:cas:${effect.identity.toLowerCase()}`, async () => {
    try {
      const result = await ctx.session.invoke('Get-CASMailbox', { Identity: effect.identity }, { select: ['PrimarySmtpAddress', 'Guid', SMTP_AUTH_SWITCH] });
      // Only "not found" is no answer; any other error record fails the read.
      if (result.errors.length > 0 && result.errors.every(isNotFoundRecord)) return [];
      return withoutErrors('Get-CASMailbox', result).objects;
    } catch (error) {
      if (error instanceof CmdletFailure && isNotFoundRecord(error.record)) return [];
      throw error;
    }
  });
  const organizationDisabled = await readOrganizationDisabled(ctx);
  const [object] = objects;
  const mailbox = typeof object?.PrimarySmtpAddress === 'string' ? object.PrimarySmtpAddress : '';
  if (objects.length !== 1 || !mailbox) return { organizationDisabled, mailbox: null };
  const id = typeof object!.Guid === 'string' && object!.Guid ? object!.Guid : undefined;
  return { organizationDisabled, mailbox: { mailbox, ...(id ? { id } : {}), value: toTriState(object![SMTP_AUTH_SWITCH]) } };
}

/** What the typed change leaves: effective SMTP AUTH before and after, in a reviewer's words. */
function onOff(value: TriState, organizationDisabled: boolean): string {
  const off = effectiveSmtpAuthDisabled(value, organizationDisabled);
  return value === null ? `${psLiteral(value)}: follows the organization, ${off ? 'off' : 'on'}` : `${psLiteral(value)}: ${off ? 'off' : 'on'}`;
}

/**
 * The typed change of a derivable write (null when the tenant already has the value), or the reason
 * it cannot be derived after all (the identity names no mailbox the run read).
 */
export function typedSmtpAuthChange(
  stepId: string,
  effect: Extract<SmtpAuthEffect, { kind: 'mailbox' | 'organization' }>,
  observed: SmtpAuthObserved | undefined,
  shownCall: string,
): { change: Change | null; inDesiredState?: string } | { underived: Extract<SmtpAuthEffect, { kind: 'underived' }> } {
  if (!observed) return { underived: { kind: 'underived', why: 'the run did not read the value the write changes', fix: 'plan again' } };
  if (effect.kind === 'organization') {
    const before = observed.organizationDisabled;
    if (before === effect.after) return { change: null, inDesiredState: `Organization ${SMTP_AUTH_SWITCH} is already ${psLiteral(before)} (${shownCall})` };
    const reason = `powershell step ${shownCall}, planned as the organization's switch: SMTP AUTH ${before ? 'off' : 'on'} -> ${effect.after ? 'off' : 'on'}`;
    return { change: organizationChange(stepId, before, effect.after, reason) };
  }
  const target = observed.mailbox;
  if (!target) {
    return {
      underived: {
        kind: 'underived',
        why: `-Identity '${effect.identity}' names no single mailbox (Get-CASMailbox found none, or more than one), so its before-value is unknown`,
        fix: "name the mailbox by its primary SMTP address or its Guid (and check it exists)",
      },
    };
  }
  if (target.value === effect.after) return { change: null, inDesiredState: `${target.mailbox} ${SMTP_AUTH_SWITCH} is already ${psLiteral(target.value)} (${shownCall})` };
  const org = observed.organizationDisabled;
  const reason = `powershell step ${shownCall}, planned as the mailbox's switch: ${onOff(target.value, org)} -> ${onOff(effect.after, org)}`;
  return { change: mailboxChange(stepId, target.mailbox, target.value, effect.after, reason, target.id) };
}

/**
 * The value an earlier step's planned change leaves on the switch this write changes (the last one
 * wins, as apply writes in step order), or undefined when no earlier step changes it.
 */
export function valueLeftByEarlierSteps(
  effect: Extract<SmtpAuthEffect, { kind: 'mailbox' | 'organization' }>,
  observed: SmtpAuthObserved,
  earlier: readonly StepPlan[],
): { stepId: string; value: TriState } | undefined {
  const target = effect.kind === 'mailbox' ? observed.mailbox : undefined;
  if (effect.kind === 'mailbox' && !target) return undefined;
  const same = (c: Change) =>
    c.property === SMTP_AUTH_SWITCH &&
    (effect.kind === 'organization'
      ? c.call.cmdlet === 'Set-TransportConfig'
      : c.call.cmdlet === 'Set-CASMailbox' && (target!.id && c.targetId ? c.targetId.toLowerCase() === target!.id.toLowerCase() : c.target.toLowerCase() === target!.mailbox.toLowerCase()));
  const last = earlier.flatMap((p) => p.changes).filter(same).at(-1);
  return last ? { stepId: last.stepId, value: last.after as TriState } : undefined;
}

/** Verify: does the tenant hold what the derivable write wants? */
export function verifySmtpAuthWrite(stepId: string, effect: SmtpAuthEffect, observed: SmtpAuthObserved | undefined): Finding[] {
  if ((effect.kind !== 'mailbox' && effect.kind !== 'organization') || !observed) return [];
  const want = effect.after;
  if (effect.kind === 'organization') {
    const actual = observed.organizationDisabled;
    const message = actual === want ? `${SMTP_AUTH_SWITCH} is ${psLiteral(actual)}` : `${SMTP_AUTH_SWITCH} is ${psLiteral(actual)}, the step wants ${psLiteral(want)}`;
    return [{ stepId, check: 'powershell-smtp-auth', status: actual === want ? 'pass' : 'fail', subject: 'Organization', message }];
  }
  const target = observed.mailbox;
  if (!target) return [{ stepId, check: 'powershell-smtp-auth', status: 'fail', subject: effect.identity, message: `names no single mailbox: ${SMTP_AUTH_SWITCH} cannot be checked` }];
  const ok = target.value === want;
  const message = ok ? `${SMTP_AUTH_SWITCH} is ${psLiteral(target.value)}` : `${SMTP_AUTH_SWITCH} is ${psLiteral(target.value)}, the step wants ${psLiteral(want)}`;
  return [{ stepId, check: 'powershell-smtp-auth', status: ok ? 'pass' : 'fail', subject: target.mailbox, message }];
}

/**
 * Rollback: a journaled typed write, inverted through the builder that made it; a verbatim call
 * ('(run)') has no undo.
 */
export function invertPowershellWrite(write: JournaledWrite): Change | 'no-undo' | null {
  if (write.property === '(run)') return 'no-undo';
  return write.target === 'Organization' ? invertOrganizationWrite(write) : invertMailboxWrite(write);
}
