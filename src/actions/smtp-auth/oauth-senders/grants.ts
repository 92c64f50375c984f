/**
 * The writes of smtp-auth/oauth-senders, one builder per Exchange object, used by plan and by
 * rollback (ActionDefinition.invert) alike. Each write creates or removes one object; its values
 * (`before`/`after`) are the object itself, so the inverse is the same builder with the two swapped:
 * New-X(after) ⇄ Remove-X(before). Rollback never replays a call text from the journal.
 *
 * Microsoft's procedure (Learn, "Authenticate an IMAP, POP or SMTP connection using OAuth" and
 * "Role Based Access Control for Applications in Exchange Online"; shared/EXCHANGE-FACTS.md):
 * New-ServicePrincipal -AppId -ObjectId (the Enterprise application's object id) -DisplayName, then
 * New-ManagementScope -RecipientRestrictionFilter "PrimarySmtpAddress -eq '…'" and
 * New-ManagementRoleAssignment -App -Role "Application SMTP.SendAsApp" -CustomResourceScope, or
 * Add-MailboxPermission -User <service principal> -AccessRights FullAccess.
 */
import { createHash } from 'node:crypto';
import type { CmdletParameters, PsValue } from '../../../exchange/session.js';
import { addressOfFilter, isFilterSafeAddress, primarySmtpAddressFilter } from '../../../exchange/opath.js';
import type { Change, JournaledWrite } from '../../types.js';

export const SEND_AS_APP_ROLE = 'Application SMTP.SendAsApp';

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type GrantProperty = 'ServicePrincipal' | 'ManagementScope' | 'ManagementRoleAssignment' | 'MailboxPermission';

export interface ServicePrincipalValue {
  AppId: string;
  ObjectId: string;
  DisplayName: string;
}
export interface ScopeValue {
  Name: string;
  RecipientRestrictionFilter: string;
}
export interface AssignmentValue {
  Name: string;
  Role: string;
  /** The service principal's ObjectId. */
  App: string;
  CustomResourceScope: string | null;
}
export interface PermissionValue {
  /** The service principal's ObjectId. */
  User: string;
  AccessRights: string[];
}

/**
 * The name this step gives the scope and the role assignment of one (app, mailbox) grant: stable,
 * readable, at most 64 characters (New-ManagementRoleAssignment -Name's limit), and free of user text.
 */
export function grantName(appId: string, mailbox: string): string {
  const digest = createHash('sha256').update(`${appId.toLowerCase()}\n${mailbox.toLowerCase()}`, 'utf8').digest('hex').slice(0, 12);
  return `exo-playbook SMTP.SendAsApp ${appId.toLowerCase().slice(0, 8)}-${digest}`;
}

type Call = { cmdlet: string; parameters: CmdletParameters };

interface Built {
  target: string;
  targetId?: string;
  property: GrantProperty;
  idSuffix: string;
  create: (value: PsValue) => Call;
  remove: (value: PsValue) => Call;
}

function make(stepId: string, built: Built, before: PsValue, after: PsValue, reason: string): Change {
  const call = (from: PsValue, to: PsValue): Call => (to !== null ? built.create(to) : built.remove(from));
  return {
    id: `${stepId}:${built.target}:${built.property}${built.idSuffix}`,
    stepId,
    target: built.target,
    ...(built.targetId ? { targetId: built.targetId } : {}),
    property: built.property,
    before,
    after,
    reason,
    call: call(before, after),
    undo: call(after, before),
  };
}

const asValue = <T>(value: T): PsValue => value as unknown as PsValue;

export function servicePrincipalChange(stepId: string, before: ServicePrincipalValue | null, after: ServicePrincipalValue | null, reason: string): Change {
  const value = (after ?? before)!;
  return make(
    stepId,
    {
      target: value.AppId,
      property: 'ServicePrincipal',
      idSuffix: '',
      create: (v) => {
        const p = v as unknown as ServicePrincipalValue;
        return { cmdlet: 'New-ServicePrincipal', parameters: { AppId: p.AppId, ObjectId: p.ObjectId, DisplayName: p.DisplayName } };
      },
      remove: (v) => ({ cmdlet: 'Remove-ServicePrincipal', parameters: { Identity: (v as unknown as ServicePrincipalValue).ObjectId } }),
    },
    asValue(before),
    asValue(after),
    reason,
  );
}

export function scopeChange(stepId: string, before: ScopeValue | null, after: ScopeValue | null, reason: string): Change {
  const value = (after ?? before)!;
  return make(
    stepId,
    {
      target: value.Name,
      property: 'ManagementScope',
      idSuffix: '',
      // The filter is a parameter value (data), never script text.
      create: (v) => {
        const s = v as unknown as ScopeValue;
        return { cmdlet: 'New-ManagementScope', parameters: { Name: s.Name, RecipientRestrictionFilter: s.RecipientRestrictionFilter } };
      },
      remove: (v) => ({ cmdlet: 'Remove-ManagementScope', parameters: { Identity: (v as unknown as ScopeValue).Name } }),
    },
    asValue(before),
    asValue(after),
    reason,
  );
}

/** A role assignment, named for humans by the mailbox its scope holds. */
export function assignmentChange(stepId: string, mailbox: string, before: AssignmentValue | null, after: AssignmentValue | null, reason: string): Change {
  const value = (after ?? before)!;
  return make(
    stepId,
    {
      target: mailbox,
      property: 'ManagementRoleAssignment',
      idSuffix: `:${value.Name}`,
      create: (v) => {
        const a = v as unknown as AssignmentValue;
        return {
          cmdlet: 'New-ManagementRoleAssignment',
          parameters: { Name: a.Name, Role: a.Role, App: a.App, ...(a.CustomResourceScope !== null ? { CustomResourceScope: a.CustomResourceScope } : {}) },
        };
      },
      remove: (v) => ({ cmdlet: 'Remove-ManagementRoleAssignment', parameters: { Identity: (v as unknown as AssignmentValue).Name } }),
    },
    asValue(before),
    asValue(after),
    reason,
  );
}

