/**
 * Where a token sign-in's access token comes from: an @azure/identity credential, or a token the
 * operator supplies through a secret reference (auth method access-token).
 */
import type { TokenCredential } from '@azure/identity';
import type { SignInContext } from './context.js';

/** Exchange Online's resource; app-only tokens always ask for `.default` (the app's granted roles). */
export const EXCHANGE_SCOPE = 'https://outlook.office365.com/.default';

export interface AccessTokenGrant {
  token: string;
  /** null when unknown (an opaque token): the runner then never renews it on its own. */
  expiresOn: Date | null;
}

/** Gets a token; called at connect and again whenever the session must reconnect. */
export type AccessTokenSource = () => Promise<AccessTokenGrant>;

export function credentialTokenSource(credential: TokenCredential): AccessTokenSource {
  return async () => {
    // The credential keeps its own cache and returns a fresh token once the cached one nears expiry.
    const accessToken = await credential.getToken(EXCHANGE_SCOPE);
    if (!accessToken) throw new Error('the credential returned no token');
    return { token: accessToken.token, expiresOn: new Date(accessToken.expiresOnTimestamp) };
  };
}

/** access-token: read the secret again on every call, so a token file refreshed outside is picked up. */
export function suppliedTokenSource(reference: string, context: SignInContext): AccessTokenSource {
  return async () => {
    const token = (await context.resolveSecret(reference)).trim();
    if (token === '') throw new Error(`the token reference ${reference} is empty`);
    return { token, expiresOn: jwtExpiry(token) };
  };
}

/**
 * The `exp` claim of a JWT, read without verifying the signature (the service verifies it; the
 * runner only wants to know when to stop using it). null for anything that is not a JWT with exp.
 */
export function jwtExpiry(token: string): Date | null {
  const exp = jwtClaims(token)?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? new Date(exp * 1000) : null;
}

/** The claims of a JWT, unverified; null for anything that is not a JWT with a JSON object payload. */
export function jwtClaims(token: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Which Connect-ExchangeOnline parameter goes with -AccessToken: an app-only token (idtyp app, or
 * roles and no scp) with -Organization, a delegated one (scp) with -UserPrincipalName, the signed-in
 * user (Connect-ExchangeOnline reference, -AccessToken; EXCHANGE-FACTS "Connecting"). A token whose
 * claims cannot be read is taken for what the auth method issues.
 */
export type TokenPartner = { kind: 'app' } | { kind: 'delegated'; userPrincipalName: string };

export function tokenPartner(token: string, expected: 'app' | 'delegated'): TokenPartner | { kind: 'delegated-without-upn' } {
  const claims = jwtClaims(token);
  let kind: 'app' | 'delegated' = expected;
  if (claims) {
    if (claims.idtyp === 'app' || (claims.scp === undefined && claims.roles !== undefined)) kind = 'app';
    else if (claims.scp !== undefined || claims.idtyp === 'user') kind = 'delegated';
  }
  if (kind === 'app') return { kind: 'app' };
  const upn = [claims?.upn, claims?.preferred_username, claims?.unique_name].find((v): v is string => typeof v === 'string' && v.includes('@'));
  return upn ? { kind: 'delegated', userPrincipalName: upn } : { kind: 'delegated-without-upn' };
}
