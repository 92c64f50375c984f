/**
 * The Graph client for a run's --target: `sim:<state.json>` answers from the state file; `exchange`
 * talks to tenant.graph.baseUrl (default https://graph.microsoft.com) with an app-only token:
 * - access-token: the separate `graphToken` reference (an Exchange token's audience is
 *   outlook.office365.com; Graph refuses it);
 * - every other method: the same @azure/identity credential the Exchange sign-in builds
 *   (src/exchange/connect/credentials.ts), asked for `<baseUrl>/.default`.
 * Opened lazily: a run whose usage step has no Graph source never signs in to Graph.
 */
import { InputError } from '../errors.js';
import type { Playbook } from '../playbook/schema.js';
import { resolveSecret } from '../playbook/resolve.js';
import type { credentialFor as CredentialFor, CredentialAuth } from '../exchange/connect/credentials.js';
import type { SignInContext } from '../exchange/connect/context.js';
import { GRAPH_BASE_URL, type GraphClient } from './client.js';
import { HttpGraphClient, checkBaseUrl, type GraphTokenSource } from './http-client.js';
import { SimulatedGraphClient } from './simulated.js';

export interface OpenGraphOptions {
  env: NodeJS.ProcessEnv;
  baseDir: string;
  onDeviceCode?: (message: string) => void;
  /** Test seam. */
  credentialFor?: typeof CredentialFor;
}

/** `target` as normalizeTarget leaves it: "exchange" or "sim:<absolute path>". */
export function openGraph(target: string, tenant: Playbook['tenant'], options: OpenGraphOptions): GraphClient {
  if (target.startsWith('sim:')) return SimulatedGraphClient.forStateFile(target.slice('sim:'.length));
  const baseUrl = checkBaseUrl(tenant.graph?.baseUrl ?? GRAPH_BASE_URL).origin;
  return new HttpGraphClient({ baseUrl, token: graphTokenSource(tenant, baseUrl, options) });
}

export function graphTokenSource(tenant: Playbook['tenant'], baseUrl: string, options: OpenGraphOptions): GraphTokenSource {
  const auth = tenant.auth;
  if (auth.method === 'access-token') {
    const reference = auth.graphToken;
    return async () => {
      if (!reference) {
        throw new InputError(
          'tenant.auth: the usage step reads Microsoft Graph, but access-token sign-in has no graphToken',
          undefined,
          'add graphToken: "${env:GRAPH_TOKEN}" naming an app-only token for https://graph.microsoft.com (the Exchange token is for outlook.office365.com)',
        );
      }
      const token = (await resolveSecret(reference, options.env, options.baseDir)).trim();
      if (token === '') throw new InputError(`tenant.auth.graphToken: the reference ${reference} is empty`, undefined, 'put an access token for Microsoft Graph there');
      return token;
    };
  }
  const context: SignInContext = {
    organization: tenant.organization,
    env: options.env,
    baseDir: options.baseDir,
    onDeviceCode: options.onDeviceCode ?? ((message) => process.stderr.write(`${message}\n`)),
    resolveSecret: (reference) => resolveSecret(reference, options.env, options.baseDir),
  };
  let credential: ReturnType<typeof CredentialFor> | undefined;
  return async () => {
    // @azure/identity loads only when a Graph token is first needed.
    const make = options.credentialFor ?? (await import('../exchange/connect/credentials.js')).credentialFor;
    credential ??= make(auth as CredentialAuth, context);
    const token = await (await credential).getToken(`${baseUrl}/.default`);
    if (!token) throw new InputError('the credential returned no token for Microsoft Graph');
    return token.token;
  };
}
