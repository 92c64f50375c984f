import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { buildWebhookMessage, notifyIfNeeded, postWebhook, resolveWebhookUrl, shouldNotify } from '../../src/engine/notify.js';
import { InputError } from '../../src/errors.js';
import type { VerifyReport } from '../../src/engine/types.js';

interface Received {
  method: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

/** A webhook on 127.0.0.1, port 0; closes itself when the test is done. */
async function withWebhook<T>(respond: (req: IncomingMessage) => number | 'hang', run: (url: string, received: Received[]) => Promise<T>): Promise<T> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      received.push({ method: req.method, contentType: req.headers['content-type'], body: JSON.parse(raw) });
      const status = respond(req);
      if (status === 'hang') return;
      res.writeHead(status).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    return await run(`http://127.0.0.1:${port}/hook/SECRETPART`, received);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

const drift: VerifyReport = {
  playbook: { name: 'smtp-auth-drift-check', file: 'playbooks/smtp-auth-drift-check.yaml', hash: 'ab', change: 'CHG1' },
  tenant: { organization: 'contoso.onmicrosoft.com', target: 'sim:t.json' },
  checkedAt: '2026-11-23T10:00:00Z',
  findings: [{ stepId: 'verify', check: 'organization-off', status: 'fail', subject: 'Organization', message: 'SMTP AUTH is on for the organization' }],
  summary: { pass: 3, fail: 1, warn: 0 },
  compliant: false,
};

describe('webhook notifications', () => {
  it('notifies on drift and failure, not on success or on a plan with changes', () => {
    expect(shouldNotify('verify', 0)).toBe(false);
    expect(shouldNotify('verify', 2)).toBe(true);
    expect(shouldNotify('verify', 1)).toBe(true);
    expect(shouldNotify('apply', 3)).toBe(true);
    expect(shouldNotify('apply', 4)).toBe(true);
    expect(shouldNotify('plan', 2)).toBe(false);
  });

  it('reads env:NAME and never echoes a bad value', () => {
    expect(resolveWebhookUrl('env:HOOK', { HOOK: 'https://x.test/h' })).toBe('https://x.test/h');
    expect(() => resolveWebhookUrl('env:HOOK', {})).toThrow(/HOOK is not set/);
    try {
      resolveWebhookUrl('not a url secretvalue', {});
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).not.toContain('secretvalue');
    }
    expect(() => resolveWebhookUrl('file:///etc/passwd', {})).toThrow(/http\(s\)/);
  });

  it('posts one JSON message with text and summary on drift', async () => {
    await withWebhook(
      () => 200,
      async (url, received) => {
        const result = await notifyIfNeeded('env:HOOK', { command: 'verify', exitCode: 2, playbook: drift.playbook, tenant: drift.tenant, verify: drift }, { HOOK: url });
        expect(result).toEqual({ ok: true, status: 200 });
        expect(received).toHaveLength(1);
        expect(received[0]!.method).toBe('POST');
        expect(received[0]!.contentType).toBe('application/json');
        const body = received[0]!.body as { text: string; summary: string };
        expect(Object.keys(body).sort()).toEqual(['summary', 'text']);
        expect(body.summary).toBe('Drift found by verify smtp-auth-drift-check');
        expect(body.text).toContain('Tenant: contoso.onmicrosoft.com');
        expect(body.text).toContain('Change: CHG1');
        expect(body.text).toContain('- Organization: SMTP AUTH is on for the organization');
      },
    );
  });

  it('posts nothing when compliant', async () => {
    await withWebhook(
      () => 200,
      async (url, received) => {
        const result = await notifyIfNeeded(url, { command: 'verify', exitCode: 0, playbook: drift.playbook }, {});
        expect(result).toBeNull();
        expect(received).toHaveLength(0);
      },
    );
  });

  it('gives up after the timeout with one attempt and no URL in the error', async () => {
    await withWebhook(
      () => 'hang',
      async (url, received) => {
        const result = await postWebhook(url, buildWebhookMessage({ command: 'apply', exitCode: 3, playbook: drift.playbook }), { timeoutMs: 200 });
        expect(result.ok).toBe(false);
        expect(result.error).toMatch(/did not answer within 200 ms/);
        expect(JSON.stringify(result)).not.toContain('SECRETPART');
        expect(received).toHaveLength(1);
      },
    );
  });

  it('reports an HTTP error status without retrying', async () => {
    await withWebhook(
      () => 500,
      async (url, received) => {
        const result = await postWebhook(url, { text: 't', summary: 's' });
        expect(result).toEqual({ ok: false, status: 500, error: 'the webhook answered HTTP 500' });
        expect(received).toHaveLength(1);
      },
    );
  });
});
