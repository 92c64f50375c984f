import type { PlaybookSource } from './playbook-source.js';
import type { TenantRef } from './types.js';

export function tenantRef(source: PlaybookSource, normalizedTarget: string): TenantRef {
  return { organization: source.playbook.tenant.organization, target: normalizedTarget };
}
