/**
 * The simulated tenant's side of an app's OAuth submission (smtp-auth/oauth-senders' proof on a
 * `sim:` target, and the loopback SMTP fake of the tests): Entra issues a client-credentials token only
 * to an app it knows, with the right client secret when the state names one (sha256); Exchange
 * accepts the token for a mailbox the app may send as (appMaySendAs) while SMTP AUTH is on for it,
 * else `535 5.7.3 Authentication unsuccessful` (Microsoft Learn, "Authenticate an IMAP, POP or SMTP
 * connection using OAuth"; shared/EXCHANGE-FACTS.md). Tokens are unsigned JWTs that carry `appid`.
 */
import { createHash } from 'node:crypto';
import { appMaySendAs } from './cmdlets/app-access.js';
import type { TenantState } from './state.js';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function unsignedJwt(claims: Record<string, unknown>): string {
  return `${b64url({ typ: 'JWT', alg: 'none' })}.${b64url(claims)}.c2ln`;
}

/** The token Entra would issue the app, or Entra's error text (AADSTS700016 unknown app, AADSTS7000215 wrong secret). */
export function simulatedToken(state: TenantState, appId: string, clientSecret: string | undefined, tenant: string, now: Date): { token: string } | { error: string } {
  const app = state.entra?.applications.find((a) => a.appId.toLowerCase() === appId.toLowerCase());
  if (!app) return { error: `AADSTS700016: Application with identifier '${appId}' was not found in the directory '${tenant}'.` };
  if (clientSecret !== undefined && app.clientSecretSha256 !== undefined && createHash('sha256').update(clientSecret, 'utf8').digest('hex') !== app.clientSecretSha256) {
    return { error: `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${appId}'.` };
  }
  const iat = Math.floor(now.getTime() / 1000);
  return { token: unsignedJwt({ aud: 'https://outlook.office365.com', appid: app.appId, tid: tenant, idtyp: 'app', roles: app.smtpSendAsAppConsented ? ['SMTP.SendAsApp'] : [], iat, exp: iat + 3599 }) };
}

export type Xoauth2Verdict = 'accepted' | 'bad-credentials' | 'mailbox-disabled' | 'tenant-disabled';

function appIdOf(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { appid?: unknown; azp?: unknown };
    const id = claims.appid ?? claims.azp;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** What Exchange answers an XOAUTH2 sign-in as `user` with `token`. */
export function xoauth2Verdict(state: TenantState, user: string, token: string): Xoauth2Verdict {
  const appId = appIdOf(token);
  const wanted = user.toLowerCase();
  const mailbox = state.mailboxes.find((m) => [m.PrimarySmtpAddress, m.UserPrincipalName, ...m.EmailAddresses.map((a) => a.replace(/^smtp:/i, ''))].some((a) => a.toLowerCase() === wanted));
  if (!appId || !mailbox || !appMaySendAs(state, appId, mailbox.Guid, mailbox.PrimarySmtpAddress)) return 'bad-credentials';
  // The switches govern the protocol, OAuth included; the mailbox value wins, $null follows the organization.
  if (mailbox.SmtpClientAuthenticationDisabled === true) return 'mailbox-disabled';
  if (mailbox.SmtpClientAuthenticationDisabled === null && state.transportConfig.SmtpClientAuthenticationDisabled) return 'tenant-disabled';
  return 'accepted';
}
