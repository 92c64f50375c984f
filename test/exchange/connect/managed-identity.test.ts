/**
 * Managed identity end to end through @azure/identity (and MSAL underneath) against a fake App
 * Service token endpoint on 127.0.0.1. MSAL reads IDENTITY_ENDPOINT / IDENTITY_HEADER from
 * process.env itself and caches the source it picked for the whole process, so this file sets them
 * once (vi.stubEnv, undone after) and runs in its own worker; the credential cannot take an env.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SessionError } from '../../../src/errors.js';
import { ConnectedSession } from '../../../src/exchange/connect/connected-session.js';
import { createConnector } from '../../../src/exchange/connect/connector.js';
import { RecordingSession } from './recording-session.js';

const ORG = 'contoso.onmicrosoft.com';
const IDENTITY_HEADER = 'fake-identity-header-value';

interface SeenRequest {
  path: string;
  query: Record<string, string>;
  identityHeader: string | undefined;
}

let server: Server;
const seen: SeenRequest[] = [];

function answer(request: IncomingMessage): { status: number; body: object } {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const query = Object.fromEntries(url.searchParams);
  seen.push({ path: url.pathname, query, identityHeader: request.headers['x-identity-header'] as string | undefined });
  if (query.client_id === 'unknown-identity') {
    return {
      status: 400,
      body: { statusCode: 400, message: 'No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.' },
    };
  }
  const expiresOn = Math.floor(Date.now() / 1000) + 3600;
  return {
    status: 200,
    body: {
      access_token: `mi-token-for-${query.client_id ?? 'system'}`,
      expires_on: String(expiresOn),
      resource: query.resource,
      token_type: 'Bearer',
      client_id: query.client_id ?? 'system',
    },
  };
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const { status, body } = answer(request);
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  vi.stubEnv('IDENTITY_ENDPOINT', `http://127.0.0.1:${port}/msi/token`);
  vi.stubEnv('IDENTITY_HEADER', IDENTITY_HEADER);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await new Promise((resolve) => server.close(resolve));
});

function connectorFor(clientId?: string) {
  return createConnector(
    { organization: ORG, auth: { method: 'managed-identity', signIn: 'token', ...(clientId ? { clientId } : {}) } },
    { env: process.env, baseDir: '/', cmdlets: ['Get-TransportConfig'] },
  );
}

describe('managed identity token sign-in (App Service endpoint on loopback)', () => {
  it('asks the endpoint for an Exchange Online token and connects with it', async () => {
    const session = new RecordingSession();
    const connector = connectorFor();
    await ConnectedSession.open(session, connector);

    const request = seen.at(-1);
    expect(request?.path).toBe('/msi/token');
    expect(request?.identityHeader).toBe(IDENTITY_HEADER);
    expect(request?.query.resource).toBe('https://outlook.office365.com');
    expect(request?.query['api-version']).toBe('2019-08-01');
    expect(request?.query).not.toHaveProperty('client_id');

    const connect = session.calls[0];
    expect(connect?.cmdlet).toBe('Connect-ExchangeOnline');
    expect(connect?.parameters).toMatchObject({ AccessToken: 'mi-token-for-system', Organization: ORG, ShowBanner: false });
    expect(connect?.secretParameters).toEqual(['AccessToken']);
    // expires_on from the endpoint becomes the renewal deadline (about an hour away).
    const left = (connector.expiresOn()?.getTime() ?? 0) - Date.now();
    expect(left).toBeGreaterThan(55 * 60_000);
    expect(left).toBeLessThanOrEqual(60 * 60_000);
  });

  it('a user-assigned identity is asked for by client id', async () => {
    const session = new RecordingSession();
    await ConnectedSession.open(session, connectorFor('11111111-2222-3333-4444-555555555555'));
    expect(seen.at(-1)?.query.client_id).toBe('11111111-2222-3333-4444-555555555555');
    expect(session.calls[0]?.parameters.AccessToken).toBe('mi-token-for-11111111-2222-3333-4444-555555555555');
  });

  it("an endpoint refusal becomes a SessionError with the endpoint's message and what to check", async () => {
    const session = new RecordingSession();
    const failure = await ConnectedSession.open(session, connectorFor('unknown-identity')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SessionError);
    const message = (failure as Error).message;
    expect(message).toContain(`Sign-in to ${ORG} failed (managed-identity, client id unknown-identity, token from @azure/identity)`);
    expect(message).toContain('No User Assigned or Delegated Managed Identity found');
    expect(message).toContain('user-assigned managed identity with client id unknown-identity');
    expect(session.count('Connect-ExchangeOnline')).toBe(0);
  });
});
