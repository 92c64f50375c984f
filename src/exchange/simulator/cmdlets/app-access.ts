/**
 * What an application may do with mailboxes: Exchange service principals, recipient management
 * scopes, role assignments to apps (RBAC for Applications) and mailbox permissions. The stub module's
 * AppAccess.ps1 mirrors this file. Sources:
 * - *-ServicePrincipal: https://learn.microsoft.com/powershell/module/exchange/new-serviceprincipal
 *   (-AppId, -ObjectId: the Enterprise application's object id; -ServiceId is the older name of it),
 *   get-serviceprincipal, remove-serviceprincipal (-Identity: the display name, AppId or ObjectId).
 * - New-ManagementScope -RecipientRestrictionFilter, New-ManagementRoleAssignment -App -Role
 *   -CustomResourceScope: https://learn.microsoft.com/exchange/permissions-exo/application-rbac and
 *   the SMTP onboarding for it ("Application SMTP.SendAsApp", shared/EXCHANGE-FACTS.md).
 * - Add-/Get-/Remove-MailboxPermission -User -AccessRights FullAccess: Microsoft Learn, "Authenticate
 *   an IMAP, POP or SMTP connection using OAuth" (the service principal as the trustee).
 * Parameters: shared/exo-migration-cmdlets.json (Microsoft's syntax blocks).
 */
import type { PsObject } from '../../session.js';
import { addressOfFilter } from '../../opath.js';
import type { SimManagementRoleAssignment, SimManagementScope, SimMailboxPermission, SimServicePrincipal, TenantState } from '../state.js';
import { CLR, type ParameterSpec } from '../parameters.js';
import { alreadyExists, objectNotFound, taskArgumentError } from '../records.js';
import { NO_OUTPUT, stringParameter, type CmdletContext, type CmdletDefinition } from './context.js';

/** The application roles of RBAC for Applications (Microsoft Learn, application-rbac, "Supported Application Roles"). */
export const APPLICATION_ROLES = [
  'Application Mail.Read',
  'Application Mail.ReadBasic',
  'Application Mail.ReadWrite',
  'Application Mail.Send',
  'Application MailboxSettings.Read',
  'Application MailboxSettings.ReadWrite',
  'Application Calendars.Read',
  'Application Calendars.ReadWrite',
  'Application Contacts.Read',
  'Application Contacts.ReadWrite',
  'Application Mail Full Access',
  'Application Exchange Full Access',
  'Application EWS.AccessAsApp',
  'Application SMTP.SendAsApp',
] as const;

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** -Confirm and -WhatIf, as every writing cmdlet here has them (shared/exo-migration-cmdlets.json). */
const CONFIRM_WHATIF: ParameterSpec[] = [
  { name: 'Confirm', type: 'switch', clr: CLR.switch },
  { name: 'WhatIf', type: 'switch', clr: CLR.switch },
];
/** Remove-ServicePrincipal, Remove-ManagementScope, Remove-ManagementRoleAssignment. */
const REMOVE_BY_IDENTITY: ParameterSpec[] = [{ name: 'Identity', type: 'string', clr: CLR.object, mandatory: true }, ...CONFIRM_WHATIF];
/** Add-/Remove-MailboxPermission (the AccessRights parameter set). */
const PERMISSION_WRITE: ParameterSpec[] = [
  { name: 'Identity', type: 'string', clr: CLR.object, mandatory: true },
  { name: 'User', type: 'string', clr: CLR.object, mandatory: true },
  { name: 'AccessRights', type: 'string[]', clr: CLR.objects, mandatory: true },
  ...CONFIRM_WHATIF,
];

/** A Get-* by optional -Identity: every object, or the one it names (else the not-found record). */
function getByIdentity<T>(context: CmdletContext, all: readonly T[], find: (identity: string) => T | undefined, view: (item: T) => PsObject): PsObject[] {
  const identity = stringParameter(context, 'Identity');
  if (identity === undefined) return all.map(view);
  const found = find(identity);
  if (found) return [view(found)];
  context.writeError(objectNotFound(context.cmdlet, identity, context.tenant.server));
  return [];
}

/** The object -Identity names, or undefined with the not-found record written. */
function named<T>(context: CmdletContext, find: (identity: string) => T | undefined): T | undefined {
  const identity = stringParameter(context, 'Identity') ?? '';
  const found = find(identity);
  if (found === undefined) context.writeError(objectNotFound(context.cmdlet, identity, context.tenant.server));
  return found;
}

