/**
 * The promise of `explain --target`: the printed lines bind exactly what the runner binds. Run the
 * printed script in real pwsh with the stub module, run the same plan's changes through PwshSession,
 * and compare what the stub recorded, byte for byte, hostile values included.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { defaultDeps } from '../../src/engine/deps.js';
import { runPlan } from '../../src/engine/run-plan.js';
import { CmdletFailure } from '../../src/exchange/session.js';
import { explainPlan } from '../../src/explain/targeted.js';
import { renderExplainText } from '../../src/explain/render.js';
import { fixtureTenant, noPwsh, pwshPath, startStubSession, stubModulePath, tempDir, writeState } from '../exchange/pwsh/pwsh-for-tests.js';
import { replayChangeLogSync } from '../../src/exchange/simulator/change-log.js';

/** Every quote PowerShell knows, a subexpression, a backtick escape, a statement separator. */
const HOSTILE = "it's \u2018q\u2019 \u201Ar\u201B $(Get-Date) `n; exit 1 ''";
const HOSTILE_MAILBOX = "o'brien\u2019$(x)`;@contoso.com";

function recorded(file: string): unknown[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .filter((call) => !/^(Connect|Disconnect)-/.test(call.cmdlet));
}

const HOSTILE_GUID = '00000000-0000-4000-8000-00000000beef';

describe.skipIf(noPwsh)('explain --target round trip through real pwsh', () => {
  it('the printed script and the runner make identical calls', async () => {
    const dir = tempDir('explain');
    const state = fixtureTenant((s) => {
      s.transportConfig.SmtpClientAuthenticationDisabled = false;
      const template = s.mailboxes[0]!;
      // A tenant-side identity the playbook never wrote: exclusive resets its stray $false.
      s.mailboxes.push({
        ...template,
        Guid: HOSTILE_GUID,
        Name: HOSTILE_MAILBOX,
        DisplayName: 'Hostile',
        Alias: 'hostile',
        PrimarySmtpAddress: HOSTILE_MAILBOX,
        UserPrincipalName: HOSTILE_MAILBOX,
        EmailAddresses: [`SMTP:${HOSTILE_MAILBOX}`],
        SmtpClientAuthenticationDisabled: false,
      });
    });
    const stateFile = writeState(dir, state);
    const keep = state.mailboxes.find((m) => m.SmtpClientAuthenticationDisabled !== false && m.PrimarySmtpAddress !== HOSTILE_MAILBOX)!;
    const playbook = join(dir, 'playbook.yaml');
    writeFileSync(
      playbook,
      `apiVersion: exo-playbook/v1
name: roundtrip
tenant: { organization: ${state.organization.Name}, auth: { method: azure-cli } }
steps:
  - id: usage
    uses: smtp-auth/usage
    with: { days: 3, notifyAddress: [admin@contoso.com, sec@contoso.com], wait: false }
  - id: org
    uses: transport-config
    with: { smtpClientAuthenticationDisabled: true }
  - id: allow
    uses: smtp-auth/allowlist
    with: { mailboxes: [${keep.PrimarySmtpAddress}], exclusive: true }
  - id: raw
    uses: powershell
    with:
      cmdlet: Set-CASMailbox
      allowWrite: true
      parameters: { Identity: ${JSON.stringify(HOSTILE)}, SmtpClientAuthenticationDisabled: null }
`,
    );

    const plan = await runPlan({ deps: await defaultDeps(), target: `sim:${stateFile}`, env: {}, cwd: dir, playbookFile: playbook, acceptBreakage: ['all'] });
    const changes = plan.steps.flatMap((s) => s.changes);
    expect(changes.map((c) => c.call.cmdlet).sort()).toEqual(
      expect.arrayContaining(['Set-CASMailbox', 'Set-TransportConfig', 'Start-HistoricalSearch']),
    );
    // The allowlist writes by the Guid the bulk read returned; the hostile address stays the target.
    expect(changes.some((c) => c.target === HOSTILE_MAILBOX && c.call.parameters.Identity === HOSTILE_GUID)).toBe(true);

    const script = renderExplainText({ playbook: 'roundtrip', organization: state.organization.Name, target: plan.tenant.target }, explainPlan(plan));
    expect(script).toContain('Set-TransportConfig -SmtpClientAuthenticationDisabled $true -Confirm:$false');

    // 1. The printed script, as a user would run it.
    const scriptState = join(dir, 'script-state.json');
    const scriptCalls = join(dir, 'script-calls.jsonl');
    copyFileSync(stateFile, scriptState);
    const scriptFile = join(dir, 'explain.ps1');
    writeFileSync(scriptFile, `Import-Module '${join(stubModulePath, 'ExchangeOnlineManagement').replace(/'/g, "''")}' -DisableNameChecking\n${script}`);
    const ran = await execa(pwshPath!, ['-NoLogo', '-NoProfile', '-NonInteractive', '-File', scriptFile], {
      env: { EXO_PLAYBOOK_STUB_STATE: scriptState, EXO_PLAYBOOK_STUB_CALLS: scriptCalls },
      reject: false,
    });
    expect(ran.exitCode, ran.stderr).toBe(0);

    // 2. The runner: the same changes through PwshSession.
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

    const fromScript = recorded(scriptCalls);
    const fromRunner = recorded(runnerCalls);
    expect(fromScript).toHaveLength(changes.length);
    expect(fromScript).toEqual(fromRunner);
    expect(JSON.stringify(fromScript)).toContain(JSON.stringify(HOSTILE));
    expect(JSON.stringify(fromScript)).toContain(JSON.stringify(HOSTILE_GUID));
    // Both left the tenant the same (except the search's own random JobId and time).
    const tenant = (f: string) => {
      // File plus the change log the stub module leaves beside it (docs/STATE-FILE.md).
      const s = JSON.parse(readFileSync(f, 'utf8'));
      replayChangeLogSync(f, s);
      return { transport: s.transportConfig, mailboxes: s.mailboxes };
    };
    expect(tenant(scriptState)).toEqual(tenant(runnerState));
    expect(tenant(scriptState).transport.SmtpClientAuthenticationDisabled).toBe(true);
  });
});
