/**
 * `method: workload-identity`: where the federated token comes from (a file re-read each time, or the
 * GitHub Actions OIDC endpoint, here a fake on 127.0.0.1), the audience Entra expects, the
 * credential built from it, and that the GitHub request token never reaches pwsh. The exchange at
 * Entra itself needs a real tenant (MSAL accepts only https authorities).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientAssertionCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, SessionError } from '../../../src/errors.js';
import { credentialFor } from '../../../src/exchange/connect/credentials.js';
import { federatedAssertion, FEDERATION_AUDIENCE } from '../../../src/exchange/connect/workload-identity.js';
import { secretEnvNames } from '../../../src/exchange/target.js';
import { authSchema } from '../../../src/playbook/schema.js';

const auth = { method: 'workload-identity', appId: '11111111-2222-3333-4444-555555555555' } as const;
let server: Server;
let base: string;
const seen: { audience: string | null; authorization: string | undefined }[] = [];
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'exo-wif-'));
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    seen.push({ audience: url.searchParams.get('audience'), authorization: request.headers.authorization });
    if (request.headers.authorization !== 'Bearer request-token') {
      response.writeHead(403).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: `oidc-jwt-${seen.length}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token?api-version=2.0`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('workload identity sign-in', () => {
  it('is a sign-in method of tenant.auth (appId required; tenantId and tokenFile optional)', () => {
    expect(authSchema.safeParse(auth).success).toBe(true);
    expect(authSchema.safeParse({ method: 'workload-identity' }).success).toBe(false);
    expect(authSchema.safeParse({ ...auth, secret: 'x' }).success).toBe(false);
  });

  it('in GitHub Actions asks the job OIDC endpoint for a token with the audience api://AzureADTokenExchange, fresh each time', async () => {
    const assertion = federatedAssertion(auth, { baseDir: dir, env: { ACTIONS_ID_TOKEN_REQUEST_URL: base, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token' } });
    const first = await assertion();
    const second = await assertion();
    expect(first).toMatch(/^oidc-jwt-\d+$/);
    expect(second).not.toBe(first);
    expect(seen.at(-1)).toEqual({ audience: FEDERATION_AUDIENCE, authorization: 'Bearer request-token' });
  });

  it('says what failed when the OIDC endpoint refuses', async () => {
    const assertion = federatedAssertion(auth, { baseDir: dir, env: { ACTIONS_ID_TOKEN_REQUEST_URL: base, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong' } });
    await expect(assertion()).rejects.toThrow(SessionError);
    await expect(assertion()).rejects.toThrow(/HTTP 403/);
  });

  it('reads tokenFile (relative to the playbook) again for each assertion, so a rotated token is used', async () => {
    writeFileSync(join(dir, 'token'), 'jwt-one\n');
    const assertion = federatedAssertion({ ...auth, tokenFile: 'token' }, { baseDir: dir, env: {} });
    expect(await assertion()).toBe('jwt-one');
    writeFileSync(join(dir, 'token'), 'jwt-two\n');
    expect(await assertion()).toBe('jwt-two');
  });

  it('uses AZURE_FEDERATED_TOKEN_FILE when the playbook names no file', async () => {
    writeFileSync(join(dir, 'k8s-token'), 'jwt-k8s');
    expect(await federatedAssertion(auth, { baseDir: dir, env: { AZURE_FEDERATED_TOKEN_FILE: join(dir, 'k8s-token') } })()).toBe('jwt-k8s');
  });

  it('without any source, refuses with what to set (a user error, not a crash)', () => {
    expect(() => federatedAssertion(auth, { baseDir: dir, env: {} })).toThrow(InputError);
    expect(() => federatedAssertion(auth, { baseDir: dir, env: {} })).toThrow(/id-token: write/);
  });

  it('builds a client assertion credential, and withholds the GitHub request variables from pwsh', async () => {
    const credential = await credentialFor(auth, {
      organization: 'contoso.onmicrosoft.com',
      env: { ACTIONS_ID_TOKEN_REQUEST_URL: base, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token' },
      baseDir: dir,
      onDeviceCode: () => {},
      resolveSecret: async () => '',
    });
    expect(credential).toBeInstanceOf(ClientAssertionCredential);
    expect(secretEnvNames(auth)).toEqual(expect.arrayContaining(['ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL']));
  });
});
