/**
 * A reviewer reading a text or markdown plan approves exactly the call a powershell write step will
 * run: the cmdlet and every parameter, each value as a PowerShell literal (quotes doubled, $null,
 * $true), not just "(run)".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cli, playbookWith, workspace, type Workspace } from './smtp-auth-support.js';

let ws: Workspace | undefined;
afterEach(() => ws?.cleanup());

const CALL = "Set-CASMailbox -Identity 'bob@contoso.com' -SmtpClientAuthenticationDisabled $true -PopEnabled:$false -ActiveSyncMailboxPolicy 'O''Brien''s policy'";

function escapeHatch(w: Workspace): string {
  return playbookWith(
    w,
    [
      '  - id: lock-bob',
      '    uses: powershell',
      '    with:',
      '      cmdlet: Set-CASMailbox',
      '      parameters:',
      '        Identity: bob@contoso.com',
      '        SmtpClientAuthenticationDisabled: true',
      '        PopEnabled: false',
      '        ActiveSyncMailboxPolicy: "O\'Brien\'s policy"',
      '      allowWrite: true',
    ].join('\n'),
  );
}

describe('plan of a powershell write step shows the call verbatim', () => {
  it('text: the change line says what runs, parameters and values included', async () => {
    ws = workspace();
    const plan = await cli(['plan', escapeHatch(ws), '--target', `sim:${ws.state}`]);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toContain(`why: powershell step runs verbatim (allowWrite: true): ${CALL}`);
  });

  it('markdown: the reason cell holds the same call', async () => {
    ws = workspace();
    const plan = await cli(['plan', escapeHatch(ws), '--target', `sim:${ws.state}`, '--format', 'markdown']);
    expect(plan.code, plan.stderr).toBe(2);
    const row = plan.stdout.split('\n').find((line) => line.startsWith('| Set-CASMailbox'));
    // Markdown escapes what a table would misread; unescaped, the cell is the call.
    expect(row?.replace(/\\(.)/g, '$1')).toContain(CALL);
  });
});
