/**
 * Whether an authentication policy blocks Basic SMTP AUTH for given mailboxes: the user's own policy
 * (Get-User .AuthenticationPolicy), else the organization default (Get-OrganizationConfig
 * .DefaultAuthenticationPolicy); blocked when that policy has AllowBasicAuthSmtp $false. Read only
 * for the allowlisted mailboxes, never for the whole tenant.
 */
import { SessionError } from '../../errors.js';
import type { RunContext } from '../types.js';
import { readMailboxDirectory } from './mailbox-directory.js';

export interface AuthenticationPolicyObservation {
  defaultPolicy: string | null;
  /** Policy name → AllowBasicAuthSmtp. */
  policies: Record<string, boolean>;
  /** Mailbox primary address → its own policy name (null: the default applies). */
  assigned: Record<string, string | null>;
}

export async function observeAuthenticationPolicies(
  mailboxes: readonly string[],
  ctx: RunContext,
): Promise<AuthenticationPolicyObservation> {
  const [defaultPolicy, policies] = await Promise.all([
    ctx.shared('organization-config', async () => {
      const { objects } = await ctx.session.invoke('Get-OrganizationConfig');
      const name = objects[0]?.DefaultAuthenticationPolicy;
      return typeof name === 'string' && name.length > 0 ? name : null;
    }),
    ctx.shared('authentication-policies', async () => {
      const { objects } = await ctx.session.invoke('Get-AuthenticationPolicy');
      const byName: Record<string, boolean> = {};
      for (const policy of objects) {
        if (typeof policy.Name === 'string') byName[policy.Name] = policy.AllowBasicAuthSmtp !== false;
      }
      return byName;
    }),
  ]);
  const assigned: Record<string, string | null> = {};
  const directory = await readMailboxDirectory(ctx);
  for (const mailbox of [...new Set(mailboxes)].sort()) {
    assigned[mailbox] = await ctx.shared(`user-policy:${mailbox.toLowerCase()}`, async () => {
      // Get-User -Identity takes a name, UPN, DN or GUID, not a proxy address (Microsoft's Get-User
      // reference; EXCHANGE-FACTS.md): the mailbox's Guid from the bulk read names the user exactly.
      const id = directory.idOf(mailbox);
      if (!id) throw new SessionError(`cannot read the authentication policy of ${mailbox}: the mailbox read returned no Guid for it`);
      const { objects } = await ctx.session.invoke('Get-User', { Identity: id });
      const name = objects[0]?.AuthenticationPolicy;
      return typeof name === 'string' && name.length > 0 ? name : null;
    });
  }
  return { defaultPolicy, policies, assigned };
}

/** The policy that blocks Basic SMTP AUTH for the mailbox, or null when none does. */
export function blockingPolicy(observation: AuthenticationPolicyObservation, mailbox: string): string | null {
  const name = observation.assigned[mailbox] ?? observation.defaultPolicy;
  if (name === null) return null;
  return observation.policies[name] === false ? name : null;
}
