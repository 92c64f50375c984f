/**
 * smtp-auth/oauth-senders, pure part: the plan (only the differences, in the order they must be
 * made: service principals, then per mailbox a scope and a role assignment or a mailbox permission,
 * then, with `exclusive`, the removals) and the verify findings.
 */
import { InputError, RefusedError } from '../../../errors.js';
import { isFilterSafeAddress, primarySmtpAddressFilter } from '../../../exchange/opath.js';
import { formatLocation, locateAddress, locateInStep } from '../../locate.js';
import type { Change, Finding, PlanInput, ResolvedPlaybookView, StepPlan } from '../../types.js';
import { effectiveSmtpAuthDisabled } from '../effective.js';
import { isSmtpAuthState } from '../smtp-auth-state.js';
import { assignmentChange, grantName, permissionChange, scopeChange, SEND_AS_APP_ROLE, servicePrincipalChange, type AssignmentValue, type ServicePrincipalValue } from './grants.js';
import type { ObservedSenderMailbox, OAuthSendersObserved } from './observe.js';
import type { ProofResult } from './proof.js';
import type { UsageObserved } from '../usage/index.js';
import type { OAuthSenderApplication, OAuthSendersWith } from './types.js';

export const USES = 'smtp-auth/oauth-senders';

type Input = PlanInput<OAuthSendersWith, OAuthSendersObserved>;

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

const lower = (s: string) => s.toLowerCase();

/** The role assignment (of this app) that already lets it send as `mailbox`: scoped to it, or organization-wide. */
function assignmentFor(observed: OAuthSendersObserved, objectId: string, mailbox: string): AssignmentValue | undefined {
  return observed.assignments.find((a) => {
    if (lower(a.App) !== objectId) return false;
    if (a.CustomResourceScope === null) return true;
    return observed.scopes.find((s) => lower(s.Name) === lower(a.CustomResourceScope!))?.address === lower(mailbox);
  });
}

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

