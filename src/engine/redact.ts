/**
 * Parameters as they may be written to journals, plans and logs: values of secret-looking names are
 * replaced. Exchange writes this tool makes carry no secrets, but the powershell escape hatch might.
 */
import type { CmdletParameters } from '../exchange/session.js';

export const REDACTED = '[redacted]';
const SECRET_NAME = /password|token|secret|credential|certificate(?!path)|apikey|key$/i;

export function isSecretParameter(name: string, extra: readonly string[] = []): boolean {
  return SECRET_NAME.test(name) || extra.some((n) => n.toLowerCase() === name.toLowerCase());
}

export function redactParameters(parameters: CmdletParameters, extra: readonly string[] = []): CmdletParameters {
  const out: CmdletParameters = {};
  for (const [name, value] of Object.entries(parameters)) out[name] = isSecretParameter(name, extra) ? REDACTED : value;
  return out;
}

export function containsRedacted(parameters: CmdletParameters): boolean {
  return Object.values(parameters).some((v) => v === REDACTED);
}
