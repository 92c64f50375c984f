/**
 * The observation the allowlist and verify steps share: the organization switch, every explicit
 * mailbox override, the listed mailboxes resolved, and the authentication policies that apply to them.
 * JSON only (it is fingerprinted and saved in plans); its size grows with the overrides and the
 * allowlist, not with the tenant.
 */
import type { RunContext } from '../types.js';
import { observeAuthenticationPolicies, type AuthenticationPolicyObservation } from './authentication-policies.js';
import { readMailboxDirectory, readOrganizationDisabled, type MailboxOverride } from './mailbox-directory.js';
import { resolveMailboxes, type ResolvedMailbox } from './resolve-mailboxes.js';

export interface SmtpAuthState {
  kind: 'smtp-auth-state';
  organizationDisabled: boolean;
  totalMailboxes: number;
  /** Every mailbox whose switch is not $null. */
  overrides: MailboxOverride[];
  /** The listed mailboxes (allowlist entries), in the order written; null when the step lists none. */
  listed: ResolvedMailbox[] | null;
  authentication: AuthenticationPolicyObservation | null;
}

export async function observeSmtpAuthState(
  listed: readonly string[] | undefined,
  ctx: RunContext,
  options: { authenticationPolicies: boolean },
): Promise<SmtpAuthState> {
  const [organizationDisabled, directory] = await Promise.all([readOrganizationDisabled(ctx), readMailboxDirectory(ctx)]);
  const resolved = listed ? await resolveMailboxes(listed, directory, ctx) : null;
  const found = (resolved ?? []).flatMap((r) => (r.mailbox ? [r.mailbox] : []));
  return {
    kind: 'smtp-auth-state',
    organizationDisabled,
    totalMailboxes: directory.total,
    overrides: directory.overrides(),
    listed: resolved,
    authentication: options.authenticationPolicies && found.length > 0 ? await observeAuthenticationPolicies(found, ctx) : null,
  };
}

export function isSmtpAuthState(value: unknown): value is SmtpAuthState {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'smtp-auth-state';
}
