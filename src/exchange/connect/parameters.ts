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

/**
 * Token sign-in: the runner got a token; the module only uses it. An app-only token goes with
 * -Organization, a delegated one with -UserPrincipalName (the token's user) instead.
 */
export function tokenConnectRequest(
  organization: string,
  cmdlets: readonly string[],
  accessToken: string,
  userPrincipalName?: string,
): ConnectRequest {
  const parameters: CmdletParameters = { ...baseConnectParameters(organization, cmdlets), AccessToken: accessToken };
  if (userPrincipalName !== undefined) {
    delete parameters.Organization;
    parameters.UserPrincipalName = userPrincipalName;
  }
  return { parameters, secretParameters: ['AccessToken'] };
}
