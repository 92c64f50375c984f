/**
 * Entra's token endpoint on 127.0.0.1, as @azure/identity's client-credential flows use it: OpenID
 * discovery at /<tenant>/v2.0/.well-known/openid-configuration, then a POST to
 * /<tenant>/oauth2/v2.0/token. MSAL accepts only https authorities, so the credential keeps an https
 * authority host that never resolves (login.example.invalid) and gets `httpClient`, which sends each
 * of its requests to this loopback server instead: the whole request (form, signed assertion,
 * secret) crosses a real socket and is recorded here. Tokens are unsigned JWTs whose `tid` is the
 * tenant id of the authority they were asked from; an unknown tenant is answered as Entra does
 * (AADSTS90002).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClientCertificateCredentialOptions } from '@azure/identity';

type HttpClient = NonNullable<ClientCertificateCredentialOptions['httpClient']>;
type PipelineResponse = Awaited<ReturnType<HttpClient['sendRequest']>>;

export const UNRESOLVABLE_AUTHORITY = 'https://login.example.invalid';

export interface TokenRequest {
  /** The authority's tenant segment of the path (a tenant id or a domain). */
  tenant: string;
  form: URLSearchParams;
}

export interface TokenEndpoint {
  /** Token requests in arrival order (discovery requests are not recorded). */
  requests: TokenRequest[];
  /** Options for an @azure/identity credential so it talks to this endpoint. */
  credentialOptions: ClientCertificateCredentialOptions;
  close(): Promise<void>;
}

/** An unsigned JWT with these claims (the stub and the runner read claims, never verify signatures). */
export function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ typ: 'JWT', alg: 'none' })}.${part({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims })}.c2ln`;
}

/**
 * `tenants` maps every name a tenant answers to (its id and its domains) to its tenant id.
 * Tokens are app-only (idtyp app, the Exchange.ManageAsApp role), as client credentials give.
 */
export async function startTokenEndpoint(tenants: Record<string, string>): Promise<TokenEndpoint> {
  const requests: TokenRequest[] = [];
  const known = new Map(Object.entries(tenants).map(([name, id]) => [name.toLowerCase(), id]));
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const tenant = decodeURIComponent(url.pathname.split('/')[1] ?? '');
      const tenantId = known.get(tenant.toLowerCase());
      const reply = (status: number, body: object) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (!tenantId) {
        reply(400, {
          error: 'invalid_tenant',
          error_description: `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
          error_codes: [90002],
        });
        return;
      }
      const base = `${UNRESOLVABLE_AUTHORITY}/${tenant}`;
      if (url.pathname.endsWith('/openid-configuration')) {
        reply(200, {
          token_endpoint: `${base}/oauth2/v2.0/token`,
          issuer: `${UNRESOLVABLE_AUTHORITY}/${tenantId}/v2.0`,
          authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
          jwks_uri: `${base}/discovery/v2.0/keys`,
        });
        return;
      }
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      requests.push({ tenant, form });
      const token = unsignedJwt({ tid: tenantId, appid: form.get('client_id'), idtyp: 'app', roles: ['Exchange.ManageAsApp'], aud: 'https://outlook.office365.com' });
      reply(200, { token_type: 'Bearer', expires_in: 3600, access_token: token });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const httpClient: HttpClient = {
    async sendRequest(request) {
      const url = new URL(request.url);
      const response = await fetch(`${origin}${url.pathname}${url.search}`, {
        method: request.method,
        headers: request.headers.toJSON() as Record<string, string>,
        ...(typeof request.body === 'string' ? { body: request.body } : {}),
      });
      return { request, status: response.status, headers: jsonHeaders(), bodyAsText: await response.text() };
    },
  };
  return {
    requests,
    credentialOptions: { httpClient, authorityHost: UNRESOLVABLE_AUTHORITY, disableInstanceDiscovery: true },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The few HttpHeaders members the pipeline reads, over a Map (names are case-insensitive). */
export function jsonHeaders(): PipelineResponse['headers'] {
  const map = new Map<string, string>([['content-type', 'application/json']]);
  return {
    get: (name: string) => map.get(name.toLowerCase()),
    has: (name: string) => map.has(name.toLowerCase()),
    set: (name: string, value: string | number | boolean) => void map.set(name.toLowerCase(), String(value)),
    delete: (name: string) => void map.delete(name.toLowerCase()),
    toJSON: () => Object.fromEntries(map),
    [Symbol.iterator]: () => map.entries(),
  };
}
