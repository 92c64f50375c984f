/**
 * The jump-host story end to end: the shipped drift-check playbook on a schedule, with
 * --notify-webhook pointing at a chat webhook (here a server on 127.0.0.1 that closes itself),
 * --log-file for the morning after, and --keep-runs for the disk.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, driftedTenant, ROOT } from './engine-support.js';
import type { TenantState } from '../../src/exchange/simulator/state.js';

const received: { contentType: string | undefined; body: { text: string; summary: string } }[] = [];
let server: ReturnType<typeof createServer>;
let url: string;
let dir: string;

beforeAll(async () => {
  assertBuilt();
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      received.push({ contentType: req.headers['content-type'], body: JSON.parse(raw) });
      res.writeHead(200).end('1');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhookb2/SECRET-TOKEN-PART`;
  dir = mkdtempSync(join(tmpdir(), 'exo-notify-'));
  copyFileSync(join(ROOT, 'playbooks', 'smtp-auth-drift-check.yaml'), join(dir, 'drift-check.yaml'));
  copyFileSync(join(ROOT, 'playbooks', 'allowlist.example.txt'), join(dir, 'allowlist.example.txt'));
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The allowlist's two devices on ($false), the organization off, everyone else inheriting. */
function compliantTenant(): TenantState {
  const state = driftedTenant(0);
  state.transportConfig.SmtpClientAuthenticationDisabled = true;
  for (const m of state.mailboxes) m.SmtpClientAuthenticationDisabled = null;
  for (const local of ['scanner-floor2', 'erp-notifications']) {
    const address = `${local}@contoso.com`;
    state.mailboxes.push({ ...state.mailboxes[0]!, Guid: `00000000-0000-4000-8000-${Buffer.from(local).toString('hex').slice(0, 12)}`, Name: local, Alias: local, DisplayName: local, PrimarySmtpAddress: address, UserPrincipalName: address, EmailAddresses: [`SMTP:${address}`], SmtpClientAuthenticationDisabled: false });
  }
  return state;
}

function verify(state: TenantState, extra: string[] = []) {
  const stateFile = join(dir, 'state.json');
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  // No TTY, and the webhook URL only in the environment, never on argv.
  return execa('node', [CLI, 'verify', join(dir, 'drift-check.yaml'), '--target', `sim:${stateFile}`, '--notify-webhook', 'env:EXO_WEBHOOK', ...extra], {
    cwd: dir,
    reject: false,
    env: { EXO_WEBHOOK: url, EXO_APP_ID: '00000000-0000-0000-0000-000000000001', EXO_CERT_PEM: join(dir, 'cert.pem'), NO_COLOR: '1' },
  });
}

describe('drift check with --notify-webhook', () => {
  it('posts nothing when the tenant is compliant', async () => {
    received.length = 0;
    const result = await verify(compliantTenant());
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(received).toHaveLength(0);
  });

  it('posts one well-formed message on drift, and logs events without the URL', async () => {
    received.length = 0;
    const drifted = compliantTenant();
    drifted.mailboxes.find((m) => m.Name === 'alice')!.SmtpClientAuthenticationDisabled = false;
    const log = join(dir, 'logs', 'drift.jsonl');
    const result = await verify(drifted, ['--log-file', log]);
    expect(result.exitCode, result.stderr).toBe(2);
    expect(received).toHaveLength(1);
    const [message] = received;
    expect(message!.contentType).toBe('application/json');
    expect(Object.keys(message!.body).sort()).toEqual(['summary', 'text']);
    expect(message!.body.summary).toBe('Drift found by verify smtp-auth-drift-check');
    expect(message!.body.text).toContain('Tenant: contoso.onmicrosoft.com');
    expect(message!.body.text).toContain('alice@contoso.com');
    const events = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.type)).toContain('run-end');
    const everything = readFileSync(log, 'utf8') + result.stdout + result.stderr;
    expect(everything).not.toContain('SECRET-TOKEN-PART');
    expect(result.stdout).not.toContain(String.fromCharCode(27));
  });

  it('a missing env:NAME webhook is bad input before anything runs', async () => {
    received.length = 0;
    const stateFile = join(dir, 'state.json');
    const result = await execa('node', [CLI, 'verify', join(dir, 'drift-check.yaml'), '--target', `sim:${stateFile}`, '--notify-webhook', 'env:NOT_SET_ANYWHERE'], {
      cwd: dir,
      reject: false,
      env: { EXO_APP_ID: 'x', EXO_CERT_PEM: 'y' },
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('NOT_SET_ANYWHERE is not set');
    expect(received).toHaveLength(0);
  });
});

describe('apply --keep-runs', () => {
  it('keeps only the newest N run directories of the playbook', async () => {
    const runs = join(dir, 'runs');
    mkdirSync(runs, { recursive: true });
    for (const old of ['20200101T000000Z-smtp-auth-drift-check', '20200102T000000Z-smtp-auth-drift-check', '20200101T000000Z-other']) mkdirSync(join(runs, old));
    const stateFile = join(dir, 'state.json');
    writeFileSync(stateFile, JSON.stringify(compliantTenant(), null, 2));
    const result = await execa('node', [CLI, 'apply', join(dir, 'drift-check.yaml'), '--target', `sim:${stateFile}`, '--yes', '--runs-dir', runs, '--keep-runs', '2'], {
      cwd: dir,
      reject: false,
      env: { EXO_APP_ID: 'x', EXO_CERT_PEM: 'y', NO_COLOR: '1' },
    });
    expect(result.exitCode, result.stderr).toBe(0);
    const left = readdirSync(runs).sort();
    expect(left).toHaveLength(3);
    expect(left).toContain('20200101T000000Z-other');
    expect(left).toContain('20200102T000000Z-smtp-auth-drift-check');
    expect(left).not.toContain('20200101T000000Z-smtp-auth-drift-check');
  });
});
