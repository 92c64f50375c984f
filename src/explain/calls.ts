/**
 * The call as the runner really makes it. The pwsh host (src/exchange/pwsh/host.ps1) adds
 * `Confirm = $false` to every cmdlet that has a Confirm parameter, so a Set-* never prompts; the
 * printed line says so too, or it would not bind the same parameters (and would prompt when pasted).
 */
import { isWriteCmdlet, type CmdletParameters } from '../exchange/session.js';
import { formatCall } from './ps-literal.js';

export interface CmdletCall {
  cmdlet: string;
  parameters: CmdletParameters;
}

/**
 * Cmdlets with a -Confirm parameter: the writes this tool may run and Disconnect-ExchangeOnline, but
 * not Start-/Stop-HistoricalSearch, which have neither -Confirm nor -WhatIf (test/fixtures/exo-cmdlet-signatures.json).
 */
export function hasConfirmParameter(cmdlet: string): boolean {
  return isWriteCmdlet(cmdlet) && !/^Connect-/i.test(cmdlet) && !/^(Start|Stop)-HistoricalSearch$/i.test(cmdlet);
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
