/**
 * What smtp-auth/oauth-senders reads (reads only): the Exchange service principals, every
 * "Application SMTP.SendAsApp" role assignment and the scopes they use, the named mailboxes (through
 * the run's one bulk read) with their SMTP AUTH switch, and, for the mailbox-permission route, each
 * named mailbox's permissions for the app's service principal. JSON only: it is fingerprinted.
 */
import { withoutErrors, type PsObject, type PsValue } from '../../../exchange/session.js';
import { addressOfFilter } from '../../../exchange/opath.js';
import type { TriState } from '../../../exchange/simulator/state.js';
import type { RunContext } from '../../types.js';
import { readMailboxDirectory, readOrganizationDisabled } from '../mailbox-directory.js';
import { resolveMailboxes } from '../resolve-mailboxes.js';
import { SEND_AS_APP_ROLE, type AssignmentValue, type ScopeValue, type ServicePrincipalValue } from './grants.js';
import type { OAuthSendersWith } from './types.js';
import { senderGrants } from './senders.js';
import { proveSenders, type CredentialProblems, type ProofResult, type ProveOptions } from './proof.js';
import { simulatedProof } from './simulated-proof.js';

export interface ObservedSenderMailbox {
  /** As written. */
  entry: string;
  /** Primary SMTP address; null when no mailbox has this address. */
  mailbox: string | null;
  id?: string;
  /** The mailbox's SMTP AUTH switch. */
  value: TriState;
  /** Every address the mailbox is known by, lower-case (to match allowlist entries). */
  addresses: string[];
  /** mailbox-permission route: FullAccess for the app's service principal; null when not read (rbac, or no service principal yet). */
  fullAccess: boolean | null;
}

export interface ObservedApplication {
  appId: string;
  mailboxes: ObservedSenderMailbox[];
}

export interface OAuthSendersObserved {
  kind: 'oauth-senders';
  organizationDisabled: boolean;
  servicePrincipals: ServicePrincipalValue[];
  /** Every role assignment of "Application SMTP.SendAsApp" in the tenant. */
  assignments: AssignmentValue[];
  /** Every recipient scope, with the one address its filter names when it is a `PrimarySmtpAddress -eq` filter. */
  scopes: (ScopeValue & { address: string | null })[];
  applications: ObservedApplication[];
  /** Apps whose credential could not be read (app id → why): plan stops, located at the credential. */
  credentialProblems: CredentialProblems;
  /** Changes on every proof without the tenant changing: shown, never fingerprinted (engine/fingerprint.ts). */
  volatile: { proofs: ProofResult[] };
}

const text = (v: PsValue | undefined): string => (typeof v === 'string' ? v : '');

async function read(ctx: RunContext, cmdlet: string, parameters: Record<string, PsValue>, select: string[]): Promise<PsObject[]> {
  return withoutErrors(cmdlet, await ctx.session.invoke(cmdlet, parameters, { select })).objects;
}

