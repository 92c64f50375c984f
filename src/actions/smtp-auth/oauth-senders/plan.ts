/**
 * smtp-auth/oauth-senders, pure part: the plan (only the differences, in the order they must be
 * made: service principals, then per mailbox a scope and a role assignment or a mailbox permission,
 * then, with `exclusive`, the removals). Verify is verify.ts, the board board.ts.
 */
import { InputError, RefusedError } from '../../../errors.js';
import { isFilterSafeAddress, primarySmtpAddressFilter } from '../../../exchange/opath.js';
import { formatLocation, locateAddress, locateInStep } from '../../locate.js';
import type { Change, ResolvedPlaybookView, StepPlan } from '../../types.js';
import { isSmtpAuthState } from '../smtp-auth-state.js';
import { migrationBoard, senderTable } from './board.js';
import { assignmentChange, grantName, permissionChange, scopeChange, SEND_AS_APP_ROLE, servicePrincipalChange, type ServicePrincipalValue } from './grants.js';
import { lower, mailboxOf, senderGrants, USES, type Input } from './senders.js';

export { USES };

/** The mailboxes of the playbook's allowlist steps, by any address (entries as written and as resolved). */
function allowlisted(playbook: ResolvedPlaybookView, observations: ReadonlyMap<string, unknown>): { steps: string[]; addresses: Set<string> } {
  const steps = playbook.steps.filter((s) => s.uses === 'smtp-auth/allowlist');
  const addresses = new Set<string>();
  for (const step of steps) {
    for (const entry of (step.with as { mailboxes?: string[] }).mailboxes ?? []) addresses.add(lower(entry));
    const observed = observations.get(step.id);
    if (isSmtpAuthState(observed)) for (const r of observed.listed ?? []) if (r.mailbox) addresses.add(lower(r.mailbox));
  }
  return { steps: steps.map((s) => s.id), addresses };
}

/** Stops the plan, located, when a mailbox does not exist or is not on the allowlist (nothing is written). */
function assertMailboxes(input: Input): void {
  const { stepId, playbook } = input;
  const allow = allowlisted(playbook, input.observations);
  const problems: { message: string; location: ReturnType<typeof locateAddress> }[] = [];
  input.with.applications.forEach((app, a) => {
    const observed = input.observed.applications.find((o) => o.appId === lower(app.appId));
    observed?.mailboxes.forEach((m, i) => {
      const location = locateAddress(playbook, stepId, ['with', 'applications', a, 'mailboxes', i], m.entry);
      if (m.mailbox === null) problems.push({ message: `'${m.entry}' (app ${app.displayName}) matches no mailbox in the tenant`, location });
      else if (!isFilterSafeAddress(m.mailbox)) problems.push({ message: `'${m.mailbox}' (app ${app.displayName}) is not an address a recipient filter may carry`, location });
      else if (!m.addresses.some((x) => allow.addresses.has(x))) {
        const where = allow.steps.length ? `the allowlist (step ${allow.steps.map((s) => `'${s}'`).join(', ')})` : 'an allowlist: the playbook has no smtp-auth/allowlist step';
        problems.push({ message: `'${m.mailbox}' (app ${app.displayName}) is not on ${where}; SMTP AUTH must stay on for a mailbox that sends with OAuth`, location });
      }
    });
  });
  if (problems.length === 0) return;
  const [first, ...others] = problems;
  throw new InputError(
    `step '${stepId}': ${first!.message}` + (others.length ? `; also: ${others.map((o) => `${o.message}${o.location ? ` (${formatLocation(o.location)})` : ''}`).join('; ')}` : '') + '. Nothing was written.',
    first!.location,
    'fix the address, or add the mailbox to the allowlist step (OAuth senders stay allowlisted), then plan again',
  );
}

