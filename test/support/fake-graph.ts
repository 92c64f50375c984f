/**
 * A loopback fake of Microsoft Graph for tests: real HTTP on 127.0.0.1 (a random port), answers
 * from a handler the test gives, records every request (path, whether a bearer token came). It
 * stops by itself after `lifetimeMs` even if a test forgets close(), and never keeps the process alive.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  path: string;
  authorization: string | undefined;
}

export interface FakeAnswer {
  status?: number;
  headers?: Record<string, string>;
  body?: string | object;
  /** Never answer (the client's timeout must end the request). */
  hang?: boolean;
}

export interface FakeGraph {
  url: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}

export async function startFakeGraph(handler: (request: FakeRequest, url: string) => FakeAnswer, lifetimeMs = 300_000): Promise<FakeGraph> {
  const requests: FakeRequest[] = [];
  const open = new Set<ServerResponse>();
  let base = '';
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const request = { path: req.url ?? '/', authorization: req.headers.authorization };
    requests.push(request);
    const answer = handler(request, base);
    if (answer.hang) {
      open.add(res);
      return;
    }
    const body = typeof answer.body === 'string' ? answer.body : answer.body === undefined ? '' : JSON.stringify(answer.body);
    res.writeHead(answer.status ?? 200, { 'content-type': typeof answer.body === 'object' ? 'application/json' : 'text/plain', ...answer.headers });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  const timer = setTimeout(() => void close(), lifetimeMs);
  timer.unref();
  return {
    url: base,
    requests,
    close: async () => {
      clearTimeout(timer);
      await close();
    },
  };
}

/** A Graph collection page. */
export function page(value: unknown[], nextLink?: string): object {
  return { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns', value, ...(nextLink ? { '@odata.nextLink': nextLink } : {}) };
}

/** A signIn as Graph returns it (the fields the usage step reads, plus a few it ignores). */
export function signIn(upn: string, createdDateTime: string, ipAddress = '10.0.0.1', errorCode = 0): object {
  return {
    id: `${upn}-${createdDateTime}`,
    createdDateTime,
    userPrincipalName: upn,
    userDisplayName: upn.split('@')[0],
    appDisplayName: 'Office 365 Exchange Online',
    clientAppUsed: 'Authenticated SMTP',
    ipAddress,
    status: { errorCode, failureReason: errorCode ? 'Error validating credentials due to invalid username or password.' : null },
  };
}
