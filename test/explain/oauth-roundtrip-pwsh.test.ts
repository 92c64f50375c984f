/**
 * `explain --target` for smtp-auth/oauth-senders prints exact PowerShell: the printed writes, run in
 * real pwsh against the stub, make the same calls as the runner and leave the same grants; the
 * inverses printed beside them ("undone by rollback with:"), run newest first, leave none. A mailbox
 * with a quote in its address checks the OPATH filter's quoting inside the PowerShell literal.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { defaultDeps } from '../../src/engine/deps.js';
import { runPlan } from '../../src/engine/run-plan.js';
import { CmdletFailure } from '../../src/exchange/session.js';
import { replayChangeLogSync } from '../../src/exchange/simulator/change-log.js';
import type { TenantState } from '../../src/exchange/simulator/state.js';
import { explainPlan } from '../../src/explain/targeted.js';
import { renderExplainText } from '../../src/explain/render.js';
import { noPwsh, pwshPath, startStubSession, stubModulePath, tempDir, writeState } from '../exchange/pwsh/pwsh-for-tests.js';
import { mailbox, tenant } from '../support/tenant.js';

const APP_A = { appId: '11111111-1111-4111-8111-111111111111', sp: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa' };
const APP_B = { appId: '22222222-2222-4222-8222-222222222222', sp: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb' };

function recorded(file: string): unknown[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .filter((call) => !/^(Connect|Disconnect)-/.test(call.cmdlet));
}

function grants(file: string): Pick<TenantState, 'servicePrincipals' | 'managementScopes' | 'managementRoleAssignments' | 'mailboxPermissions'> {
  const s = JSON.parse(readFileSync(file, 'utf8')) as TenantState;
  replayChangeLogSync(file, s);
  return { servicePrincipals: s.servicePrincipals ?? [], managementScopes: s.managementScopes ?? [], managementRoleAssignments: s.managementRoleAssignments ?? [], mailboxPermissions: s.mailboxPermissions ?? [] };
}

async function runScript(dir: string, name: string, script: string, stateFile: string, callsFile: string): Promise<void> {
  const file = join(dir, `${name}.ps1`);
  writeFileSync(file, `Import-Module '${join(stubModulePath, 'ExchangeOnlineManagement').replace(/'/g, "''")}' -DisableNameChecking\n$ErrorActionPreference = 'Stop'\n${script}`);
  const ran = await execa(pwshPath!, ['-NoLogo', '-NoProfile', '-NonInteractive', '-File', file], { env: { EXO_PLAYBOOK_STUB_STATE: stateFile, EXO_PLAYBOOK_STUB_CALLS: callsFile }, reject: false });
  expect(ran.exitCode, ran.stderr).toBe(0);
}

describe.skipIf(noPwsh)('explain --target of oauth senders, through real pwsh', () => {
  it('prints writes that bind what the runner binds, and inverses that undo them', { timeout: 180_000 }, async () => {
    const dir = tempDir('explain-oauth');
    const state = tenant([mailbox("o'brien", false), mailbox('billing', false)]);
    const stateFile = writeState(dir, state);
    const playbook = join(dir, 'playbook.yaml');
    writeFileSync(
      playbook,
      `apiVersion: exo-playbook/v1
name: oauth-roundtrip
tenant: { organization: ${state.organization.Name}, auth: { method: azure-cli } }
steps:
  - id: allow
    uses: smtp-auth/allowlist
    with: { mailboxes: ["o'brien@contoso.com", billing@contoso.com] }
  - id: oauth
    uses: smtp-auth/oauth-senders
    with:
      applications:
        - { appId: ${APP_A.appId}, servicePrincipalObjectId: ${APP_A.sp}, displayName: "Scanner's app", mailboxes: ["o'brien@contoso.com"] }
        - { appId: ${APP_B.appId}, servicePrincipalObjectId: ${APP_B.sp}, displayName: Billing, grant: mailbox-permission, mailboxes: [billing@contoso.com] }
`,
    );
    const plan = await runPlan({ deps: await defaultDeps(), target: `sim:${stateFile}`, env: {}, cwd: dir, playbookFile: playbook });
    const changes = plan.steps.flatMap((s) => s.changes);
    expect(changes.map((c) => c.call.cmdlet)).toEqual(['New-ServicePrincipal', 'New-ServicePrincipal', 'New-ManagementScope', 'New-ManagementRoleAssignment', 'Add-MailboxPermission']);
    const script = renderExplainText({ playbook: 'oauth-roundtrip', organization: state.organization.Name, target: plan.tenant.target }, explainPlan(plan));
    expect(script).toContain(`-RecipientRestrictionFilter 'PrimarySmtpAddress -eq ''o''''brien@contoso.com''' -Confirm:$false`);

    // 1. The printed script, as a user would run it; 2. the runner's calls through PwshSession.
    const scriptState = join(dir, 'script-state.json');
    const scriptCalls = join(dir, 'script-calls.jsonl');
    copyFileSync(stateFile, scriptState);
    await runScript(dir, 'explain', script, scriptState, scriptCalls);
    const runnerState = join(dir, 'runner-state.json');
    const runnerCalls = join(dir, 'runner-calls.jsonl');
    copyFileSync(stateFile, runnerState);
    const session = await startStubSession(runnerState, runnerCalls);
    try {
      for (const change of changes) {
        await session.invoke(change.call.cmdlet, change.call.parameters).catch((error) => {
          if (!(error instanceof CmdletFailure)) throw error;
        });
      }
    } finally {
      await session.close();
    }
    expect(recorded(scriptCalls)).toEqual(recorded(runnerCalls));
    expect(grants(scriptState)).toEqual(grants(runnerState));
    expect(grants(scriptState).managementScopes![0]!.RecipientRestrictionFilter).toBe("PrimarySmtpAddress -eq 'o''brien@contoso.com'");
    expect(grants(scriptState).mailboxPermissions).toHaveLength(1);

    // 3. The printed inverses, newest first, take every grant away again.
    const inverses = script
      .split('\n')
      .filter((l) => l.startsWith('# undone by rollback with: '))
      .map((l) => l.slice('# undone by rollback with: '.length))
      .reverse();
    expect(inverses).toHaveLength(changes.length);
    await runScript(dir, 'inverses', inverses.join('\n'), scriptState, join(dir, 'inverse-calls.jsonl'));
    expect(grants(scriptState)).toEqual({ servicePrincipals: [], managementScopes: [], managementRoleAssignments: [], mailboxPermissions: [] });
  });
});