/** Adds a created object to its section, logs the change, and returns its view. */
function created<T>(context: CmdletContext, section: 'servicePrincipals' | 'managementScopes' | 'managementRoleAssignments', list: T[], item: T, view: (item: T) => PsObject): PsObject[] {
  list.push(item);
  context.changed({ section });
  return [view(item)];
}

function servicePrincipals(state: TenantState): SimServicePrincipal[] {
  return (state.servicePrincipals ??= []);
}

/** -Identity of a service principal: its ObjectId, AppId or DisplayName (the reference's ServicePrincipalIdParameter). */
export function findServicePrincipal(state: TenantState, identity: string): SimServicePrincipal | undefined {
  const list = state.servicePrincipals ?? [];
  return list.find((p) => same(p.ObjectId, identity)) ?? list.find((p) => same(p.AppId, identity)) ?? list.find((p) => same(p.DisplayName, identity));
}

function servicePrincipalView(p: SimServicePrincipal): PsObject {
  return { Identity: p.ObjectId, DisplayName: p.DisplayName, AppId: p.AppId, ObjectId: p.ObjectId };
}

function scopeView(s: SimManagementScope): PsObject {
  return { Identity: s.Name, Name: s.Name, RecipientRestrictionFilter: s.RecipientRestrictionFilter, ScopeRestrictionType: 'RecipientScope', Exclusive: false };
}

function assignmentView(state: TenantState, a: SimManagementRoleAssignment): PsObject {
  const app = (state.servicePrincipals ?? []).find((p) => same(p.ObjectId, a.App));
  return {
    Identity: a.Name,
    Name: a.Name,
    Role: a.Role,
    RoleAssignee: a.App,
    RoleAssigneeName: app?.DisplayName ?? a.App,
    RoleAssigneeType: 'ServicePrincipal',
    CustomResourceScope: a.CustomResourceScope,
    Enabled: true,
  };
}

export const newServicePrincipal: CmdletDefinition = {
  parameters: [
    { name: 'AppId', type: 'string', clr: CLR.string, mandatory: true },
    { name: 'ObjectId', type: 'string', clr: CLR.string },
    { name: 'ServiceId', type: 'string', clr: CLR.string },
    { name: 'DisplayName', type: 'string', clr: CLR.string },
    ...CONFIRM_WHATIF,
  ],
  run(context) {
    const state = context.tenant.state;
    const appId = stringParameter(context, 'AppId') ?? '';
    // -ServiceId is the older name of the same value (the reference lists both; -ObjectId replaces it).
    const objectId = stringParameter(context, 'ObjectId') ?? stringParameter(context, 'ServiceId');
    if (!objectId) {
      context.writeError(taskArgumentError(context.cmdlet, 'MissingObjectId', 'The ObjectId parameter is required: the object id of the Enterprise application (service principal) in Microsoft Entra ID.'));
      return NO_OUTPUT;
    }
    const existing = (state.servicePrincipals ?? []).find((p) => same(p.AppId, appId) || same(p.ObjectId, objectId));
    if (existing) {
      context.writeError(
        alreadyExists(context.cmdlet, `A service principal for AppId '${existing.AppId}' already exists with ObjectId '${existing.ObjectId}'.`, existing.ObjectId),
      );
      return NO_OUTPUT;
    }
    // With an Entra side in the state, the object id must be the app's Enterprise application.
    const entra = state.entra?.applications;
    if (entra) {
      const app = entra.find((a) => same(a.appId, appId));
      if (!app || !same(app.servicePrincipalObjectId, objectId)) {
        const hint = app?.applicationObjectId && same(app.applicationObjectId, objectId) ? " That is the app registration's object id; use the Enterprise application's object id." : '';
        context.writeError(
          taskArgumentError(context.cmdlet, 'ServicePrincipalNotFound', `No service principal with ObjectId '${objectId}' and AppId '${appId}' was found in Microsoft Entra ID.${hint}`, objectId),
        );
        return NO_OUTPUT;
      }
    }
    const sp: SimServicePrincipal = { AppId: appId.toLowerCase(), ObjectId: objectId.toLowerCase(), DisplayName: stringParameter(context, 'DisplayName') ?? appId };
    return created(context, 'servicePrincipals', servicePrincipals(state), sp, servicePrincipalView);
  },
};

