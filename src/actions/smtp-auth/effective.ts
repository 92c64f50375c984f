/**
 * The one rule that decides SMTP AUTH for a mailbox (EXCHANGE-FACTS "The switches"): the mailbox's
 * own value wins; $null follows the organization.
 */
import type { TriState } from '../../exchange/simulator/state.js';

/** true when SMTP AUTH is OFF for the mailbox (the switch is "Disabled"). */
export function effectiveSmtpAuthDisabled(mailboxValue: TriState, organizationDisabled: boolean): boolean {
  return mailboxValue ?? organizationDisabled;
}

/** PowerShell's spelling of a tri-state value, as reviewers read it in plans and findings. */
export function psLiteral(value: TriState | undefined): string {
  if (value === null || value === undefined) return '$null';
  return value ? '$true' : '$false';
}

/** Reads a PsObject property as the tri-state switch; anything that is not a boolean is $null. */
export function toTriState(value: unknown): TriState {
  if (value === true || value === false) return value;
  if (typeof value === 'string') {
    if (/^true$/i.test(value)) return true;
    if (/^false$/i.test(value)) return false;
  }
  return null;
}