export async function observeOAuthSenders(withValue: OAuthSendersWith, ctx: RunContext, proveOptions: Partial<ProveOptions> = {}): Promise<OAuthSendersObserved> {
  const [organizationDisabled, directory] = await Promise.all([readOrganizationDisabled(ctx), readMailboxDirectory(ctx)]);
  ctx.report('Reading service principals, SMTP.SendAsApp role assignments and management scopes');
  const servicePrincipals = (await read(ctx, 'Get-ServicePrincipal', {}, ['AppId', 'ObjectId', 'DisplayName'])).map((o) => ({
    AppId: text(o.AppId).toLowerCase(),
    ObjectId: text(o.ObjectId).toLowerCase(),
    DisplayName: text(o.DisplayName),
  }));
  // RoleAssignee names the service principal; whichever of its identities it shows (the simulation:
  // the ObjectId), it is kept as the ObjectId so grants compare by one id.
  const objectIdOf = (assignee: string) => {
    const a = assignee.toLowerCase();
    return (servicePrincipals.find((p) => p.ObjectId === a || p.AppId === a || p.DisplayName.toLowerCase() === a)?.ObjectId ?? a);
  };
  const assignments = (await read(ctx, 'Get-ManagementRoleAssignment', { Role: SEND_AS_APP_ROLE }, ['Name', 'Role', 'RoleAssignee', 'CustomResourceScope'])).map((o) => ({
    Name: text(o.Name),
    Role: SEND_AS_APP_ROLE,
    App: objectIdOf(text(o.RoleAssignee)),
    CustomResourceScope: typeof o.CustomResourceScope === 'string' && o.CustomResourceScope !== '' ? o.CustomResourceScope : null,
  }));
  const scopes = (await read(ctx, 'Get-ManagementScope', {}, ['Name', 'RecipientRestrictionFilter'])).map((o) => {
    const filter = text(o.RecipientRestrictionFilter);
    return { Name: text(o.Name), RecipientRestrictionFilter: filter, address: addressOfFilter(filter)?.toLowerCase() ?? null };
  });
  const applications: ObservedApplication[] = [];
  for (const app of withValue.applications) {
    const resolved = await resolveMailboxes(app.mailboxes, directory, ctx);
    const known = directory.addressesOf(resolved.flatMap((r) => (r.mailbox ? [r.mailbox] : [])));
    const sp = servicePrincipals.find((p) => p.AppId === app.appId.toLowerCase());
    const mailboxes: ObservedSenderMailbox[] = [];
    for (const r of resolved) {
      let fullAccess: boolean | null = null;
      if (r.mailbox !== null && app.grant === 'mailbox-permission' && sp) {
        const permissions = await read(ctx, 'Get-MailboxPermission', { Identity: r.id ?? r.mailbox, User: sp.ObjectId }, ['User', 'AccessRights', 'Deny']);
        fullAccess = permissions.some((p) => p.Deny !== true && Array.isArray(p.AccessRights) && p.AccessRights.some((right) => typeof right === 'string' && /^FullAccess$/i.test(right)));
      }
      const addresses = r.mailbox === null ? [] : [...new Set([r.mailbox, ...(known.get(r.mailbox) ?? [])].map((a) => a.toLowerCase()))];
      mailboxes.push({ entry: r.entry, mailbox: r.mailbox, ...(r.id ? { id: r.id } : {}), value: r.value, addresses, fullAccess });
    }
    applications.push({ appId: app.appId.toLowerCase(), mailboxes });
  }
  const observed: OAuthSendersObserved = { kind: 'oauth-senders', organizationDisabled, servicePrincipals, assignments, scopes, applications, credentialProblems: {}, volatile: { proofs: [] } };
  // Only a sender whose grant exists can be proven; the others are "Basic only" without trying.
  const granted = senderGrants(withValue, observed).filter((s) => s.granted);
  // A `sim:` target without a proof block is proven against the simulated tenant itself; a simulated
  // session the engine did not name a state file for (explain) proves nothing, but checks credentials.
  const simulated = ctx.session.kind === 'simulator' && !withValue.proof;
  const stateFile = simulated ? ctx.simulatedTenant : undefined;
  const { results, credentialProblems } = await proveSenders(withValue, simulated && !stateFile ? [] : granted, ctx, {
    tenantId: async () => {
      const name = (await read(ctx, 'Get-OrganizationConfig', {}, ['Name']))[0]?.Name;
      if (typeof name !== 'string' || name === '') throw new Error('Get-OrganizationConfig returned no Name: give proof.tenantId');
      return name;
    },
    ...(stateFile ? simulatedProof(stateFile, ctx) : {}),
    ...proveOptions,
  });
  if (simulated && !stateFile) {
    const at = ctx.now().toISOString();
    const hasCredential = new Set(withValue.applications.filter((a) => a.credential).map((a) => a.appId.toLowerCase()));
    results.push(
      ...granted.map((s) => ({
        appId: s.appId,
        mailbox: s.mailbox,
        outcome: 'not-run' as const,
        meaning: hasCredential.has(s.appId) ? 'not proven: this simulated session names no tenant file to prove against' : 'not proven: the step names no credential for this app',
        evidence: '',
        at,
      })),
    );
  }
  observed.credentialProblems = credentialProblems;
  observed.volatile.proofs = results;
  return observed;
}

export function isOAuthSendersObserved(value: unknown): value is OAuthSendersObserved {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'oauth-senders';
}