export const getServicePrincipal: CmdletDefinition = {
  parameters: [{ name: 'Identity', type: 'string', clr: CLR.object }],
  run: (context) => getByIdentity(context, context.tenant.state.servicePrincipals ?? [], (identity) => findServicePrincipal(context.tenant.state, identity), servicePrincipalView),
};

export const removeServicePrincipal: CmdletDefinition = {
  parameters: REMOVE_BY_IDENTITY,
  run(context) {
    const state = context.tenant.state;
    const found = named(context, (identity) => findServicePrincipal(state, identity));
    if (!found) return NO_OUTPUT;
    // Fail closed: a service principal that still holds role assignments or mailbox permissions is kept.
    const holds = (state.managementRoleAssignments ?? []).filter((a) => same(a.App, found.ObjectId)).length + (state.mailboxPermissions ?? []).filter((p) => same(p.User, found.ObjectId)).length;
    if (holds > 0) {
      context.writeError(taskArgumentError(context.cmdlet, 'ServicePrincipalInUse', `The service principal '${found.ObjectId}' still has ${holds} role assignment(s) or mailbox permission(s); remove them first.`, found.ObjectId));
      return NO_OUTPUT;
    }
    state.servicePrincipals = servicePrincipals(state).filter((p) => p !== found);
    context.changed({ section: 'servicePrincipals' });
    return NO_OUTPUT;
  },
};

export const newManagementScope: CmdletDefinition = {
  parameters: [
    { name: 'Name', type: 'string', clr: CLR.string, mandatory: true },
    { name: 'RecipientRestrictionFilter', type: 'string', clr: CLR.string, mandatory: true },
    ...CONFIRM_WHATIF,
  ],
  run(context) {
    const state = context.tenant.state;
    const name = stringParameter(context, 'Name') ?? '';
    const filter = stringParameter(context, 'RecipientRestrictionFilter') ?? '';
    if ((state.managementScopes ?? []).some((s) => same(s.Name, name))) {
      context.writeError(alreadyExists(context.cmdlet, `The management scope '${name}' already exists.`, name));
      return NO_OUTPUT;
    }
    if (addressOfFilter(filter) === undefined) {
      context.writeError(
        taskArgumentError(context.cmdlet, 'SimulatorUnsupportedFilter', `The simulated tenant supports only recipient filters of the form "PrimarySmtpAddress -eq '<address>'", not "${filter}".`, name),
      );
      return NO_OUTPUT;
    }
    return created(context, 'managementScopes', (state.managementScopes ??= []), { Name: name, RecipientRestrictionFilter: filter }, scopeView);
  },
};

export const getManagementScope: CmdletDefinition = {
  parameters: [{ name: 'Identity', type: 'string', clr: CLR.object }],
  run(context) {
    const scopes = context.tenant.state.managementScopes ?? [];
    return getByIdentity(context, scopes, (identity) => scopes.find((s) => same(s.Name, identity)), scopeView);
  },
};

export const removeManagementScope: CmdletDefinition = {
  parameters: REMOVE_BY_IDENTITY,
  run(context) {
    const state = context.tenant.state;
    const found = named(context, (identity) => (state.managementScopes ?? []).find((s) => same(s.Name, identity)));
    if (!found) return NO_OUTPUT;
    // A scope that role assignments still use is not removed (Remove-ManagementScope reference).
    const users = (state.managementRoleAssignments ?? []).filter((a) => a.CustomResourceScope !== null && same(a.CustomResourceScope, found.Name)).map((a) => a.Name);
    if (users.length > 0) {
      context.writeError(taskArgumentError(context.cmdlet, 'ScopeInUse', `The management scope '${found.Name}' is used by the role assignment(s) ${users.join(', ')} and can't be removed.`, found.Name));
      return NO_OUTPUT;
    }
    state.managementScopes = (state.managementScopes ?? []).filter((s) => s !== found);
    context.changed({ section: 'managementScopes' });
    return NO_OUTPUT;
  },
};

