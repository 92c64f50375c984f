/**
 * `method: workload-identity`: sign in without a stored secret. An identity provider the app
 * registration trusts (a federated identity credential: GitHub Actions OIDC, Kubernetes, another
 * cloud) issues a short-lived token; Entra exchanges it, as a client assertion (OAuth 2.0 client
 * credentials with a JWT bearer assertion), for an app-only token for Exchange Online, which the
 * runner passes to Connect-ExchangeOnline with -AccessToken like any token sign-in.
 *
 * Where the federated token comes from, in order:
 * 1. `tokenFile` in the playbook, or $AZURE_FEDERATED_TOKEN_FILE (Kubernetes workload identity sets
 *    it): read again for every assertion, so a token the platform rotates is picked up.
 * 2. GitHub Actions with `permissions: id-token: write`: the job's OIDC endpoint
 *    ($ACTIONS_ID_TOKEN_REQUEST_URL, bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN) with the audience Entra
 *    expects for federated credentials, api://AzureADTokenExchange.
 * (Microsoft Learn, "Workload identity federation" and "Configure an app to trust an external
 * identity provider"; GitHub Docs, "About security hardening with OpenID Connect".)
 */
import { readRegularFile } from '../../files/regular-file.js';
import { resolve } from 'node:path';
import { ClientAssertionCredential, type TokenCredential } from '@azure/identity';
import { InputError, SessionError } from '../../errors.js';
import type { AuthConfig } from '../../playbook/schema.js';
import type { SignInContext } from './context.js';

export const FEDERATION_AUDIENCE = 'api://AzureADTokenExchange';

export type WorkloadIdentityAuth = Extract<AuthConfig, { method: 'workload-identity' }>;

export { GITHUB_OIDC_ENV } from './oidc-env.js';

/** A function that returns a fresh federated token each time Entra needs an assertion. */
export function federatedAssertion(auth: WorkloadIdentityAuth, context: Pick<SignInContext, 'env' | 'baseDir'>, fetchImpl: typeof fetch = fetch): () => Promise<string> {
  const fileName = auth.tokenFile ?? context.env.AZURE_FEDERATED_TOKEN_FILE;
  if (fileName) {
    const file = resolve(context.baseDir, fileName);
    return async () => {
      // Kubernetes mounts it through symlinks (..data/token): followed, but only to a small regular file.
      const read = await readRegularFile(file, { maxBytes: 64 * 1024 });
      if (!read.ok) throw new SessionError(`workload identity: cannot read the federated token file ${file}: ${read.detail}`);
      const token = read.bytes.toString('utf8').trim();
      if (!token) throw new SessionError(`workload identity: the federated token file ${file} is empty`);
      return token;
    };
  }
  const url = context.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = context.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (url && bearer) {
    return async () => {
      const request = new URL(url);
      request.searchParams.set('audience', FEDERATION_AUDIENCE);
      let response: Response;
      try {
        response = await fetchImpl(request, { headers: { Authorization: `Bearer ${bearer}`, Accept: 'application/json' } });
      } catch (error) {
        throw new SessionError(`workload identity: the GitHub Actions OIDC token request failed (${(error as Error).message})`);
      }
      if (!response.ok) throw new SessionError(`workload identity: the GitHub Actions OIDC token request answered HTTP ${response.status}`);
      const body = (await response.json().catch(() => ({}))) as { value?: unknown };
      if (typeof body.value !== 'string' || body.value === '') throw new SessionError('workload identity: the GitHub Actions OIDC answer holds no token');
      return body.value;
    };
  }
  throw new InputError(
    'tenant.auth (workload-identity): no federated token: no tokenFile, no AZURE_FEDERATED_TOKEN_FILE, and not a GitHub Actions job with id-token: write',
    undefined,
    'in GitHub Actions give the job `permissions: id-token: write`; elsewhere set tokenFile (or AZURE_FEDERATED_TOKEN_FILE) to the file your platform writes the token to',
  );
}

export function workloadIdentityCredential(auth: WorkloadIdentityAuth, context: SignInContext): TokenCredential {
  // The tenant's domain name is a valid tenant id for the token authority.
  return new ClientAssertionCredential(auth.tenantId ?? context.organization, auth.appId, federatedAssertion(auth, context));
}
