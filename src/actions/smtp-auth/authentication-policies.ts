/**
 * Whether an authentication policy blocks Basic SMTP AUTH for given mailboxes: the user's own policy
 * (Get-User .AuthenticationPolicy), else the organization default (Get-OrganizationConfig
 * .DefaultAuthenticationPolicy); blocked when that policy has AllowBasicAuthSmtp $false. Read only
 * for the allowlisted mailboxes, never for the whole tenant.
 */
import { SessionError } from '../../errors.js';
import { withoutErrors } from '../../exchange/session.js';
import type { RunContext } from '../types.js';

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
      const { objects } = withoutErrors('Get-OrganizationConfig', await ctx.session.invoke('Get-OrganizationConfig'));
      if (objects.length !== 1) throw new SessionError(`Get-OrganizationConfig returned ${objects.length} objects: the default authentication policy is unknown`);
      const name = objects[0]?.DefaultAuthenticationPolicy;
      return typeof name === 'string' && name.length > 0 ? name : null;
    }),
    ctx.shared('authentication-policies', async () => {
      const { objects } = withoutErrors('Get-AuthenticationPolicy', await ctx.session.invoke('Get-AuthenticationPolicy'));
      const byName: Record<string, boolean> = {};
      for (const policy of objects) {
        if (typeof policy.Name === 'string') byName[policy.Name] = policy.AllowBasicAuthSmtp !== false;
      }
      return byName;
    }),
  ]);
  const assigned: Record<string, string | null> = {};
  for (const mailbox of [...new Set(mailboxes)].sort()) {
    assigned[mailbox] = await ctx.shared(`user-policy:${mailbox.toLowerCase()}`, async () => {
      // A failed Get-User is not "the default policy applies": it fails the run.
      const { objects } = withoutErrors('Get-User', await ctx.session.invoke('Get-User', { Identity: mailbox }));
      if (objects.length !== 1) throw new SessionError(`Get-User -Identity ${mailbox} returned ${objects.length} objects: its authentication policy is unknown`);
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
