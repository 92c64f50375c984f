/**
 * End-to-end support for the SMTP AUTH tests: a small hand-made tenant (state file), the shipped
 * disable playbook copied next to an allowlist and a usage CSV, and a runner for the built CLI.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TenantState, TriState } from '../../src/exchange/simulator/state.js';
import { mailbox, tenant } from '../support/tenant.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'bin', 'exo-playbook.js');

export { mailbox };

/**
 * Organization on; scanner (active, $null) and erp ($false) are allowlisted; stray1/stray2 are
 * stray $false; locked has an explicit $true; alice is an active Basic sender nobody allowlisted.
 */
export function driftedTenant(): TenantState {
  return tenant(
    [
      mailbox('scanner', null),
      mailbox('erp', false),
      mailbox('stray1', false),
      mailbox('stray2', false),
      mailbox('locked', true),
      mailbox('alice', null),
      mailbox('bob', null),
      mailbox('carol', null, { RecipientTypeDetails: 'SharedMailbox' }),
    ],
    { authenticationPolicies: [{ Name: 'Block Basic SMTP', AllowBasicAuthSmtp: false }] },
  );
}

/** The admin center's SMTP AUTH clients report header (shared/EXCHANGE-FACTS.md, "Other usage sources"). */
export const CLIENTS_REPORT_HEADER = 'Sender address,Domain,TLS 1.0 %,TLS 1.1 %,TLS 1.2 %,Messages sent,Authentication protocol';

/** As the admin center exports it: no date column (its period is the file's time unless the playbook says). */
export const USAGE_CSV =
  `\uFEFF${CLIENTS_REPORT_HEADER}\r\n` +
  'scanner@contoso.com,contoso.com,0,0,100,"1,204",Basic Authentication\r\n' +
  'alice@contoso.com,contoso.com,0,0,100,24,Basic Authentication\r\n' +
  'erp@contoso.com,contoso.com,0,0,100,310,OAuth\r\n';

/** The shipped disable playbook's usage `with:` replaced (e.g. by a historical search's settings). */
export function withUsageStep(playbookText: string, usageWith: string): string {
  const shipped = '    with:\n      report: smtp-auth-clients-report.csv\n      history: smtp-auth-usage.history.json\n';
  if (!playbookText.includes(shipped)) throw new Error("the shipped disable playbook's usage step changed: update withUsageStep");
  return playbookText.replace(shipped, `    with: ${usageWith}\n`);
}

export interface Workspace {
  dir: string;
  state: string;
  playbook: string;
  file(name: string): string;
  readState(): TenantState;
  cleanup(): void;
}

/** A temp dir with the tenant, the shipped disable playbook (allowlist and report renamed) and its inputs. */
export function workspace(options: { allowlist?: string; acceptBreakage?: string[]; tenant?: TenantState } = {}): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'exo-smtp-auth-'));
  const state = join(dir, 'tenant.json');
  writeFileSync(state, JSON.stringify(options.tenant ?? driftedTenant(), null, 2));
  writeFileSync(join(dir, 'allowlist.txt'), options.allowlist ?? '# devices\nscanner@contoso.com   # printer\nerp@contoso.onmicrosoft.com\n');
  writeFileSync(join(dir, 'smtp-auth-clients-report.csv'), USAGE_CSV);
  let text = readFileSync(join(ROOT, 'playbooks', 'smtp-auth-disable.yaml'), 'utf8').replace('${file:allowlist.example.txt}', '${file:allowlist.txt}');
  if (options.acceptBreakage) text = text.replace('acceptBreakage: []', `acceptBreakage: [${options.acceptBreakage.join(', ')}]`);
  const playbook = join(dir, 'smtp-auth-disable.yaml');
  writeFileSync(playbook, text);
  return {
    dir,
    state,
    playbook,
    file: (name) => join(dir, name),
    readState: () => JSON.parse(readFileSync(state, 'utf8')) as TenantState,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Placeholders for the certificate references of the shipped playbooks (the simulator ignores sign-in). */
export const PLAYBOOK_ENV = {
  EXO_APP_ID: '00000000-0000-0000-0000-000000000000',
  EXO_CERT_PEM: '/nonexistent/cert.pem',
  NO_COLOR: '1',
  // The default lock folder is in HOME (lock.ts lockDir): tests keep their locks in the temp folder.
  EXO_PLAYBOOK_LOCK_DIR: join(tmpdir(), 'exo-playbook-locks'),
};

export function cli(args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<CliResult> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...PLAYBOOK_ENV, ...env }, timeout: 240_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** The switches of every mailbox, by primary address. */
export function switches(state: TenantState): Record<string, TriState> {
  return Object.fromEntries(state.mailboxes.map((m) => [m.PrimarySmtpAddress, m.SmtpClientAuthenticationDisabled]));
}

/** A one-step playbook `escape.yaml` in the workspace (no sign-in needs): `step` is the YAML of the step. */
export function playbookWith(w: Workspace, step: string): string {
  const file = w.file('escape.yaml');
  writeFileSync(
    file,
    [
      'apiVersion: exo-playbook/v1',
      'name: escape-hatch',
      'tenant:',
      '  organization: contoso.onmicrosoft.com',
      '  auth: { method: azure-cli }',
      'steps:',
      step,
      '',
    ].join('\n'),
  );
  return file;
}

/**
 * The environment that points `--target exchange` at real pwsh and the stub module over the
 * workspace's state file, with the workspace's own lock folder (another test file may apply to the
 * same organization through pwsh at the same time).
 */
export function stubEnvironment(w: Workspace, pwshPath: string | undefined): Record<string, string> {
  return {
    EXO_PLAYBOOK_LOCK_DIR: w.file('locks'),
    EXO_PLAYBOOK_PWSH: pwshPath ?? 'pwsh',
    EXO_PLAYBOOK_MODULE_PATH: join(ROOT, 'test', 'fixtures', 'modules'),
    EXO_PLAYBOOK_STUB_STATE: w.state,
  };
}
