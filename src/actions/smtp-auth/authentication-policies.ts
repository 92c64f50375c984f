/**
 * Whether an authentication policy blocks Basic SMTP AUTH for given mailboxes: the user's own policy
 * (Get-User .AuthenticationPolicy), else the organization default (Get-OrganizationConfig
 * .DefaultAuthenticationPolicy); blocked when that policy has AllowBasicAuthSmtp $false.
 *
 * Assignments are read in ONE call whatever the allowlist's size: Get-User with the server-side filter
 * `AuthenticationPolicy -ne $null` returns only the users that have a policy of their own (usually a
 * few). AuthenticationPolicy is a documented filterable property of Get-User ("Filterable properties
 * for the Filter parameter", learn.microsoft.com/powershell/exchange/filter-properties: "String
 * (wildcards accepted) or $null"). The filter text is a constant: no user value is ever put in it.
 * Users are matched to mailboxes through the run's bulk mailbox read (UPN, then primary address).
 */
import { SessionError } from '../../errors.js';
import { withoutErrors } from '../../exchange/session.js';
import type { RunContext } from '../types.js';
import { readMailboxDirectory } from './mailbox-directory.js';

/** The one Get-User call: users with a policy of their own. */
export const USERS_WITH_POLICY_FILTER = 'AuthenticationPolicy -ne $null';

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
  // The three reads are independent: asked for together, they share one round trip when the run
  // has more than one session (apply --concurrency, src/engine/spread-reads.ts); with one they queue.
  const [defaultPolicy, policies, ownPolicies, directory] = await Promise.all([
    ctx.shared('organization-config', async () => {
      const { objects } = withoutErrors('Get-OrganizationConfig', await ctx.session.invoke('Get-OrganizationConfig', {}, { select: ['DefaultAuthenticationPolicy'] }));
      if (objects.length !== 1) throw new SessionError(`Get-OrganizationConfig returned ${objects.length} objects: the default authentication policy is unknown`);
      const name = objects[0]?.DefaultAuthenticationPolicy;
      return typeof name === 'string' && name.length > 0 ? name : null;
    }),
    ctx.shared('authentication-policies', async () => {
      const { objects } = withoutErrors('Get-AuthenticationPolicy', await ctx.session.invoke('Get-AuthenticationPolicy', {}, { select: ['Name', 'AllowBasicAuthSmtp'] }));
      const byName: Record<string, boolean> = {};
      for (const policy of objects) {
        if (typeof policy.Name === 'string') byName[policy.Name] = policy.AllowBasicAuthSmtp !== false;
      }
      return byName;
    }),
    readOwnPolicies(ctx),
    readMailboxDirectory(ctx),
  ]);
  const assigned: Record<string, string | null> = {};
  // A mailbox may be named by any of its addresses (a probe's canary by its UPN): match by its primary.
  for (const mailbox of [...new Set(mailboxes)].sort()) assigned[mailbox] = ownPolicies.get((directory.resolve(mailbox) ?? mailbox).toLowerCase()) ?? null;
  return { defaultPolicy, policies, assigned };
}

/** Primary address (lower case) → the policy the user has of its own; read once per run. */
function readOwnPolicies(ctx: RunContext): Promise<Map<string, string>> {
  return ctx.shared('user-policies', async () => {
    const directory = await readMailboxDirectory(ctx);
    const own = new Map<string, string>();
    // A failed Get-User is not "the default policy applies": its error ends the stream and the run.
    // Throttled part-way, it starts over from the first user (onRestart drops what was read).
    const users = ctx.session.stream('Get-User', { Filter: USERS_WITH_POLICY_FILTER, ResultSize: 'Unlimited' }, {
      select: ['AuthenticationPolicy', 'UserPrincipalName', 'WindowsEmailAddress'],
      onRestart: () => own.clear(),
    });
    for await (const user of users) {
      const name = user.AuthenticationPolicy;
      if (typeof name !== 'string' || name.length === 0) continue;
      for (const key of [user.UserPrincipalName, user.WindowsEmailAddress]) {
        const primary = typeof key === 'string' && key.length > 0 ? directory.resolve(key) : undefined;
        if (primary) {
          own.set(primary.toLowerCase(), name);
          break;
        }
      }
    }
    return own;
  });
}

/** The policy that blocks Basic SMTP AUTH for the mailbox, or null when none does. */
export function blockingPolicy(observation: AuthenticationPolicyObservation, mailbox: string): string | null {
  const name = observation.assigned[mailbox] ?? observation.defaultPolicy;
  if (name === null) return null;
  return observation.policies[name] === false ? name : null;
}
