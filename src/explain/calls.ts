/**
 * The call as the runner really makes it. The pwsh host (src/exchange/pwsh/host.ps1) adds
 * `Confirm = $false` to every cmdlet that has a Confirm parameter, so a Set-* never prompts; the
 * printed line says so too, or it would not bind the same parameters (and would prompt when pasted).
 */
import type { CmdletParameters } from '../exchange/session.js';
import { formatCall } from './ps-literal.js';

export interface CmdletCall {
  cmdlet: string;
  parameters: CmdletParameters;
}

/**
 * The allowlisted cmdlets that have -Confirm in Exchange Online (Microsoft's cmdlet reference;
 * ../shared/exo-cmdlet-signatures.json). Start-/Stop-HistoricalSearch have neither -Confirm nor
 * -WhatIf: a pasted `-Confirm:$false` there fails to bind.
 */
const WITH_CONFIRM = new Set([
  'set-casmailbox',
  'set-transportconfig',
  'disconnect-exchangeonline',
  // shared/exo-migration-cmdlets.json: each takes -Confirm.
  'new-serviceprincipal',
  'remove-serviceprincipal',
  'new-managementscope',
  'remove-managementscope',
  'new-managementroleassignment',
  'remove-managementroleassignment',
  'add-mailboxpermission',
  'remove-mailboxpermission',
]);

export function hasConfirmParameter(cmdlet: string): boolean {
  return WITH_CONFIRM.has(cmdlet.toLowerCase());
}

export function asRunnerSendsIt(call: CmdletCall): CmdletCall {
  const named = Object.keys(call.parameters).some((k) => k.toLowerCase() === 'confirm');
  if (!hasConfirmParameter(call.cmdlet) || named) return call;
  return { cmdlet: call.cmdlet, parameters: { ...call.parameters, Confirm: false } };
}

/** One line of PowerShell that binds exactly what the runner binds. */
export function explainLine(call: CmdletCall): string {
  const sent = asRunnerSendsIt(call);
  return formatCall(sent.cmdlet, sent.parameters);
}
