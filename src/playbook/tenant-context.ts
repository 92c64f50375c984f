/**
 * The one hook a fleet run has into a single-tenant run (src/fleet/ is above the engine): a tenant
 * context handed to the playbook loader. With it, `${tenant.id}`, `${tenant.tenantId}`,
 * `${tenant.name}` and `${tenant.vars.NAME}` resolve (also inside a `${file:...}` path), the
 * playbook's tenant.organization becomes the inventory tenant's id, tenant.auth becomes the
 * inventory's (when it has one), and the inventory's folder is added to fileRoots. Without a context
 * a `${tenant.…}` reference is a located error: the playbook only makes sense in a fleet run.
 */
import type { SourceLocation } from '../errors.js';
import type { Located, LocatedMapping, LocatedScalar, ScalarValue } from './located.js';
import { didYouMean } from './suggest.js';

export interface TenantContext {
  /** The tenant's primary .onmicrosoft.com domain (tenant.organization of the run). */
  id: string;
  tenantId?: string;
  name?: string;
  vars: Readonly<Record<string, ScalarValue>>;
  /** Where the tenant's `id` was written in the inventory (errors about the organization point there). */
  idLocation: SourceLocation;
  /** The inventory's auth for this tenant (its own, else the inventory's defaults), paths made absolute; absent: the playbook's own. */
  auth?: Located;
  /** Folders ${file:} may read besides the playbook's (the inventory's folder). */
  extraRoots: readonly string[];
}

/** `${tenant.…}`, the innermost kind of reference (so `${file:${tenant.vars.x}}` works). */
const TENANT_REFERENCE = /\$\{tenant\.([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_-]*))?\}/g;

const FIELDS = ['id', 'tenantId', 'name', 'vars'] as const;

export type TenantSubstitution = { ok: true; value: ScalarValue; changed: boolean } | { ok: false; index: number; message: string; hint: string };

/**
 * Replaces every `${tenant.…}` in `text`. A whole-value reference keeps its type (a number var stays a
 * number). Without a context, or for an unknown field or var, the first failure with its offset.
 */
export function substituteTenant(text: string, tenant: TenantContext | undefined): TenantSubstitution {
  if (!text.includes('${tenant.')) return { ok: true, value: text, changed: false };
  let failure: TenantSubstitution | undefined;
  let whole: ScalarValue | undefined;
  const replaced = text.replace(TENANT_REFERENCE, (match, field: string, sub: string | undefined, index: number) => {
    if (failure) return match;
    const value = lookup(field, sub, tenant);
    if (!value.ok) {
      failure = { ok: false, index, message: value.message, hint: value.hint };
      return match;
    }
    if (match.length === text.length) whole = value.value;
    return String(value.value ?? '');
  });
  if (failure) return failure;
  return { ok: true, value: whole !== undefined ? whole : replaced, changed: true };
}

function lookup(field: string, sub: string | undefined, tenant: TenantContext | undefined): { ok: true; value: ScalarValue } | { ok: false; message: string; hint: string } {
  const name = `tenant.${field}${sub ? `.${sub}` : ''}`;
  if (!tenant) {
    return { ok: false, message: `\`\${${name}}\` is only known in a fleet run`, hint: 'run it with `exo-playbook fleet plan|apply|verify --inventory <inventory.yaml> <playbook>`, or write the value in' };
  }
  if (field === 'vars') {
    if (!sub) return { ok: false, message: '`${tenant.vars}` needs a name: `${tenant.vars.NAME}`', hint: 'vars are set per tenant (and under defaults.vars) in the inventory' };
    if (!Object.prototype.hasOwnProperty.call(tenant.vars, sub)) {
      const names = Object.keys(tenant.vars);
      return { ok: false, message: `tenant ${tenant.id} has no var \`${sub}\`${didYouMean(sub, names)}`, hint: names.length ? `its vars: ${names.join(', ')}` : 'set it under the tenant\'s vars: (or defaults.vars:) in the inventory' };
    }
    return { ok: true, value: tenant.vars[sub]! };
  }
  if (sub || !(FIELDS as readonly string[]).includes(field)) {
    return { ok: false, message: `unknown reference \`\${${name}}\`${didYouMean(field, FIELDS)}`, hint: 'tenant references are ${tenant.id}, ${tenant.tenantId}, ${tenant.name} and ${tenant.vars.NAME}' };
  }
  const value = field === 'id' ? tenant.id : field === 'tenantId' ? tenant.tenantId : tenant.name;
  if (value === undefined) return { ok: false, message: `tenant ${tenant.id} has no \`${field}\` in the inventory`, hint: `set ${field}: for it in the inventory` };
  return { ok: true, value };
}

/**
 * The playbook tree as the fleet runs it for one tenant: tenant.organization := the inventory id,
 * tenant.auth := the inventory's auth (when given). Everything else is the playbook as written.
 */
export function withTenant(root: Located, tenant: TenantContext): Located {
  if (root.kind !== 'map') return root;
  const existing = root.entries.get('tenant');
  const block: LocatedMapping = existing?.value.kind === 'map' ? { ...existing.value, entries: new Map(existing.value.entries) } : { kind: 'map', loc: root.loc, entries: new Map() };
  const organization: LocatedScalar = { kind: 'scalar', loc: tenant.idLocation, value: tenant.id, verbatim: false };
  block.entries.set('organization', { keyLoc: block.entries.get('organization')?.keyLoc ?? tenant.idLocation, value: organization });
  if (tenant.auth) block.entries.set('auth', { keyLoc: block.entries.get('auth')?.keyLoc ?? tenant.auth.loc, value: tenant.auth });
  // A partner sign-in asks for the customer's token from the tenant's own id, unless the auth names one.
  const auth = block.entries.get('auth');
  if (auth?.value.kind === 'map' && tenant.tenantId) {
    const method = auth.value.entries.get('method')?.value;
    if (method?.kind === 'scalar' && method.value === 'partner' && !auth.value.entries.has('customerTenantId')) {
      const entries = new Map(auth.value.entries);
      entries.set('customerTenantId', { keyLoc: tenant.idLocation, value: { kind: 'scalar', loc: tenant.idLocation, value: tenant.tenantId, verbatim: false } });
      block.entries.set('auth', { keyLoc: auth.keyLoc, value: { ...auth.value, entries } });
    }
  }
  const entries = new Map(root.entries);
  entries.set('tenant', { keyLoc: existing?.keyLoc ?? root.loc, value: block });
  return { ...root, entries };
}

/** What of the context the playbook hash covers (a saved plan goes stale when the tenant's inventory entry changes). */
export function tenantFingerprint(tenant: TenantContext): string {
  return JSON.stringify({ id: tenant.id, tenantId: tenant.tenantId ?? null, name: tenant.name ?? null, vars: tenant.vars });
}