/** A credential the proof cannot read stops the plan, located at the credential (nothing is written). */
function assertCredentials(input: Input): void {
  for (const [a, app] of input.with.applications.entries()) {
    const problem = input.observed.credentialProblems?.[lower(app.appId)];
    if (!problem) continue;
    const key = app.credential?.clientSecret !== undefined ? 'clientSecret' : 'certificatePath';
    throw new InputError(
      `step '${input.stepId}': the credential of ${app.displayName} cannot be read: ${problem}. Nothing was written.`,
      locateInStep(input.playbook, input.stepId, ['with', 'applications', a, 'credential', key]),
      'set the environment variable or fix the file the credential names (the proof needs it), or remove credential: to provision without proof',
    );
  }
}

/** The app id exists in Exchange with another object id: refused, both ids named (exit 4). */
function assertServicePrincipals(input: Input): void {
  for (const [a, app] of input.with.applications.entries()) {
    const byApp = input.observed.servicePrincipals.find((p) => p.AppId === lower(app.appId));
    const byObject = input.observed.servicePrincipals.find((p) => p.ObjectId === lower(app.servicePrincipalObjectId));
    const clash = byApp && byApp.ObjectId !== lower(app.servicePrincipalObjectId) ? byApp : byObject && byObject.AppId !== lower(app.appId) ? byObject : undefined;
    if (!clash) continue;
    const where = formatLocation(locateInStep(input.playbook, input.stepId, ['with', 'applications', a, 'servicePrincipalObjectId']));
    throw new RefusedError(
      `step '${input.stepId}'${where ? ` (${where})` : ''}: Exchange has a service principal for app ${clash.AppId} with object id ${clash.ObjectId}, ` +
        `but the playbook declares app ${lower(app.appId)} with object id ${lower(app.servicePrincipalObjectId)}. ` +
        "One of them is wrong (the app registration's object id instead of the Enterprise application's is the usual mistake). Nothing was written.",
      'other',
      [`Exchange: AppId ${clash.AppId}, ObjectId ${clash.ObjectId}`, `playbook: AppId ${lower(app.appId)}, ObjectId ${lower(app.servicePrincipalObjectId)}`],
    );
  }
}

