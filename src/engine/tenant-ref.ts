import { RefusedError } from '../errors.js';
import type { ExchangeSession } from '../exchange/session.js';
import type { PlaybookSource } from './playbook-source.js';
import type { TenantRef } from './types.js';

export function tenantRef(source: PlaybookSource, normalizedTarget: string): TenantRef {
  return { organization: source.playbook.tenant.organization, target: normalizedTarget };
}

/**
 * The tenant a signed-in session is in, as Exchange Online names it: Get-OrganizationConfig's Name,
 * the organization's initial <name>.onmicrosoft.com domain, whichever domain or tenant id
 * Connect-ExchangeOnline -Organization was given (two playbooks naming one tenant differently read
 * the same). The tenant lock is keyed by it (lock.ts). The simulator and the stub module answer the
 * same property (src/exchange/simulator/cmdlets/organization.ts, Organization.ps1). When it cannot
 * be read, the run does not know which tenant it would lock, so it writes nothing (fail closed).
 */
export async function signedInTenant(session: ExchangeSession): Promise<string> {
  let name: unknown;
  try {
    const { objects } = await session.invoke('Get-OrganizationConfig', {}, { select: ['Name', 'Identity'] });
    name = objects.length === 1 ? (objects[0]!.Name ?? objects[0]!.Identity) : undefined;
  } catch (error) {
    throw new RefusedError(`cannot tell which tenant this session signed in to (Get-OrganizationConfig failed: ${(error as Error).message}), so it cannot be locked; nothing was written`, 'lock');
  }
  if (typeof name !== 'string' || name.trim() === '') {
    throw new RefusedError('cannot tell which tenant this session signed in to (Get-OrganizationConfig gave no Name), so it cannot be locked; nothing was written', 'lock');
  }
  return name.trim().toLowerCase();
}
