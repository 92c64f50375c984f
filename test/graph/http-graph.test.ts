/**
 * The Graph usage sources over real HTTP against a loopback fake (127.0.0.1): paging, 429 with
 * Retry-After, the licence error, concealed names, a nextLink cycle, endless, malformed and empty
 * pages, a foreign nextLink, an oversized or never-ending answer. Each ends with data, a located
 * error, or a stated bounded stop; none hangs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { emailAppUsageEvidence } from '../../src/actions/smtp-auth/usage/email-app-usage.js';
import { signInLogsEvidence } from '../../src/actions/smtp-auth/usage/sign-in-logs.js';
import { GraphError } from '../../src/graph/client.js';
import { HttpGraphClient, checkBaseUrl } from '../../src/graph/http-client.js';
import { DEFAULT_POLICY, type RequestPolicy } from '../../src/graph/requests.js';
import { InputError } from '../../src/errors.js';
import { page, signIn, startFakeGraph, type FakeAnswer, type FakeGraph, type FakeRequest } from '../support/fake-graph.js';

const NOW = new Date('2026-11-23T10:00:00Z');
let fake: FakeGraph | undefined;
const slept: number[] = [];
const policy = (extra: Partial<RequestPolicy> = {}): RequestPolicy => ({ ...DEFAULT_POLICY, sleep: async (ms) => void slept.push(ms), ...extra });

afterEach(async () => {
  await fake?.close();
  fake = undefined;
  slept.length = 0;
});

async function serve(handler: (request: FakeRequest, url: string) => FakeAnswer, options: { maxBodyBytes?: number; timeoutMs?: number } = {}) {
  fake = await startFakeGraph(handler);
  return new HttpGraphClient({ baseUrl: fake.url, token: async () => 'graph-token-123', ...options });
}

async function graphError(promise: Promise<unknown>): Promise<GraphError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GraphError) return error;
    throw error;
  }
  throw new Error('expected a GraphError');
}

describe('Entra sign-in logs over HTTP', () => {
  it('asks for Authenticated SMTP since the window start, follows @odata.nextLink, keeps failures', async () => {
    const graph = await serve((req, url) => {
      if (req.path.includes('skiptoken=2')) return { body: page([signIn('printer@contoso.com', '2026-11-01T08:00:00Z', '10.0.0.9', 50126)]) };
      if (req.path.includes('skiptoken=1')) return { body: page([signIn('scanner@contoso.com', '2026-11-10T08:00:00Z', '10.0.0.6')], `${url}/v1.0/auditLogs/signIns?$skiptoken=2`) };
      return { body: page([signIn('scanner@contoso.com', '2026-11-20T08:00:00Z', '10.0.0.5')], `${url}/v1.0/auditLogs/signIns?$skiptoken=1`) };
    });
    const evidence = await signInLogsEvidence(graph, 30, NOW, policy());
    expect(decodeURIComponent(fake!.requests[0]!.path)).toBe("/v1.0/auditLogs/signIns?$filter=clientAppUsed eq 'Authenticated SMTP' and createdDateTime ge 2026-10-24T10:00:00Z");
    expect(fake!.requests.map((r) => r.authorization)).toEqual(['Bearer graph-token-123', 'Bearer graph-token-123', 'Bearer graph-token-123']);
    expect(evidence.complete).toBe(true);
    expect(evidence.senders).toEqual([
      { sender: 'scanner@contoso.com', protocols: ['Basic'], messages: null, firstSeen: '2026-11-10T08:00:00.000Z', lastSeen: '2026-11-20T08:00:00.000Z', clientIps: ['10.0.0.5', '10.0.0.6'], tlsVersions: [], failures: 0 },
      { sender: 'printer@contoso.com', protocols: ['Basic'], messages: null, firstSeen: '2026-11-01T08:00:00.000Z', lastSeen: '2026-11-01T08:00:00.000Z', clientIps: ['10.0.0.9'], tlsVersions: [], failures: 1 },
    ]);
    expect(evidence.label).toContain('3 sign-in(s), 3 page(s)');
  });

  it('waits as Retry-After says on 429, then goes on', async () => {
    let calls = 0;
    const graph = await serve(() => (++calls === 1 ? { status: 429, headers: { 'retry-after': '7' }, body: { error: { code: 'TooManyRequests', message: 'Too many requests' } } } : { body: page([signIn('a@contoso.com', '2026-11-20T08:00:00Z')]) }));
    const evidence = await signInLogsEvidence(graph, 30, NOW, policy());
    expect(slept).toEqual([7000]);
    expect(evidence.senders.map((s) => s.sender)).toEqual(['a@contoso.com']);
  });

  it('gives up after the bounded retries, and refuses a Retry-After too long to wait', async () => {
    const graph = await serve(() => ({ status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'TooManyRequests', message: 'slow down' } } }));
    const e = await graphError(signInLogsEvidence(graph, 30, NOW, policy({ maxRetries: 2 })));
    expect(e.message).toContain('HTTP 429 TooManyRequests: slow down');
    expect(fake!.requests).toHaveLength(3);
    await fake!.close();
    const long = await serve(() => ({ status: 429, headers: { 'retry-after': '3600' }, body: '' }));
    expect((await graphError(signInLogsEvidence(long, 30, NOW, policy()))).message).toContain('asks to wait 3600 s');
  });

  it('the licence error says what it means and what to do', async () => {
    const graph = await serve(() => ({
      status: 403,
      body: { error: { code: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', message: "Neither tenant is B2C or tenant doesn't have premium license" } },
    }));
    const e = await graphError(signInLogsEvidence(graph, 30, NOW, policy()));
    expect(e.message).toContain("Neither tenant is B2C or tenant doesn't have premium license");
    expect(e.message).toContain('needs a Microsoft Entra ID P1 or P2 licence');
    expect(e.message).toContain('report:');
  });

  it('a missing permission names the permissions', async () => {
    const graph = await serve(() => ({ status: 403, body: { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } } }));
    expect((await graphError(signInLogsEvidence(graph, 30, NOW, policy()))).message).toContain('AuditLog.Read.All and Directory.Read.All');
  });

  it('a nextLink cycle stops at the repeat: evidence marked incomplete, with a warning', async () => {
    const graph = await serve((req, url) => ({ body: page([signIn('loop@contoso.com', '2026-11-20T08:00:00Z')], `${url}/v1.0/auditLogs/signIns?$skiptoken=${req.path.includes('skiptoken=b') ? 'a' : 'b'}`) }));
    const evidence = await signInLogsEvidence(graph, 30, NOW, policy());
    expect(evidence.complete).toBe(false);
    expect(evidence.warnings.join(' ')).toContain('@odata.nextLink repeated page 2');
    expect(fake!.requests).toHaveLength(3);
  });

  it('endless empty pages stop at the page cap', async () => {
    let n = 0;
    const graph = await serve((_req, url) => ({ body: page([], `${url}/v1.0/auditLogs/signIns?$skiptoken=${++n}`) }));
    const evidence = await signInLogsEvidence(graph, 30, NOW, policy({ maxPages: 25 }));
    expect(evidence.complete).toBe(false);
    expect(evidence.warnings.join(' ')).toContain('stopped after 25 pages (the cap)');
    expect(fake!.requests).toHaveLength(25);
  });

  it('a page that is not JSON, or has no value list, is an error naming the page', async () => {
    const graph = await serve((req, url) => (req.path.includes('skiptoken') ? { body: '<html>gateway</html>' } : { body: page([], `${url}/v1.0/auditLogs/signIns?$skiptoken=1`) }));
    const e = await graphError(signInLogsEvidence(graph, 30, NOW, policy()));
    expect(e.message).toMatch(/page 2 of \/v1\.0\/auditLogs\/signIns is not JSON/);
    await fake!.close();
    const noValue = await serve(() => ({ body: { items: [] } }));
    expect((await graphError(signInLogsEvidence(noValue, 30, NOW, policy()))).message).toContain('page 1 of /v1.0/auditLogs/signIns has no "value" list');
  });

  it('hostile records inside a page stay data: skipped, counted, and the evidence marked incomplete', async () => {
    const graph = await serve(() => ({
      body: page([
        null,
        42,
        'x',
        { createdDateTime: 'not a date', userPrincipalName: 'a@contoso.com' },
        signIn('\u001b[31mred@contoso.com', '2026-11-20T08:00:00Z'),
        signIn('ok@contoso.com', '2026-11-20T08:00:00Z', '10.0.0.1\u001b[2J'),
      ]),
    }));
    const evidence = await signInLogsEvidence(graph, 30, NOW, policy());
    expect(evidence.senders.map((s) => [s.sender, s.clientIps])).toEqual([['ok@contoso.com', ['10.0.0.1?[2J']]]);
    expect(evidence.complete).toBe(false);
    expect(evidence.warnings).toContain('sign-in logs: 4 record(s) without a valid createdDateTime were skipped');
    expect(evidence.warnings).toContain('sign-in logs: 1 sign-in(s) without a usable user principal name were skipped');
  });

  it('a nextLink that is not a URL, or a report Location that is not one, is an error, not a crash', async () => {
    const graph = await serve(() => ({ body: page([], 'http://[not a url') }));
    expect((await graphError(signInLogsEvidence(graph, 30, NOW, policy()))).message).toContain('a link that is not a URL');
    await fake!.close();
    const report = await serve(() => ({ status: 302, headers: { location: 'http://[::zz' } }));
    expect((await graphError(emailAppUsageEvidence(report, 'D7', policy()))).message).toContain('a link that is not a URL');
  });

  it('a nextLink to another origin is refused: the token never leaves the base URL', async () => {
    const graph = await serve(() => ({ body: page([], 'https://attacker.example/steal') }));
    const e = await graphError(signInLogsEvidence(graph, 30, NOW, policy()));
    expect(e.message).toContain('pointed to https://attacker.example');
    expect(fake!.requests).toHaveLength(1);
  });

  it('an oversized answer and a server that never answers both end with an error', async () => {
    const big = await serve(() => ({ body: 'x'.repeat(200_000) }), { maxBodyBytes: 100_000 });
    expect((await graphError(signInLogsEvidence(big, 30, NOW, policy()))).message).toContain('larger than');
    await fake!.close();
    const silent = await serve(() => ({ hang: true }), { timeoutMs: 500 });
    expect((await graphError(signInLogsEvidence(silent, 30, NOW, policy()))).message).toContain('no answer within');
  });
});

const REPORT_HEADER = 'Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,Last Activity Date,Mail For Mac,Outlook For Mac,Outlook For Windows,Outlook For Mobile,Other For Mobile,Outlook For Web,POP3 App,IMAP4 App,SMTP App,Report Period';

describe('email app usage report over HTTP', () => {
  it('follows the 302 to the download URL without the token, and keeps the SMTP App users', async () => {
    const graph = await serve((req, url) => {
      if (req.path.startsWith('/download')) return { body: `\uFEFF${REPORT_HEADER}\r\n2026-11-21,scanner@contoso.com,Scanner,False,,2026-11-20,,,,,,,,,Yes,180\r\n2026-11-21,alice@contoso.com,Alice,False,,2026-11-20,,,Yes,,,,,,,180\r\n` };
      return { status: 302, headers: { location: `${url}/download/report.csv?sig=abc` } };
    });
    const evidence = await emailAppUsageEvidence(graph, 'D180', policy());
    expect(decodeURIComponent(fake!.requests[0]!.path)).toBe("/v1.0/reports/getEmailAppUsageUserDetail(period='D180')");
    expect(fake!.requests.map((r) => r.authorization)).toEqual(['Bearer graph-token-123', undefined]);
    // "Last Activity Date" is the last activity in any email app: never taken for an SMTP last-seen date.
    expect(evidence.senders).toEqual([{ sender: 'scanner@contoso.com', protocols: ['Unknown'], messages: null, firstSeen: null, lastSeen: null, lastEmailAppActivity: '2026-11-20', clientIps: [], tlsVersions: [] }]);
    expect(evidence.complete).toBe(true);
    // The period comes from the data: the Report Refresh Date and the period asked for.
    expect(evidence).toMatchObject({ windowStart: '2026-05-25T00:00:00.000Z', windowEnd: '2026-11-21T00:00:00.000Z', periodFrom: 'from the data (Report Refresh Date 2026-11-21, period D180)' });
  });

  it('concealed user names: counted, not matched, evidence incomplete, and the setting explained', async () => {
    const graph = await serve(() => ({ body: `${REPORT_HEADER}\n2026-11-21,6B0E3D1A9F8C4E2B7D5A1C3E9F0B2D4A,8E2C...,False,,2026-11-20,,,,,,,,,Yes,180\n` }));
    const evidence = await emailAppUsageEvidence(graph, 'D30', policy());
    expect(evidence.senders).toEqual([]);
    expect(evidence.complete).toBe(false);
    expect(evidence.warnings[0]).toContain('1 SMTP App user(s) have concealed names');
    expect(evidence.warnings[0]).toContain('Settings > Org settings > Reports');
  });

  it('a report without the SMTP App column is an error, not zero senders', async () => {
    const graph = await serve(() => ({ body: 'User Principal Name,Last Activity Date\n' }));
    expect((await graphError(emailAppUsageEvidence(graph, 'D7', policy()))).message).toContain('no "SMTP App" column');
  });
});

describe('signing in', () => {
  it('a credential that fails is one message naming Graph, not a stack trace; no request is sent', async () => {
    fake = await startFakeGraph(() => ({ body: page([]) }));
    const graph = new HttpGraphClient({ baseUrl: fake.url, token: async () => Promise.reject(new Error('AADSTS7000215: Invalid client secret provided.\nTrace ID: x')) });
    const e = await graphError(signInLogsEvidence(graph, 30, NOW, policy()));
    expect(e.message).toBe(`Sign-in to Microsoft Graph (${fake.url}/.default) failed: AADSTS7000215: Invalid client secret provided. Check the app's Graph permissions and admin consent (docs/OPERATIONS.md, "Microsoft Graph")`);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('the base URL', () => {
  it('accepts https origins and loopback http; refuses clear text elsewhere and paths', () => {
    expect(checkBaseUrl('https://graph.microsoft.us').origin).toBe('https://graph.microsoft.us');
    expect(checkBaseUrl('http://127.0.0.1:8080').origin).toBe('http://127.0.0.1:8080');
    expect(() => checkBaseUrl('http://graph.example.com')).toThrow(InputError);
    expect(() => checkBaseUrl('https://graph.microsoft.com/v1.0')).toThrow(/without a path/);
  });
});
