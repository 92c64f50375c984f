/**
 * Issue 22 point 5: HTTP calls honour HTTPS_PROXY, HTTP_PROXY and NO_PROXY (Node's fetch alone ignores
 * them; src/net/proxy.ts). A proxy on 127.0.0.1 counts what it is asked (CONNECT; an absolute URL
 * would be passed on too) and passes it on; the webhook on 127.0.0.1 (https with a certificate made for
 * this run, trusted through NODE_EXTRA_CA_CERTS, or plain http) records what arrives.
 */
import { createServer as createHttpServer, request, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, driftedTenant, PLAYBOOK } from './engine-support.js';
import { makeTestCertificate, type TestCertificate } from '../fixtures/smtp/fake-exchange-smtp.js';

let certificate: TestCertificate;
let dir: string;
const servers: Server[] = [];
const sockets = new Set<Socket>();
/** What the proxy was asked: "CONNECT host:port" or "POST http://...". */
const proxied: string[] = [];
/** Requests the webhooks received: "https /hook" or "http /hook". */
const delivered: string[] = [];
let proxyUrl: string;
let httpsHook: string;
let httpHook: string;

async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

const hook = (scheme: string) => (req: IncomingMessage, res: import('node:http').ServerResponse) => {
  req.resume();
  req.on('end', () => {
    delivered.push(`${scheme} ${req.url}`);
    res.writeHead(200).end('1');
  });
};

beforeAll(async () => {
  assertBuilt();
  certificate = makeTestCertificate();
  dir = mkdtempSync(join(tmpdir(), 'exo-proxy-'));
  writeFileSync(join(dir, 'playbook.yaml'), PLAYBOOK);
  writeFileSync(join(dir, 'tenant.json'), JSON.stringify(driftedTenant()));
  httpsHook = `https://127.0.0.1:${await listen(createHttpsServer({ key: certificate.key, cert: certificate.cert }, hook('https')))}/hook`;
  httpHook = `http://127.0.0.1:${await listen(createHttpServer(hook('http')))}/hook`;
  const proxy = createHttpServer((req, res) => {
    // An absolute-form request (plain http through the proxy): counted and passed on.
    proxied.push(`${req.method} ${req.url}`);
    const target = new URL(req.url!);
    const upstream = request({ host: target.hostname, port: target.port, path: target.pathname, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  proxy.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    proxied.push(`CONNECT ${req.url}`);
    const [host, port] = req.url!.split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  proxyUrl = `http://127.0.0.1:${await listen(proxy)}`;
});

afterAll(async () => {
  sockets.forEach((s) => s.destroy());
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  certificate?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function verify(webhook: string, env: Record<string, string>) {
  proxied.length = 0;
  delivered.length = 0;
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(https?|no)_proxy$/i.test(k)));
  return execa('node', [CLI, 'verify', 'playbook.yaml', '--target', 'sim:tenant.json', '--notify-webhook', 'env:HOOK'], {
    cwd: dir,
    reject: false,
    extendEnv: false,
    env: { ...clean, HOOK: webhook, NODE_EXTRA_CA_CERTS: certificate.certFile, EXO_PLAYBOOK_LOCK_DIR: join(dir, 'locks'), NO_COLOR: '1', ...env },
  });
}

describe('HTTPS_PROXY, HTTP_PROXY, NO_PROXY', () => {
  it('an https webhook goes through HTTPS_PROXY (one CONNECT), and arrives', async () => {
    const r = await verify(httpsHook, { HTTPS_PROXY: proxyUrl });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(proxied).toEqual([`CONNECT ${new URL(httpsHook).host}`]);
    expect(delivered).toEqual(['https /hook']);
    expect(r.stderr).not.toMatch(/experimental|Warning/);
  });

  it('lower-case https_proxy works the same', async () => {
    const r = await verify(httpsHook, { https_proxy: proxyUrl });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(proxied).toHaveLength(1);
    expect(delivered).toEqual(['https /hook']);
  });

  it('a plain http webhook goes through HTTP_PROXY', async () => {
    const r = await verify(httpHook, { HTTP_PROXY: proxyUrl });
    expect(r.exitCode, r.stderr).toBe(2);
    // undici tunnels plain http through the proxy with CONNECT too.
    expect(proxied).toEqual([`CONNECT ${new URL(httpHook).host}`]);
    expect(delivered).toEqual(['http /hook']);
  });

  it('NO_PROXY names a host that is reached directly', async () => {
    const r = await verify(httpsHook, { HTTPS_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(proxied).toEqual([]);
    expect(delivered).toEqual(['https /hook']);
  });

  it('without a proxy variable nothing goes to the proxy', async () => {
    const r = await verify(httpsHook, {});
    expect(r.exitCode, r.stderr).toBe(2);
    expect(proxied).toEqual([]);
    expect(delivered).toEqual(['https /hook']);
  });

  it('a proxy variable that is not a URL is an error, before anything is read', async () => {
    const r = await verify(httpsHook, { HTTPS_PROXY: 'not a url' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('error: HTTPS_PROXY is not a URL');
    expect(delivered).toEqual([]);
  });
});