/** FullAccess for a service principal; the call names the mailbox by its Guid when the read returned one. */
export function permissionChange(stepId: string, mailbox: string, mailboxId: string | undefined, before: PermissionValue | null, after: PermissionValue | null, reason: string): Change {
  const value = (after ?? before)!;
  const identity = mailboxId || mailbox;
  const params = (v: PsValue): CmdletParameters => {
    const p = v as unknown as PermissionValue;
    return { Identity: identity, User: p.User, AccessRights: [...p.AccessRights] };
  };
  return make(
    stepId,
    {
      target: mailbox,
      ...(mailboxId ? { targetId: mailboxId } : {}),
      property: 'MailboxPermission',
      idSuffix: `:${value.User}`,
      create: (v) => ({ cmdlet: 'Add-MailboxPermission', parameters: params(v) }),
      remove: (v) => ({ cmdlet: 'Remove-MailboxPermission', parameters: params(v) }),
    },
    asValue(before),
    asValue(after),
    reason,
  );
}

// ---------------------------------------------------------------------------------------------
// Rollback: the journal's values, checked to be exactly what the builders write, then swapped.

const isObject = (v: PsValue): v is { [key: string]: PsValue } => typeof v === 'object' && v !== null && !Array.isArray(v);
const isGuid = (v: PsValue | undefined): v is string => typeof v === 'string' && GUID.test(v);
const isName = (v: PsValue | undefined): v is string => typeof v === 'string' && v.trim() !== '' && v.length <= 256;

function servicePrincipalValue(v: PsValue): ServicePrincipalValue | undefined {
  if (!isObject(v) || !isGuid(v.AppId) || !isGuid(v.ObjectId) || !isName(v.DisplayName)) return undefined;
  return { AppId: v.AppId, ObjectId: v.ObjectId, DisplayName: v.DisplayName };
}

function scopeValue(v: PsValue): ScopeValue | undefined {
  if (!isObject(v) || !isName(v.Name) || typeof v.RecipientRestrictionFilter !== 'string') return undefined;
  const address = addressOfFilter(v.RecipientRestrictionFilter);
  // Only the one filter form this step writes, rebuilt from its address.
  if (address === undefined || !isFilterSafeAddress(address) || primarySmtpAddressFilter(address) !== v.RecipientRestrictionFilter) return undefined;
  return { Name: v.Name, RecipientRestrictionFilter: v.RecipientRestrictionFilter };
}

function assignmentValue(v: PsValue): AssignmentValue | undefined {
  if (!isObject(v) || !isName(v.Name) || v.Role !== SEND_AS_APP_ROLE || !isGuid(v.App)) return undefined;
  if (v.CustomResourceScope !== null && !isName(v.CustomResourceScope)) return undefined;
  return { Name: v.Name, Role: SEND_AS_APP_ROLE, App: v.App, CustomResourceScope: v.CustomResourceScope ?? null };
}

function permissionValue(v: PsValue): PermissionValue | undefined {
  if (!isObject(v) || !isGuid(v.User) || !Array.isArray(v.AccessRights) || v.AccessRights.length !== 1 || v.AccessRights[0] !== 'FullAccess') return undefined;
  return { User: v.User, AccessRights: ['FullAccess'] };
}

/** Exactly one side is an object of the kind and the other is $null (a create or a removal). */
function sides<T>(write: JournaledWrite, read: (v: PsValue) => T | undefined): { before: T | null; after: T | null } | undefined {
  const before = write.before === null ? null : read(write.before);
  const after = write.after === null ? null : read(write.after);
  if (before === undefined || after === undefined || (before === null) === (after === null)) return undefined;
  return { before, after };
}

export function invertGrantWrite(write: JournaledWrite): Change | null {
  const restore = (change: Change): Change => ({ ...change, id: write.changeId });
  const reason = write.before === null ? 'remove what the run created' : 'restore what the run removed';
  switch (write.property as GrantProperty) {
    case 'ServicePrincipal': {
      const s = sides(write, servicePrincipalValue);
      // Only a service principal the run itself created is ever removed: a create's inverse.
      if (!s || s.before !== null || s.after!.AppId.toLowerCase() !== write.target.toLowerCase()) return null;
      return restore(servicePrincipalChange(write.stepId, s.after, null, reason));
    }
    case 'ManagementScope': {
      const s = sides(write, scopeValue);
      if (!s || (s.after ?? s.before)!.Name !== write.target) return null;
      return restore(scopeChange(write.stepId, s.after, s.before, reason));
    }
    case 'ManagementRoleAssignment': {
      const s = sides(write, assignmentValue);
      // The target is a label (a mailbox, "Organization", or "scope <name>"): the call uses the values only.
      if (!s || write.target.trim() === '') return null;
      return restore(assignmentChange(write.stepId, write.target, s.after, s.before, reason));
    }
    case 'MailboxPermission': {
      const s = sides(write, permissionValue);
      if (!s || !isFilterSafeAddress(write.target) || (write.targetId !== undefined && !GUID.test(write.targetId))) return null;
      return restore(permissionChange(write.stepId, write.target, write.targetId, s.after, s.before, reason));
    }
    default:
      return null;
  }
}
