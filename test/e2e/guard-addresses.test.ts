/**
 * Acceptance matches a sender's mailbox by any of its addresses, and a sender that names no mailbox
 * is reported, never blocking (issue 10, point 1). Built CLI on a simulated tenant.
 */
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CLIENTS_REPORT_HEADER, cli, workspace, type Workspace } from './smtp-auth-support.js';

let ws: Workspace | undefined;
afterEach(() => ws?.cleanup());

function withUsage(csvRows: string[], options: Parameters<typeof workspace>[0] = {}): Workspace {
  const w = workspace(options);
  // "sender,protocol,messages" as rows of the real report's layout.
  const rows = csvRows.map((row) => {
    const [sender = '', protocol = '', messages = ''] = row.split(',');
    return [sender, sender.split('@')[1], 0, 0, 100, messages, protocol === 'Basic' ? 'Basic Authentication' : protocol].join(',');
  });
  writeFileSync(w.file('smtp-auth-clients-report.csv'), [CLIENTS_REPORT_HEADER, ...rows, ''].join('\r\n'));
  return w;
}

const apply = (w: Workspace, ...extra: string[]) => cli(['apply', w.playbook, '--target', `sim:${w.state}`, '--runs-dir', w.file('runs'), '--yes', ...extra]);

describe('lockout guard and addresses (built CLI, simulated tenant)', () => {
  it('--accept-breakage by the primary address covers a sender the usage data names by its UPN', async () => {
    ws = withUsage(['alice@contoso.onmicrosoft.com,Basic,24']);
    const refused = await apply(ws);
    expect(refused.code, refused.stdout + refused.stderr).toBe(4);
    expect(refused.stderr).toContain('alice@contoso.onmicrosoft.com');
    const applied = await apply(ws, '--accept-breakage', 'alice@contoso.com');
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(ws.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
  });

  it("the playbook's acceptBreakage by the UPN covers a sender the usage data names by its primary address", async () => {
    ws = withUsage(['alice@contoso.com,Basic,24'], { acceptBreakage: ['alice@contoso.onmicrosoft.com'] });
    const applied = await apply(ws);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
  });

  it('a sender that names no mailbox (typo, deleted account) is reported and does not block', async () => {
    ws = withUsage(['alice@contoso.com,Basic,24', 'scaner@contoso.com,Basic,7'], { acceptBreakage: ['alice@contoso.com'] });
    const plan = await cli(['plan', ws.playbook, '--target', `sim:${ws.state}`]);
    expect(plan.stdout).toMatch(/scaner@contoso\.com: seen in usage data .*names no mailbox of this tenant/);
    const applied = await apply(ws);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
  });
});
