/**
 * Which Graph a run talks to and with which token: tenant.graph.baseUrl (sovereign clouds, the
 * loopback fake here), access-token's separate graphToken (by reference), and the @azure/identity
 * credential of the other methods asked for `<baseUrl>/.default`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPlaybook } from '../../src/playbook/load.js';
import { signInLogsEvidence } from '../../src/actions/smtp-auth/usage/sign-in-logs.js';
import { InputError } from '../../src/errors.js';
import { graphTokenSource, openGraph } from '../../src/graph/open.js';
import { DEFAULT_POLICY } from '../../src/graph/requests.js';
import { SimulatedGraphClient } from '../../src/graph/simulated.js';
import type { Playbook } from '../../src/playbook/schema.js';
import { page, signIn, startFakeGraph, type FakeGraph } from '../support/fake-graph.js';

let fake: FakeGraph | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const tenant = (auth: Playbook['tenant']['auth'], baseUrl?: string): Playbook['tenant'] => ({ organization: 'contoso.onmicrosoft.com', auth, ...(baseUrl ? { graph: { baseUrl } } : {}) });

describe('openGraph', () => {
  it('access-token: the graphToken reference signs the requests to tenant.graph.baseUrl', async () => {
    fake = await startFakeGraph(() => ({ body: page([signIn('scanner@contoso.com', '2026-11-20T08:00:00Z')]) }));
    const graph = openGraph('exchange', tenant({ method: 'access-token', token: '${env:EXO_TOKEN}', graphToken: '${env:GRAPH_TOKEN}' }, fake.url), {
      env: { GRAPH_TOKEN: 'graph-jwt\n' },
      baseDir: '/',
    });
    const evidence = await signInLogsEvidence(graph, 7, new Date('2026-11-23T10:00:00Z'), { ...DEFAULT_POLICY, sleep: async () => {} });
    expect(evidence.senders.map((s) => s.sender)).toEqual(['scanner@contoso.com']);
    expect(fake.requests[0]!.authorization).toBe('Bearer graph-jwt');
  });

  it('access-token without graphToken: a user error that says what to add', async () => {
    const source = graphTokenSource(tenant({ method: 'access-token', token: '${env:EXO_TOKEN}' }), 'https://graph.microsoft.com', { env: {}, baseDir: '/' });
    const error = await source().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).hint).toContain('graphToken: "${env:GRAPH_TOKEN}"');
  });

  it('other methods: the same credential the Exchange sign-in builds, for the Graph scope of the base URL', async () => {
    const scopes: string[] = [];
    const source = graphTokenSource(tenant({ method: 'managed-identity', signIn: 'module' }), 'https://graph.microsoft.us', {
      env: {},
      baseDir: '/',
      credentialFor: async () => ({ getToken: async (scope: string | string[]) => (scopes.push(String(scope)), { token: 'mi-token', expiresOnTimestamp: Date.now() + 3600_000 }) }),
    });
    expect(await source()).toBe('mi-token');
    expect(scopes).toEqual(['https://graph.microsoft.us/.default']);
  });

  it('sim:<state.json> answers from the state file; a non-https base URL is refused before any request', () => {
    expect(openGraph('sim:/tmp/tenant.json', tenant({ method: 'azure-cli' }), { env: {}, baseDir: '/' })).toBeInstanceOf(SimulatedGraphClient);
    expect(() => openGraph('exchange', tenant({ method: 'azure-cli' }, 'http://graph.example.com'), { env: {}, baseDir: '/' })).toThrow(/not https/);
  });

  it('graphToken is a secret: an inline value is refused at its line, never read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'graph-token-'));
    const file = join(dir, 'p.yaml');
    writeFileSync(
      file,
      'apiVersion: exo-playbook/v1\nname: p\ntenant:\n  organization: contoso.onmicrosoft.com\n  auth: { method: access-token, token: "${env:T}", graphToken: "eyJ.inline.secret" }\nsteps:\n  - id: usage\n    uses: smtp-auth/usage\n    with: { signInLogs: true }\n',
    );
    const error = await loadPlaybook(file, { env: {} }).catch((e: unknown) => e);
    expect(String((error as Error).message)).toMatch(/secrets are never written inline/);
    expect(JSON.stringify(error)).toContain('graphToken');
  });
});
