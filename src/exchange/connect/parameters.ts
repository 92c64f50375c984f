/**
 * The Connect-ExchangeOnline parameters every sign-in shares, and the token sign-in's own. Pure:
 * the connector decides which to use, these only shape the data the session binds by name.
 */
import type { CmdletParameters } from '../session.js';

/** What one Connect-ExchangeOnline call sends: parameters plus the names whose values are secret. */
export interface ConnectRequest {
  parameters: CmdletParameters;
  /** Passed as InvokeOptions.secretParameters, so the session redacts them in every log and error. */
  secretParameters: string[];
}

/** Cmdlets that are never part of -CommandName: the module always has them. */
const SESSION_CMDLETS = new Set(['connect-exchangeonline', 'disconnect-exchangeonline']);

/**
 * -CommandName keeps the module from importing hundreds of proxies the run never calls (start time
 * and memory); the list is deduplicated case-insensitively, first spelling wins, order kept.
 */
export function commandNames(cmdlets: readonly string[]): string[] {
  const seen = new Set<string>();
  const names: string[] = [];
  for (const cmdlet of cmdlets) {
    const key = cmdlet.toLowerCase();
    if (SESSION_CMDLETS.has(key) || seen.has(key)) continue;
    seen.add(key);
    names.push(cmdlet);
  }
  return names;
}

/** Parameters of every connect: no banner, no format data (we never format), only the cmdlets needed. */
export function baseConnectParameters(organization: string, cmdlets: readonly string[]): CmdletParameters {
  const parameters: CmdletParameters = {
    Organization: organization,
    ShowBanner: false,
    SkipLoadingFormatData: true,
  };
  const names = commandNames(cmdlets);
  // An empty -CommandName would import nothing at all; leave it out and let the module decide.
  if (names.length > 0) parameters.CommandName = names;
  return parameters;
}

/** Which parameter names the tenant (or user) a token sign-in goes to. */
export type TokenPartnerParameter =
  | { kind: 'organization' }
  | { kind: 'user'; userPrincipalName: string }
  /** A partner managing a customer: the customer's primary domain or tenant id. */
  | { kind: 'delegated-organization' };

/**
 * Token sign-in: the runner got a token; the module only uses it. Microsoft's Connect-ExchangeOnline
 * reference (learn.microsoft.com/powershell/module/exchangepowershell/connect-exchangeonline,
 * parameter AccessToken, module 3.1+): "depending on the type of access token", it goes with
 * Organization, DelegatedOrganization or UserPrincipalName, one of them: an app-only token with
 * -Organization, a delegated one with -UserPrincipalName (the token's user), a partner's token for a
 * customer with -DelegatedOrganization (the customer organization to manage: its primary
 * .onmicrosoft.com domain or tenant id, reference parameter DelegatedOrganization).
 */
export function tokenConnectRequest(
  organization: string,
  cmdlets: readonly string[],
  accessToken: string,
  partner: TokenPartnerParameter = { kind: 'organization' },
): ConnectRequest {
  const parameters: CmdletParameters = { ...baseConnectParameters(organization, cmdlets), AccessToken: accessToken };
  if (partner.kind !== 'organization') delete parameters.Organization;
  if (partner.kind === 'user') parameters.UserPrincipalName = partner.userPrincipalName;
  if (partner.kind === 'delegated-organization') parameters.DelegatedOrganization = organization;
  return { parameters, secretParameters: ['AccessToken'] };
}
