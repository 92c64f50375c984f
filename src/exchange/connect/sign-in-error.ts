/**
 * A failed sign-in as a SessionError a person can act on: which method, which app, what the
 * service said, and what to check. Secrets are scrubbed from anything quoted.
 */
import { ExoPlaybookError, SessionError } from '../../errors.js';
import { CmdletFailure } from '../session.js';

export interface SignInDescription {
  organization: string;
  /** The auth method, or "simulator" for a sim target. */
  method: string;
  /** How the sign-in happens: the runner gets a token, the module signs in, or nothing (simulator). */
  signIn: 'token' | 'module' | 'none';
  appId?: string;
  clientId?: string;
  /** partner: the customer tenant the token is asked from (its tenant id, else its domain). */
  tokenTenant?: string;
}

export function describeSignIn(d: SignInDescription): string {
  const parts = [d.method];
  if (d.appId) parts.push(`app id ${d.appId}`);
  if (d.clientId) parts.push(`client id ${d.clientId}`);
  if (d.signIn === 'token') parts.push(d.method === 'access-token' ? 'supplied token' : 'token from @azure/identity');
  if (d.signIn === 'module') parts.push('signed in by ExchangeOnlineManagement');
  return parts.join(', ');
}

const CHECKS: Record<string, (d: SignInDescription) => string> = {
  certificate: (d) =>
    `that app ${d.appId ?? ''} is registered in ${d.organization}, its certificate is uploaded to the app registration and not expired, and the app has the Exchange.ManageAsApp permission (admin consent) and the Exchange Administrator role`,
  'managed-identity': (d) =>
    `that this machine has a ${d.clientId ? `user-assigned managed identity with client id ${d.clientId}` : 'system-assigned managed identity'}, and that the identity has the Exchange.ManageAsApp permission and the Exchange Administrator role in ${d.organization}`,
  'device-code': (d) =>
    `that the sign-in was completed in the browser in time, by an account with the Exchange Administrator role in ${d.organization}`,
  'azure-cli': (d) => `that \`az login --tenant ${d.organization}\` was run by an account with the Exchange Administrator role (see \`az account show\`)`,
  'workload-identity': (d) =>
    `that app ${d.appId ?? ''} in ${d.organization} has a federated identity credential whose issuer, subject and audience (api://AzureADTokenExchange) match this workload (in GitHub Actions: repository, branch or environment, and \`permissions: id-token: write\`), and that it has the Exchange.ManageAsApp permission and the Exchange Administrator role`,
  partner: (d) =>
    `that the partner app ${d.appId ?? ''} is consented in the customer tenant ${d.tokenTenant ?? d.organization} (GDAP relationship approved; in Partner Center the app consent with the Exchange grant), that ${d.tokenTenant ?? d.organization} is that customer's tenant id, and that the app's certificate or client secret is valid`,
  'access-token': (d) =>
    `that the token is an app-only token for https://outlook.office365.com issued by ${d.organization}, and not expired`,
  simulator: (d) => `that tenant.organization (${d.organization}) is the simulated tenant's organization (organization.Name in the state file)`,
};

/**
 * @azure/identity's AuthenticationError, recognised by its name and shape: importing the library
 * only to test instanceof would load it (~0.2 s) for every run, also those that never use it.
 */
function isAuthenticationError(cause: unknown): cause is Error & { errorResponse: { errorDescription?: string } } {
  return cause instanceof Error && cause.name === 'AuthenticationError' && typeof (cause as { errorResponse?: unknown }).errorResponse === 'object' && (cause as { errorResponse?: unknown }).errorResponse !== null;
}

/** The message the service (or library) gave, first line only: AADSTS texts go on with trace ids. */
export function serviceMessage(cause: unknown): string {
  let text: string;
  if (cause instanceof CmdletFailure) text = cause.record.message;
  else if (isAuthenticationError(cause)) text = cause.errorResponse.errorDescription || cause.message;
  else if (cause instanceof Error) text = cause.message;
  else text = String(cause);
  const firstLine = text.split(/\r?\n/).find((line) => line.trim() !== '') ?? text;
  // The message is followed by our own sentence: drop its closing full stop.
  return firstLine.trim().replace(/\.+$/, '');
}

export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}

export function signInFailed(d: SignInDescription, cause: unknown, secrets: readonly (string | undefined)[] = []): ExoPlaybookError {
  // Our own typed errors (a missing certificate file, a wrong password) already say what to fix.
  if (cause instanceof ExoPlaybookError) return cause;
  const check = CHECKS[d.method]?.(d) ?? 'the tenant.auth block of the playbook';
  const message = `Sign-in to ${d.organization} failed (${describeSignIn(d)}): ${serviceMessage(cause)}. Check ${check}.`;
  return new SessionError(redact(message, secrets));
}