function mailboxOf(observed: OAuthSendersObserved, appId: string, mailbox: string): ObservedSenderMailbox | undefined {
  return observed.applications.find((o) => o.appId === appId)?.mailboxes.find((m) => m.mailbox !== null && lower(m.mailbox) === lower(mailbox));
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
function exclusiveRemovals(input: Input): Change[] {
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

export type MigrationState = 'basic-only' | 'oauth-provisioned' | 'oauth-proven' | 'basic-stopped';

export const MIGRATION_STATE_LABEL: Record<MigrationState, string> = {
  'basic-only': 'Basic only',
  'oauth-provisioned': 'OAuth provisioned',
  'oauth-proven': 'OAuth proven',
  'basic-stopped': 'Basic stopped',
};

export interface BoardRow {
  app: string;
  appId: string;
  mailbox: string;
  grant: string;
  state: MigrationState;
  /** For a plan: the state once apply has written this plan (a proof runs in the verify after apply). */
  afterApply?: MigrationState;
  /** The proof's outcome and the server's words, when one ran. */
  proof?: string;
  /** Basic submissions of the mailbox in this run's usage evidence. */
  basicMessages?: number;
}

function proofOf(observed: OAuthSendersObserved, appId: string, mailbox: string): ProofResult | undefined {
  return observed.volatile?.proofs.find((p) => p.appId === appId && lower(p.mailbox) === lower(mailbox));
}

/** Basic submissions of a mailbox (any of its addresses) in this run's usage evidence; undefined without a usage step. */
function basicTraffic(observations: ReadonlyMap<string, unknown>, addresses: readonly string[]): { messages: number; lastSeen: string | null } | undefined {
  const usage = [...observations.values()].filter((o): o is UsageObserved => typeof o === 'object' && o !== null && (o as { kind?: unknown }).kind === 'smtp-auth-usage');
  if (usage.length === 0) return undefined;
  const wanted = new Set(addresses.map(lower));
  let messages = 0;
  let lastSeen: string | null = null;
  for (const u of usage) {
    for (const row of u.rows) {
      if (row.protocol !== 'Basic' || !wanted.has(lower(row.sender))) continue;
      messages += row.messages;
      if (row.lastSeen && (!lastSeen || row.lastSeen > lastSeen)) lastSeen = row.lastSeen;
    }
  }
  return { messages, lastSeen };
}

/**
 * Each sender's place on the way off Basic: Basic only → OAuth provisioned (the grant exists) →
 * OAuth proven (an XOAUTH2 sign-in as the mailbox succeeded in this run) → Basic stopped (proven, and
 * this run's usage evidence shows no Basic submission by the mailbox; without a usage step the
 * board never claims it).
 */
export function migrationBoard(input: Input, changes: readonly Change[] = []): BoardRow[] {
  return senderGrants(input.with, input.observed).map((s) => {
    const proof = proofOf(input.observed, s.appId, s.mailbox);
    const addresses = mailboxOf(input.observed, s.appId, s.mailbox)?.addresses ?? [s.mailbox];
    const basic = basicTraffic(input.observations, addresses);
    const state: MigrationState = !s.granted ? 'basic-only' : proof?.outcome !== 'proven' ? 'oauth-provisioned' : basic !== undefined && basic.messages === 0 ? 'basic-stopped' : 'oauth-proven';
    const planned = changes.some((c) => c.before === null && lower(c.target) === lower(s.mailbox) && (c.property === 'ManagementRoleAssignment' || c.property === 'MailboxPermission'));
    return {
      app: s.displayName,
      appId: s.appId,
      mailbox: s.mailbox,
      grant: s.grant,
      state,
      afterApply: planned ? 'oauth-provisioned' : state,
      ...(proof ? { proof: proof.evidence ? `${proof.outcome}: ${proof.evidence}` : proof.outcome } : {}),
      ...(basic ? { basicMessages: basic.messages } : {}),
    };
  });
}

function senderTable(input: Input, changes: readonly Change[]): StepPlan['tables'] extends (infer T)[] | undefined ? T : never {
  const rows = migrationBoard(input, changes).map((r) => [r.app, r.mailbox, r.grant, MIGRATION_STATE_LABEL[r.state], MIGRATION_STATE_LABEL[r.afterApply ?? r.state], r.proof ?? '']);
  return { title: 'OAuth senders (migration state)', columns: ['App', 'Mailbox', 'Grant', 'Now', 'After apply', 'Proof'], rows };
}

export function verifyOAuthSenders(input: Input): Finding[] {
  const { stepId, observed } = input;
  const findings: Finding[] = [];
  for (const app of input.with.applications) {
    const sp = observed.servicePrincipals.find((p) => p.AppId === lower(app.appId));
    findings.push({
      stepId,
      check: 'oauth-service-principal',
      status: sp && sp.ObjectId === lower(app.servicePrincipalObjectId) ? 'pass' : 'fail',
      subject: app.displayName,
      message: !sp ? `no service principal for app ${lower(app.appId)} in Exchange` : sp.ObjectId === lower(app.servicePrincipalObjectId) ? `service principal ${sp.ObjectId} for app ${sp.AppId}` : `Exchange's service principal for app ${sp.AppId} has object id ${sp.ObjectId}, the playbook declares ${lower(app.servicePrincipalObjectId)}`,
    });
  }
  const board = migrationBoard(input);
  for (const s of senderGrants(input.with, observed)) {
    const row = board.find((r) => r.appId === s.appId && lower(r.mailbox) === lower(s.mailbox))!;
    const state = row.state;
    findings.push({
      stepId,
      check: 'oauth-granted',
      status: s.granted ? 'pass' : 'fail',
      subject: s.mailbox,
      message:
        (s.granted ? `${s.displayName} may send as it (${s.grant === 'rbac' ? SEND_AS_APP_ROLE : 'FullAccess'})` : `${s.displayName} has no ${s.grant === 'rbac' ? SEND_AS_APP_ROLE + ' role assignment scoped to it' : 'FullAccess on it'}`) +
        `; migration: ${MIGRATION_STATE_LABEL[state]}`,
      data: { app: s.displayName, appId: s.appId, grant: s.grant, migrationState: state, migrationStateLabel: MIGRATION_STATE_LABEL[state], ...(row.basicMessages !== undefined ? { basicMessages: row.basicMessages } : {}) },
    });
    const proof = proofOf(observed, s.appId, s.mailbox);
    if (s.granted && proof) {
      findings.push({
        stepId,
        check: 'oauth-proven',
        status: proof.outcome === 'proven' ? 'pass' : proof.outcome === 'not-run' ? 'warn' : 'fail',
        subject: s.mailbox,
        message:
          proof.outcome === 'proven'
            ? `OAuth proven: ${s.displayName} signed in as it with XOAUTH2 (${proof.evidence})`
            : proof.outcome === 'not-run'
              ? `${s.displayName}: ${proof.meaning}`
              : `${s.displayName}: ${proof.meaning}; ${proof.outcome === 'no-token' ? 'Entra said' : 'server said'}: ${proof.evidence}`,
        data: { app: s.displayName, appId: s.appId, outcome: proof.outcome, evidence: proof.evidence, provedAt: proof.at, migrationState: state },
      });
    }
    if (state === 'oauth-proven' && row.basicMessages) {
      findings.push({
        stepId,
        check: 'oauth-basic-still-used',
        status: 'warn',
        subject: s.mailbox,
        message: `proven on OAuth, but the usage evidence still shows ${row.basicMessages} Basic submission(s) by it: the device or app still sends with Basic; switch it to OAuth before Basic goes off`,
      });
    }
    if (!s.smtpAuthOn) {
      findings.push({ stepId, check: 'oauth-smtp-auth-on', status: 'fail', subject: s.mailbox, message: 'SMTP AUTH is off for it: OAuth submission is refused too (5.7.139)' });
    }
  }
  if (input.with.exclusive) {
    const stray = exclusiveRemovals(input);
    for (const c of stray) findings.push({ stepId, check: 'oauth-no-stray-grants', status: 'fail', subject: c.target, message: c.reason.replace(/^exclusive: /, '') });
    if (stray.length === 0) findings.push({ stepId, check: 'oauth-no-stray-grants', status: 'pass', subject: SEND_AS_APP_ROLE, message: 'no role assignment the playbook does not name' });
  }
  return findings;
}