export const newManagementRoleAssignment: CmdletDefinition = {
  parameters: [
    { name: 'Name', type: 'string', clr: CLR.string },
    { name: 'Role', type: 'string', clr: CLR.object, mandatory: true },
    { name: 'App', type: 'string', clr: CLR.object, mandatory: true },
    { name: 'CustomResourceScope', type: 'string', clr: CLR.object },
    ...CONFIRM_WHATIF,
  ],
  run(context) {
    const state = context.tenant.state;
    const role = APPLICATION_ROLES.find((r) => same(r, stringParameter(context, 'Role') ?? ''));
    const appIdentity = stringParameter(context, 'App') ?? '';
    const app = findServicePrincipal(state, appIdentity);
    const scopeName = stringParameter(context, 'CustomResourceScope');
    const scope = scopeName === undefined ? undefined : (state.managementScopes ?? []).find((s) => same(s.Name, scopeName));
    const missing = !role ? (stringParameter(context, 'Role') ?? '') : !app ? appIdentity : scopeName !== undefined && !scope ? scopeName : undefined;
    if (missing !== undefined) {
      context.writeError(objectNotFound(context.cmdlet, missing, context.tenant.server));
      return NO_OUTPUT;
    }
    // The name the service makes when none is given: "<role>-<assignee>", at most 64 characters.
    const name = stringParameter(context, 'Name') ?? `${role}-${app!.DisplayName}`.slice(0, 64);
    if ((state.managementRoleAssignments ?? []).some((a) => same(a.Name, name))) {
      context.writeError(alreadyExists(context.cmdlet, `The role assignment '${name}' already exists.`, name));
      return NO_OUTPUT;
    }
    const assignment: SimManagementRoleAssignment = { Name: name, Role: role!, App: app!.ObjectId, CustomResourceScope: scope?.Name ?? null };
    return created(context, 'managementRoleAssignments', (state.managementRoleAssignments ??= []), assignment, (a) => assignmentView(state, a));
  },
};

export const getManagementRoleAssignment: CmdletDefinition = {
  parameters: [
    { name: 'Identity', type: 'string', clr: CLR.object },
    { name: 'Role', type: 'string', clr: CLR.object },
    { name: 'RoleAssignee', type: 'string', clr: CLR.object },
  ],
  run(context) {
    const state = context.tenant.state;
    const identity = stringParameter(context, 'Identity');
    const role = stringParameter(context, 'Role');
    const assignee = stringParameter(context, 'RoleAssignee');
    const app = assignee === undefined ? undefined : findServicePrincipal(state, assignee);
    const all = state.managementRoleAssignments ?? [];
    if (identity !== undefined && !all.some((a) => same(a.Name, identity))) {
      context.writeError(objectNotFound(context.cmdlet, identity, context.tenant.server));
      return NO_OUTPUT;
    }
    return all
      .filter((a) => (identity === undefined || same(a.Name, identity)) && (role === undefined || same(a.Role, role)) && (assignee === undefined || (app !== undefined && same(a.App, app.ObjectId))))
      .map((a) => assignmentView(state, a));
  },
};

export const removeManagementRoleAssignment: CmdletDefinition = {
  parameters: REMOVE_BY_IDENTITY,
  run(context) {
    const state = context.tenant.state;
    const found = named(context, (identity) => (state.managementRoleAssignments ?? []).find((a) => same(a.Name, identity)));
    if (!found) return NO_OUTPUT;
    state.managementRoleAssignments = (state.managementRoleAssignments ?? []).filter((a) => a !== found);
    context.changed({ section: 'managementRoleAssignments' });
    return NO_OUTPUT;
  },
};

function permissionView(context: CmdletContext, p: SimMailboxPermission): PsObject {
  const mailbox = context.tenant.findMailbox(p.Mailbox);
  return { Identity: mailbox?.Name ?? p.Mailbox, User: p.User, AccessRights: [...p.AccessRights], IsInherited: false, Deny: false };
}

/** The mailbox and the trustee of a permission call, or an error record written and undefined. */
function permissionTarget(context: CmdletContext): { mailbox: string; user: string } | undefined {
  const identity = stringParameter(context, 'Identity') ?? '';
  const mailbox = context.tenant.findMailbox(identity);
  if (!mailbox) {
    context.writeError(objectNotFound(context.cmdlet, identity, context.tenant.server));
    return undefined;
  }
  const userIdentity = stringParameter(context, 'User');
  if (userIdentity === undefined) return { mailbox: mailbox.Guid, user: '' };
  const user = findServicePrincipal(context.tenant.state, userIdentity);
  if (!user) {
    context.writeError(objectNotFound(context.cmdlet, userIdentity, context.tenant.server));
    return undefined;
  }
  return { mailbox: mailbox.Guid, user: user.ObjectId };
}

