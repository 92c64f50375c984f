/**
 * Reading back what a grant write targets, in the shape its Change carries (grants.ts): the object
 * when it exists, $null when Exchange says it does not, undefined when the read cannot tell. Apply
 * uses it after a lost reply, rollback before and after restoring (src/engine/readback.ts).
 */
import { isNotFoundRecord } from '../../../exchange/service-error.js';
import { CmdletFailure, type CmdletParameters, type ExchangeSession, type PsObject, type PsValue } from '../../../exchange/session.js';
import { SEND_AS_APP_ROLE } from './grants.js';

type Reader = (session: ExchangeSession, parameters: CmdletParameters) => Promise<PsValue | undefined>;

const text = (v: PsValue | undefined): string => (typeof v === 'string' ? v : '');

/** One Get by identity: its first object, null when the only errors say "not found", undefined otherwise. */
async function getOne(session: ExchangeSession, cmdlet: string, parameters: CmdletParameters, select: string[]): Promise<PsObject[] | null | undefined> {
  try {
    const result = await session.invoke(cmdlet, parameters, { select });
    if (result.errors.length > 0) return result.errors.every(isNotFoundRecord) ? null : undefined;
    return result.objects;
  } catch (error) {
    if (error instanceof CmdletFailure && isNotFoundRecord(error.record)) return null;
    throw error;
  }
}

const servicePrincipal: Reader = async (session, p) => {
  const identity = p.ObjectId ?? p.Identity;
  if (typeof identity !== 'string') return undefined;
  const objects = await getOne(session, 'Get-ServicePrincipal', { Identity: identity }, ['AppId', 'ObjectId', 'DisplayName']);
  if (objects === null || objects === undefined) return objects;
  const o = objects[0];
  return o ? { AppId: text(o.AppId).toLowerCase(), ObjectId: text(o.ObjectId).toLowerCase(), DisplayName: text(o.DisplayName) } : null;
};

const scope: Reader = async (session, p) => {
  const name = p.Name ?? p.Identity;
  if (typeof name !== 'string') return undefined;
  const objects = await getOne(session, 'Get-ManagementScope', { Identity: name }, ['Name', 'RecipientRestrictionFilter']);
  if (objects === null || objects === undefined) return objects;
  const o = objects[0];
  return o ? { Name: text(o.Name), RecipientRestrictionFilter: text(o.RecipientRestrictionFilter) } : null;
};

const assignment: Reader = async (session, p) => {
  const name = p.Name ?? p.Identity;
  if (typeof name !== 'string') return undefined;
  const objects = await getOne(session, 'Get-ManagementRoleAssignment', { Identity: name }, ['Name', 'Role', 'RoleAssignee', 'CustomResourceScope']);
  if (objects === null || objects === undefined) return objects;
  const o = objects[0];
  if (!o) return null;
  if (text(o.Role) !== SEND_AS_APP_ROLE) return undefined;
  return { Name: text(o.Name), Role: SEND_AS_APP_ROLE, App: text(o.RoleAssignee).toLowerCase(), CustomResourceScope: typeof o.CustomResourceScope === 'string' && o.CustomResourceScope ? o.CustomResourceScope : null };
};

const permission: Reader = async (session, p) => {
  if (typeof p.Identity !== 'string' || typeof p.User !== 'string') return undefined;
  const objects = await getOne(session, 'Get-MailboxPermission', { Identity: p.Identity, User: p.User }, ['User', 'AccessRights', 'Deny']);
  // A mailbox or a service principal that is gone holds no permission.
  if (objects === null) return null;
  if (objects === undefined) return undefined;
  const full = objects.some((o) => o.Deny !== true && Array.isArray(o.AccessRights) && o.AccessRights.some((r) => typeof r === 'string' && /^FullAccess$/i.test(r)));
  return full ? { User: p.User.toLowerCase(), AccessRights: ['FullAccess'] } : null;
};

/** Write cmdlet (lower case) → the read of what it writes. */
export const GRANT_READERS: Record<string, Reader> = {
  'new-serviceprincipal': servicePrincipal,
  'remove-serviceprincipal': servicePrincipal,
  'new-managementscope': scope,
  'remove-managementscope': scope,
  'new-managementroleassignment': assignment,
  'remove-managementroleassignment': assignment,
  'add-mailboxpermission': permission,
  'remove-mailboxpermission': permission,
};
