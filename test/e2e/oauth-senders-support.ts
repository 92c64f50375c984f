/**
 * A workspace for the smtp-auth/oauth-senders tests: a small tenant with two apps known to Entra
 * (state.entra), a playbook that allowlists their mailboxes and provisions one app per grant kind,
 * and the built CLI run against `sim:` or against pwsh + the stub module.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { replayChangeLogSync } from '../../src/exchange/simulator/change-log.js';
import type { TenantState } from '../../src/exchange/simulator/state.js';
import { mailbox, tenant } from '../support/tenant.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'bin', 'exo-playbook.js');

export const SCANNER = { appId: '11111111-1111-4111-8111-111111111111', sp: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', registration: 'abababab-abab-4bab-8bab-abababababab' };
export const BILLING = { appId: '22222222-2222-4222-8222-222222222222', sp: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb' };

export function oauthTenant(): TenantState {
  const state = tenant([mailbox('scanner', null), mailbox('billing', null), mailbox('alice', null), mailbox('bob', null)]);
  state.entra = {
    applications: [
      { appId: SCANNER.appId, servicePrincipalObjectId: SCANNER.sp, applicationObjectId: SCANNER.registration, displayName: 'Scanner app' },
      { appId: BILLING.appId, servicePrincipalObjectId: BILLING.sp, displayName: 'Billing app', smtpSendAsAppConsented: true },
    ],
  };
  return state;
}

/** The steps after `steps:`; line numbers of the whole file are what error locations name. */
export const OAUTH_STEPS = `  - id: allow
    uses: smtp-auth/allowlist
    with: { mailboxes: [scanner@contoso.com, billing@contoso.com] }
  - id: oauth
    uses: smtp-auth/oauth-senders
    with:
      applications:
        - appId: ${SCANNER.appId}
          servicePrincipalObjectId: ${SCANNER.sp}
          displayName: Scanner app
          mailboxes: [scanner@contoso.com]
        - appId: ${BILLING.appId}
          servicePrincipalObjectId: ${BILLING.sp}
          displayName: Billing app
          grant: mailbox-permission
          mailboxes: [billing@contoso.com]
`;

export function playbookText(steps = OAUTH_STEPS, auth = '{ method: azure-cli }'): string {
  return `apiVersion: exo-playbook/v1
name: oauth-migration
tenant:
  organization: contoso.onmicrosoft.com
  auth: ${auth}
acceptNoUsageEvidence: { reason: the oauth tests have no usage source }
steps:
${steps}`;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class OAuthWorkspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'exo-oauth-'));
  readonly state = join(this.dir, 'tenant.json');
  readonly playbook = join(this.dir, 'oauth.yaml');
  readonly runsDir = join(this.dir, 'runs');

  constructor(state: TenantState = oauthTenant(), text = playbookText()) {
    this.writeState(state);
    writeFileSync(this.playbook, text);
  }

  writeState(state: TenantState): void {
    writeFileSync(this.state, `${JSON.stringify(state, null, 2)}\n`);
  }

  readState(): TenantState {
    const state = JSON.parse(readFileSync(this.state, 'utf8')) as TenantState;
    replayChangeLogSync(this.state, state);
    return state;
  }

  file(name: string): string {
    return join(this.dir, name);
  }

  run(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    const base: NodeJS.ProcessEnv = { ...process.env, EXO_PLAYBOOK_LOCK_DIR: join(this.dir, 'locks'), ...env };
    delete base.NO_COLOR;
    delete base.FORCE_COLOR;
    return new Promise((done) => {
      execFile(process.execPath, [CLI, ...args], { cwd: this.dir, env: base, timeout: 120_000 }, (error, stdout, stderr) => {
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The state with the app-access lists an undo leaves empty treated as absent (the tenant has no such objects either way). */
export function withoutEmptyGrantLists(state: TenantState): TenantState {
  const copy = { ...state } as Record<string, unknown>;
  for (const key of ['servicePrincipals', 'managementScopes', 'managementRoleAssignments', 'mailboxPermissions']) {
    if (Array.isArray(copy[key]) && (copy[key] as unknown[]).length === 0) delete copy[key];
  }
  return copy as unknown as TenantState;
}