function permissionEntry(state: TenantState, target: { mailbox: string; user: string }): SimMailboxPermission | undefined {
  return (state.mailboxPermissions ?? []).find((p) => same(p.Mailbox, target.mailbox) && same(p.User, target.user));
}

const rightsOf = (context: CmdletContext) => ((context.parameters.values.get('AccessRights') as string[] | undefined) ?? []).map((r) => (same(r, 'FullAccess') ? 'FullAccess' : r));

export const addMailboxPermission: CmdletDefinition = {
  parameters: PERMISSION_WRITE,
  run(context) {
    const target = permissionTarget(context);
    if (!target) return NO_OUTPUT;
    const rights = rightsOf(context);
    const state = context.tenant.state;
    let entry = permissionEntry(state, target);
    if (!entry) {
      entry = { Mailbox: target.mailbox, User: target.user, AccessRights: [] };
      (state.mailboxPermissions ??= []).push(entry);
    }
    const added = rights.filter((r) => !entry.AccessRights.includes(r));
    if (added.length > 0) {
      entry.AccessRights.push(...added);
      context.changed({ section: 'mailboxPermissions' });
    }
    return [permissionView(context, entry)];
  },
};

export const getMailboxPermission: CmdletDefinition = {
  parameters: [
    { name: 'Identity', type: 'string', clr: CLR.object, mandatory: true },
    { name: 'User', type: 'string', clr: CLR.object },
  ],
  run(context) {
    const target = permissionTarget(context);
    if (!target) return NO_OUTPUT;
    return (context.tenant.state.mailboxPermissions ?? [])
      .filter((p) => same(p.Mailbox, target.mailbox) && (target.user === '' || same(p.User, target.user)))
      .map((p) => permissionView(context, p));
  },
};

export const removeMailboxPermission: CmdletDefinition = {
  parameters: PERMISSION_WRITE,
  run(context) {
    const target = permissionTarget(context);
    if (!target) return NO_OUTPUT;
    const rights = rightsOf(context);
    const state = context.tenant.state;
    const entry = permissionEntry(state, target);
    if (!entry || !rights.some((r) => entry.AccessRights.includes(r))) {
      const name = context.tenant.findMailbox(target.mailbox)?.Name ?? target.mailbox;
      context.warn(`Can't remove the access control entry on the object "${name}" for account "${target.user}" because the ACE doesn't exist on the object.`);
      return NO_OUTPUT;
    }
    entry.AccessRights = entry.AccessRights.filter((r) => !rights.includes(r));
    if (entry.AccessRights.length === 0) state.mailboxPermissions = (state.mailboxPermissions ?? []).filter((p) => p !== entry);
    context.changed({ section: 'mailboxPermissions' });
    return NO_OUTPUT;
  },
};

/** Whether an app may send as a mailbox in this state (the SMTP fake's and the simulated prober's check). */
export function appMaySendAs(state: TenantState, appId: string, mailboxGuid: string, mailboxAddress: string): boolean {
  const app = (state.servicePrincipals ?? []).find((p) => same(p.AppId, appId));
  if (!app) return false;
  const consented = state.entra?.applications.find((a) => same(a.appId, appId))?.smtpSendAsAppConsented ?? true;
  // FullAccess works with the SMTP.SendAsApp application permission consented in Entra (Microsoft Learn, OAuth for IMAP/POP/SMTP).
  if (consented && (state.mailboxPermissions ?? []).some((p) => same(p.User, app.ObjectId) && same(p.Mailbox, mailboxGuid) && p.AccessRights.includes('FullAccess'))) return true;
  // RBAC for Applications: no Entra permission needed; the scope must name the mailbox.
  return (state.managementRoleAssignments ?? []).some((a) => {
    if (!same(a.App, app.ObjectId) || !same(a.Role, 'Application SMTP.SendAsApp')) return false;
    if (a.CustomResourceScope === null) return true;
    const scope = (state.managementScopes ?? []).find((s) => same(s.Name, a.CustomResourceScope!));
    const address = scope ? addressOfFilter(scope.RecipientRestrictionFilter) : undefined;
    return address !== undefined && same(address, mailboxAddress);
  });
}
