/**
 * Issue 22 point 5: --notify-mail sends the drift notification through an SMTP relay (here a small
 * SMTP server on 127.0.0.1 that records the conversation and stops with the test). The relay
 * password comes from a reference (env:NAME), never from argv, and appears in no output or log; a
 * relay that refuses is a warning and the exit code stays the run's.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, driftedTenant, PLAYBOOK } from './engine-support.js';

const PASSWORD = 'relay-Secret-7f3a';
let dir: string;
let server: Server;
let port: number;
const sockets = new Set<Socket>();
/** Each conversation: the commands, the decoded AUTH PLAIN credentials, the message data. */
const sessions: { commands: string[]; auth?: string[]; data: string }[] = [];
let refuseAuth = false;

beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'exo-mail-'));
  writeFileSync(join(dir, 'playbook.yaml'), PLAYBOOK);
  writeFileSync(join(dir, 'tenant.json'), JSON.stringify(driftedTenant()));
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const session = { commands: [] as string[], data: '' } as (typeof sessions)[number];
    sessions.push(session);
    let inData = false;
    let buffer = '';
    socket.write('220 relay.test ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let at: number;
      while ((at = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            socket.write('250 2.0.0 queued\r\n');
          } else session.data += `${line}\n`;
          continue;
        }
        session.commands.push(line.startsWith('AUTH') ? line.split(' ').slice(0, 2).join(' ') : line);
        const verb = line.split(' ')[0]!.toUpperCase();
        if (verb === 'EHLO') socket.write('250-relay.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n');
        else if (verb === 'AUTH') {
          session.auth = Buffer.from(line.split(' ')[2] ?? '', 'base64').toString('utf8').split('\0');
          socket.write(refuseAuth ? '535 5.7.8 authentication failed\r\n' : '235 2.7.0 ok\r\n');
        } else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  sockets.forEach((s) => s.destroy());
  await new Promise((r) => server?.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function verify(extra: string[]) {
  sessions.length = 0;
  return execa('node', [CLI, 'verify', 'playbook.yaml', '--target', 'sim:tenant.json', '--log-file', 'run.jsonl', ...extra], {
    cwd: dir,
    reject: false,
    env: { RELAY_PW: PASSWORD, EXO_PLAYBOOK_LOCK_DIR: join(dir, 'locks'), NO_COLOR: '1' },
  });
}

const MAIL = ['--notify-mail', 'ops@contoso.com,secops@contoso.com', '--notify-smtp', '', '--notify-smtp-password', 'env:RELAY_PW', '--notify-mail-from', 'alerts@contoso.com'];
const withRelay = () => MAIL.map((a) => (a === '' ? `smtp://alerts%40contoso.com@127.0.0.1:${port}` : a));

describe('--notify-mail through an SMTP relay', () => {
  it('mails the drift to every recipient, signed in with the referenced password, which is nowhere else', async () => {
    refuseAuth = false;
    const r = await verify(withRelay());
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).not.toContain('warning: --notify-mail');
    expect(sessions).toHaveLength(1);
    const [s] = sessions;
    expect(s!.auth).toEqual(['', 'alerts@contoso.com', PASSWORD]);
    expect(s!.commands).toEqual(expect.arrayContaining(['AUTH PLAIN', 'MAIL FROM:<alerts@contoso.com>', 'RCPT TO:<ops@contoso.com>', 'RCPT TO:<secops@contoso.com>', 'DATA']));
    expect(s!.data).toMatch(/^Subject: exo-playbook: Drift found by verify smtp-auth-disable$/m);
    expect(s!.data).toContain('Tenant: contoso.onmicrosoft.com (sim:');
    expect(s!.data).toContain('Verify: ');
    for (const text of [r.stdout, r.stderr, readFileSync(join(dir, 'run.jsonl'), 'utf8')]) expect(text).not.toContain(PASSWORD);
  });

  it('a relay that refuses the sign-in: a warning, and the exit code is still the run\'s', async () => {
    refuseAuth = true;
    const r = await verify(withRelay());
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('warning: --notify-mail: notification not sent: the relay answered 535');
    expect(r.stderr).not.toContain(PASSWORD);
  });

  it('a password given inline, or a relay without --notify-mail, is refused before anything is read', async () => {
    const inline = await verify(withRelay().map((a) => (a === 'env:RELAY_PW' ? PASSWORD : a)));
    expect(inline.exitCode).toBe(1);
    expect(inline.stderr).toContain('--notify-smtp-password takes env:NAME or file:PATH, never the password itself');
    expect(inline.stderr).not.toContain(PASSWORD);
    const alone = await verify(['--notify-smtp', `smtp://127.0.0.1:${port}`]);
    expect(alone.exitCode).toBe(1);
    expect(alone.stderr).toContain('go with --notify-mail');
    expect(sessions).toHaveLength(0);
  });
});
