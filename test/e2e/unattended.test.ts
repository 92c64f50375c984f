/**
 * docs/OPERATIONS.md's cron wrapper, taken from the document itself and run as written (only the
 * install paths and --target sim: are substituted): the scheduled drift check end to end, with no
 * TTY, its environment from a file, the webhook URL only in that file, and the exit code as signal.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, driftedTenant, ROOT } from './engine-support.js';
import type { TenantState } from '../../src/exchange/simulator/state.js';

let dir: string;
let server: ReturnType<typeof createServer>;
const posts: { text: string; summary: string }[] = [];

/** The wrapper script block of docs/OPERATIONS.md, with the install paths moved into `dir`. */
function wrapperFromDocs(): string {
  const doc = readFileSync(join(ROOT, 'docs', 'OPERATIONS.md'), 'utf8');
  const block = /```sh\n(#!\/bin\/sh\n# \/usr\/local\/bin\/exo-playbook-drift-check\n[\s\S]*?)```/.exec(doc);
  if (!block) throw new Error('docs/OPERATIONS.md no longer has the cron wrapper this test runs');
  return block[1]!
    .replace(/\/usr\/local\/bin\/exo-playbook(?= )/g, `node ${CLI}`)
    .replaceAll('/etc/exo-playbook', join(dir, 'etc'))
    .replaceAll('/var/lib/exo-playbook', join(dir, 'lib'))
    .replaceAll('/var/log/exo-playbook', join(dir, 'log'))
    .replace('--notify-webhook env:EXO_WEBHOOK', `--notify-webhook env:EXO_WEBHOOK --target sim:${join(dir, 'lib', 'tenant.json')}`);
}

beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'exo-unattended-'));
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      posts.push(JSON.parse(raw));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  for (const sub of ['etc', 'lib', 'log', 'bin']) mkdirSync(join(dir, sub));
  copyFileSync(join(ROOT, 'playbooks', 'smtp-auth-drift-check.yaml'), join(dir, 'etc', 'smtp-auth-drift-check.yaml'));
  copyFileSync(join(ROOT, 'playbooks', 'allowlist.example.txt'), join(dir, 'etc', 'allowlist.example.txt'));
  const port = (server.address() as AddressInfo).port;
  writeFileSync(join(dir, 'etc', 'env'), `EXO_APP_ID=00000000-0000-0000-0000-000000000001\nEXO_CERT_PEM=${join(dir, 'etc', 'exo.pem')}\nEXO_WEBHOOK=http://127.0.0.1:${port}/hook/SECRET-HOOK\n`, { mode: 0o600 });
  // logger writes to syslog; record its arguments instead.
  writeFileSync(join(dir, 'bin', 'logger'), `#!/bin/sh\necho "$@" >> ${join(dir, 'log', 'syslog')}\n`);
  chmodSync(join(dir, 'bin', 'logger'), 0o755);
  writeFileSync(join(dir, 'bin', 'drift-check'), wrapperFromDocs());
  chmodSync(join(dir, 'bin', 'drift-check'), 0o755);
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function tenant(drift: boolean): TenantState {
  const state = driftedTenant(0);
  state.transportConfig.SmtpClientAuthenticationDisabled = true;
  for (const m of state.mailboxes) m.SmtpClientAuthenticationDisabled = null;
  for (const local of ['scanner-floor2', 'erp-notifications']) {
    const address = `${local}@contoso.com`;
    state.mailboxes.push({ ...state.mailboxes[0]!, Guid: `00000000-0000-4000-8000-${Buffer.from(local).toString('hex').slice(0, 12)}`, Name: local, Alias: local, PrimarySmtpAddress: address, UserPrincipalName: address, EmailAddresses: [`SMTP:${address}`], SmtpClientAuthenticationDisabled: false });
  }
  if (drift) state.transportConfig.SmtpClientAuthenticationDisabled = false;
  return state;
}

/** As cron runs it: /bin/sh, a bare environment, no TTY. */
function runFromCron() {
  return execa('/bin/sh', [join(dir, 'bin', 'drift-check')], {
    reject: false,
    extendEnv: false,
    env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, HOME: dir, TMPDIR: tmpdir() },
    stdin: 'ignore',
  });
}

describe('the documented cron wrapper', () => {
  it('compliant: exit 0, nothing posted, nothing logged to syslog', async () => {
    writeFileSync(join(dir, 'lib', 'tenant.json'), JSON.stringify(tenant(false)));
    posts.length = 0;
    const result = await runFromCron();
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(posts).toHaveLength(0);
    expect(existsSync(join(dir, 'log', 'syslog'))).toBe(false);
  });

  it('drift: exit 2, one webhook post, a syslog line, JSON-lines events without the URL', async () => {
    writeFileSync(join(dir, 'lib', 'tenant.json'), JSON.stringify(tenant(true)));
    posts.length = 0;
    const result = await runFromCron();
    expect(result.exitCode, result.stderr).toBe(2);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.summary).toBe('Drift found by verify smtp-auth-drift-check');
    expect(readFileSync(join(dir, 'log', 'syslog'), 'utf8')).toContain('-t exo-playbook -p user.warning SMTP AUTH drift found (exit 2)');
    const log = readFileSync(join(dir, 'log', 'drift-check.jsonl'), 'utf8');
    expect(log.trim().split('\n').map((l) => JSON.parse(l).type)).toEqual(expect.arrayContaining(['run-start', 'verify', 'run-end']));
    expect(log + result.stdout + result.stderr).not.toContain('SECRET-HOOK');
    expect(result.stdout + result.stderr).not.toContain(String.fromCharCode(27));
  });
});