export function planOAuthSenders(input: Input): StepPlan {
  const { stepId, observed } = input;
  assertMailboxes(input);
  assertServicePrincipals(input);
  assertCredentials(input);
  const plan: StepPlan = { stepId, uses: USES, changes: [], inDesiredState: [], notes: [], risks: [] };
  const grantChanges: Change[] = [];
  for (const app of input.with.applications) {
    const appId = lower(app.appId);
    const objectId = lower(app.servicePrincipalObjectId);
    const sp: ServicePrincipalValue = { AppId: appId, ObjectId: objectId, DisplayName: app.displayName };
    const existing = observed.servicePrincipals.find((p) => p.AppId === appId);
    if (!existing) plan.changes.push(servicePrincipalChange(stepId, null, sp, `${app.displayName}: Exchange needs a service principal for the app before anything can be granted to it`));
    else {
      plan.inDesiredState.push(`service principal of ${app.displayName} (${appId}) exists with object id ${objectId}`);
      if (existing.DisplayName !== app.displayName) plan.notes.push(`the service principal of app ${appId} is shown as '${existing.DisplayName}' in Exchange, '${app.displayName}' in the playbook (left as it is)`);
    }
    for (const sender of senderGrants({ ...input.with, applications: [app] }, observed)) {
      const m = mailboxOf(observed, appId, sender.mailbox)!;
      if (sender.granted) {
        plan.inDesiredState.push(`${app.displayName} may already send as ${sender.mailbox} (${app.grant === 'rbac' ? SEND_AS_APP_ROLE : 'FullAccess'})`);
        continue;
      }
      if (app.grant === 'mailbox-permission') {
        grantChanges.push(permissionChange(stepId, sender.mailbox, m.id, null, { User: objectId, AccessRights: ['FullAccess'] }, `${app.displayName} sends as ${sender.mailbox}: FullAccess for its service principal (the app can also read the mailbox)`));
        continue;
      }
      const name = grantName(appId, sender.mailbox);
      const filter = primarySmtpAddressFilter(sender.mailbox);
      const scope = observed.scopes.find((s) => lower(s.Name) === lower(name));
      if (scope && scope.RecipientRestrictionFilter !== filter) {
        throw new RefusedError(`step '${stepId}': a management scope named '${name}' exists with the filter "${scope.RecipientRestrictionFilter}", not "${filter}"; this step will not reuse or replace it. Nothing was written.`, 'other');
      }
      if (!scope) grantChanges.push(scopeChange(stepId, null, { Name: name, RecipientRestrictionFilter: filter }, `a recipient scope of exactly ${sender.mailbox}, for ${app.displayName}'s role assignment`));
      grantChanges.push(
        assignmentChange(stepId, sender.mailbox, null, { Name: name, Role: SEND_AS_APP_ROLE, App: objectId, CustomResourceScope: name }, `${app.displayName} sends as ${sender.mailbox}: ${SEND_AS_APP_ROLE} in that scope only (RBAC for Applications)`),
      );
    }
  }
  plan.changes.push(...grantChanges);
  if (input.with.exclusive) plan.changes.push(...exclusiveRemovals(input));
  // Get-MailboxPermission needs a mailbox: FullAccess on mailboxes the playbook does not name cannot be listed.
  const withMailboxPermission = input.with.applications.filter((a) => a.grant === 'mailbox-permission');
  if (input.with.exclusive && withMailboxPermission.length) {
    plan.notes.push('exclusive removes SMTP.SendAsApp role assignments only: FullAccess on mailboxes the playbook does not name cannot be listed (Get-MailboxPermission reads one mailbox at a time)');
  }
  for (const sender of senderGrants(input.with, observed)) {
    if (!sender.smtpAuthOn) {
      plan.risks.push({ kind: 'warning', subject: sender.mailbox, message: `SMTP AUTH is off for ${sender.mailbox} now: OAuth submission needs it on too (the switch governs the protocol); the allowlist step turns it on`, blocking: false });
    }
  }
  plan.tables = [senderTable(input, plan.changes)];
  plan.data = { senders: migrationBoard(input, plan.changes) };
  return plan;
}

/** exclusive: every SMTP.SendAsApp role assignment that is not (a declared app, one of its declared mailboxes). */
export function exclusiveRemovals(input: Input): Change[] {
  const { observed, stepId } = input;
  const wanted = new Set<string>();
  for (const app of input.with.applications) {
    if (app.grant !== 'rbac') continue;
    for (const s of senderGrants({ ...input.with, applications: [app] }, observed)) wanted.add(`${lower(app.servicePrincipalObjectId)}\n${lower(s.mailbox)}`);
  }
  const removals: Change[] = [];
  for (const a of observed.assignments) {
    const scope = a.CustomResourceScope === null ? undefined : observed.scopes.find((s) => lower(s.Name) === lower(a.CustomResourceScope!));
    const mailbox = scope?.address ?? null;
    if (mailbox !== null && wanted.has(`${lower(a.App)}\n${mailbox}`)) continue;
    const app = observed.servicePrincipals.find((p) => p.ObjectId === lower(a.App));
    const who = app ? `${app.DisplayName} (${app.AppId})` : `service principal ${a.App}`;
    const target = mailbox ?? (a.CustomResourceScope === null ? 'Organization' : `scope ${a.CustomResourceScope}`);
    const why = a.CustomResourceScope === null ? 'organization-wide: it lets the app send as every mailbox' : mailbox === null ? `its scope '${a.CustomResourceScope}' is not one mailbox` : `the playbook does not name ${mailbox} for this app`;
    removals.push(assignmentChange(stepId, target, a, null, `exclusive: ${who} keeps no ${SEND_AS_APP_ROLE} grant the playbook does not name (${why})`));
  }
  return removals;
}

