/**
 * Secret values (InvokeOptions.secretParameters) still travel to pwsh over stdin, but any text the
 * session produces about the call (errors, stderr lines passed on) has them replaced.
 */
import type { CmdletParameters, PsValue } from '../session.js';

export type Redact = (text: string) => string;

export const REDACTED = '[redacted]';

function secretStrings(value: PsValue, out: string[]): void {
  if (typeof value === 'string') {
    if (value.length > 0) out.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) secretStrings(item, out);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) secretStrings(item, out);
  }
}

export function redactor(parameters: CmdletParameters, secretParameters: readonly string[] = []): Redact {
  const secrets: string[] = [];
  const wanted = new Set(secretParameters.map((name) => name.toLowerCase()));
  for (const [name, value] of Object.entries(parameters)) {
    if (wanted.has(name.toLowerCase())) secretStrings(value, secrets);
  }
  if (secrets.length === 0) return (text) => text;
  // Longest first, so a secret that contains another is replaced whole.
  secrets.sort((a, b) => b.length - a.length);
  return (text) => secrets.reduce((acc, secret) => acc.split(secret).join(REDACTED), text);
}
