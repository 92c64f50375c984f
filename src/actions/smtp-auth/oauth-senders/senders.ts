/**
 * The senders of smtp-auth/oauth-senders (app × mailbox) and whether each is granted, as the tenant
 * stands: shared by plan, verify, the board and observe (which proves only granted senders).
 */
import type { PlanInput } from '../../types.js';
import { effectiveSmtpAuthDisabled } from '../effective.js';
import type { AssignmentValue } from './grants.js';
import type { ObservedSenderMailbox, OAuthSendersObserved } from './observe.js';
import type { OAuthSenderApplication, OAuthSendersWith } from './types.js';

export const USES = 'smtp-auth/oauth-senders';

export type Input = PlanInput<OAuthSendersWith, OAuthSendersObserved>;

/** One sender: an app and a mailbox it sends as. */
export interface SenderGrant {
  appId: string;
  displayName: string;
  grant: OAuthSenderApplication['grant'];
  mailbox: string;
  /** The app's service principal exists in Exchange with the declared object id. */
  servicePrincipal: boolean;
  /** The grant this step makes exists (a role assignment whose scope names the mailbox, or FullAccess). */
  granted: boolean;
  /** SMTP AUTH is effectively on for the mailbox (OAuth submission needs it too). */
  smtpAuthOn: boolean;
}

export const lower = (s: string) => s.toLowerCase();

/** The role assignment (of this app) that already lets it send as `mailbox`: scoped to it, or organization-wide. */
function assignmentFor(observed: OAuthSendersObserved, objectId: string, mailbox: string): AssignmentValue | undefined {
  return observed.assignments.find((a) => {
    if (lower(a.App) !== objectId) return false;
    if (a.CustomResourceScope === null) return true;
    return observed.scopes.find((s) => lower(s.Name) === lower(a.CustomResourceScope!))?.address === lower(mailbox);
  });
}

/** Every sender (app × mailbox) as the tenant stands now. */
export function senderGrants(withValue: OAuthSendersWith, observed: OAuthSendersObserved): SenderGrant[] {
  const out: SenderGrant[] = [];
  for (const app of withValue.applications) {
    const objectId = lower(app.servicePrincipalObjectId);
    const servicePrincipal = observed.servicePrincipals.some((p) => p.AppId === lower(app.appId) && p.ObjectId === objectId);
    const seen = new Set<string>();
    for (const m of observed.applications.find((o) => o.appId === lower(app.appId))?.mailboxes ?? []) {
      if (m.mailbox === null || seen.has(lower(m.mailbox))) continue;
      seen.add(lower(m.mailbox));
      const granted = servicePrincipal && (app.grant === 'rbac' ? assignmentFor(observed, objectId, m.mailbox) !== undefined : m.fullAccess === true);
      out.push({ appId: lower(app.appId), displayName: app.displayName, grant: app.grant, mailbox: m.mailbox, servicePrincipal, granted, smtpAuthOn: !effectiveSmtpAuthDisabled(m.value, observed.organizationDisabled) });
    }
  }
  return out;
}

export function mailboxOf(observed: OAuthSendersObserved, appId: string, mailbox: string): ObservedSenderMailbox | undefined {
  return observed.applications.find((o) => o.appId === appId)?.mailboxes.find((m) => m.mailbox !== null && lower(m.mailbox) === lower(mailbox));
}

