/**
 * Re-reading the value a write changed, for rollback: it decides whether a write whose outcome is
 * unknown (a "before" record without "after") happened, and lets rollback skip values already
 * restored. Known write cmdlets map to their Get counterpart; others cannot be re-read (undefined).
 */
import type { CmdletParameters, ExchangeSession, PsValue } from '../exchange/session.js';
import { GRANT_READERS } from '../actions/smtp-auth/oauth-senders/readback.js';

const READERS: Record<string, { cmdlet: string; byIdentity: boolean }> = {
  'set-casmailbox': { cmdlet: 'Get-CASMailbox', byIdentity: true },
  'set-transportconfig': { cmdlet: 'Get-TransportConfig', byIdentity: false },
};

/** The property a Set call writes: its only parameter besides Identity (and common switches). */
export function writtenProperty(parameters: CmdletParameters): string | undefined {
  const names = Object.keys(parameters).filter((n) => !/^(identity|confirm|erroraction|whatif|force)$/i.test(n));
  return names.length === 1 ? names[0] : undefined;
}

export function canReadBack(call: { cmdlet: string; parameters: CmdletParameters }): boolean {
  if (GRANT_READERS[call.cmdlet.toLowerCase()]) return true;
  return Boolean(READERS[call.cmdlet.toLowerCase()]) && writtenProperty(call.parameters) !== undefined;
}

/** The current value of what `call` writes, or undefined when it cannot be read. */
export async function readBack(session: ExchangeSession, call: { cmdlet: string; parameters: CmdletParameters }): Promise<PsValue | undefined> {
  // Objects created or removed whole (service principals, scopes, grants) read back as the object or $null.
  const grant = GRANT_READERS[call.cmdlet.toLowerCase()];
  if (grant) return grant(session, call.parameters);
  const reader = READERS[call.cmdlet.toLowerCase()];
  const property = writtenProperty(call.parameters);
  if (!reader || property === undefined) return undefined;
  const identity = call.parameters.Identity ?? call.parameters.identity;
  if (reader.byIdentity && (identity === undefined || identity === null)) return undefined;
  const params: CmdletParameters = reader.byIdentity ? { Identity: identity as PsValue, ErrorAction: 'Stop' } : {};
  const result = await session.invoke(reader.cmdlet, params, { select: [property] });
  const object = result.objects[0];
  if (!object || !(property in object)) return undefined;
  return object[property] ?? null;
}
