/**
 * What `explain` prints for smtp-auth/oauth-senders: each write with the playbook's values (built by
 * the step's own write builders, so the printed line is what apply sends) and, beside it, the exact
 * inverse rollback would send (derived the same way, never a replayed text).
 */
import { assignmentChange, grantName, permissionChange, scopeChange, SEND_AS_APP_ROLE, servicePrincipalChange } from '../actions/smtp-auth/oauth-senders/grants.js';
import type { OAuthSendersWith } from '../actions/smtp-auth/oauth-senders/types.js';
import { isFilterSafeAddress, primarySmtpAddressFilter } from '../exchange/opath.js';
import type { Change } from '../actions/types.js';
import { explainLine } from './calls.js';
import type { ExplainLine } from './general.js';

function withInverse(change: Change): ExplainLine[] {
  const lines: ExplainLine[] = [{ call: change.call }];
  if (change.undo) lines.push({ cmdlet: change.undo.cmdlet, comment: `undone by rollback with: ${explainLine(change.undo)}` });
  return lines;
}

export function oauthSendersWrites(stepId: string, withValue: OAuthSendersWith): ExplainLine[] {
  const lines: ExplainLine[] = [];
  for (const app of withValue.applications) {
    const appId = app.appId.toLowerCase();
    const objectId = app.servicePrincipalObjectId.toLowerCase();
    lines.push({ comment: `${app.displayName}: when Exchange has no service principal for app ${appId}:` });
    lines.push(...withInverse(servicePrincipalChange(stepId, null, { AppId: appId, ObjectId: objectId, DisplayName: app.displayName }, '')));
    lines.push({
      comment:
        app.grant === 'rbac'
          ? `for each mailbox ${app.displayName} may not yet send as (the scope names its primary address as the bulk read returns it):`
          : `for each mailbox ${app.displayName} has no FullAccess on yet (Identity is then the mailbox's Guid, as the bulk read returned it):`,
    });
    for (const mailbox of app.mailboxes) {
      if (app.grant === 'mailbox-permission') {
        lines.push(...withInverse(permissionChange(stepId, mailbox, undefined, null, { User: objectId, AccessRights: ['FullAccess'] }, '')));
        continue;
      }
      if (!isFilterSafeAddress(mailbox)) {
        lines.push({ comment: `${mailbox}: the scope filter names the mailbox's primary address, known only from the tenant` });
        continue;
      }
      const name = grantName(appId, mailbox);
      lines.push(...withInverse(scopeChange(stepId, null, { Name: name, RecipientRestrictionFilter: primarySmtpAddressFilter(mailbox) }, '')));
      lines.push(...withInverse(assignmentChange(stepId, mailbox, null, { Name: name, Role: SEND_AS_APP_ROLE, App: objectId, CustomResourceScope: name }, '')));
    }
  }
  if (withValue.exclusive) {
    lines.push({
      cmdlet: 'Remove-ManagementRoleAssignment',
      comment: `exclusive: every other "${SEND_AS_APP_ROLE}" role assignment: Remove-ManagementRoleAssignment -Identity <name> -Confirm:$false (rollback: New-ManagementRoleAssignment -Name <name> -Role '${SEND_AS_APP_ROLE}' -App <object id> -CustomResourceScope <scope> -Confirm:$false)`,
    });
    lines.push({ cmdlet: 'New-ManagementRoleAssignment', comment: 'the same New-ManagementRoleAssignment restores what exclusive removed' });
  }
  return lines;
}
